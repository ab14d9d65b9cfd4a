import KVEngine

/// A note as a trace header writes it: the keys of a scenario file's note (`step`, `iteration`, `on`,
/// `nth`, `text`), so that the scenario loader reads it back.
public struct NoteJSON: Encodable, Sendable {
  public var step: Int?
  public var iteration: Int?
  public var on: String?
  public var nth: Int?
  public var text: String

  public init(_ note: ScenarioNote) {
    text = note.text
    switch note.moment {
    case .step(let value): step = value
    case .iteration(let value): iteration = value
    case .event(let kind, let request, let count):
      on = request.map { "\(kind.rawValue) \($0)" } ?? kind.rawValue
      nth = count == 1 ? nil : count
    }
  }
}
