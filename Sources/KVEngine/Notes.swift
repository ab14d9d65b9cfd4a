/// A note of a scenario: a sentence for the caption line, shown from the moment it names until the next
/// note. Scenario data only: the engine never reads it.
public struct ScenarioNote: Sendable, Equatable {
  public var moment: NoteMoment
  public var text: String

  public init(_ moment: NoteMoment, text: String) {
    self.moment = moment
    self.text = text
  }
}

/// When a note is reached.
public enum NoteMoment: Sendable, Equatable {
  /// After this many steps (0 is the state before any step).
  case step(Int)
  /// The first step of this iteration.
  case iteration(Int)
  /// The `nth` step (1 is the first) of this kind, of the request with this id when one is given.
  case event(EventKind, request: String?, nth: Int)
}
