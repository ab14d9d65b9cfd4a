/// A problem found while reading a scenario file, with the place it was found.
///
/// Its ``description`` reads like a compiler diagnostic:
/// `scenarios/x.yaml:3:10: cache.pages: must be between 1 and 4000000, got 1000000000000`.
public struct ScenarioError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file as named by the caller, or `""` when there is none.
  public var file: String
  /// The 1-based line of the offending text; 0 when unknown.
  public var line: Int
  /// The 1-based column (in Unicode scalars) of the offending text; 0 when unknown.
  public var column: Int
  /// The dotted path of the offending key, such as `cache.pages` or `requests[2].id`; `""` for the whole file.
  public var key: String
  /// What is wrong and what is allowed, short and lower-case.
  public var message: String

  /// Creates an error.
  public init(file: String, line: Int = 0, column: Int = 0, key: String = "", message: String) {
    self.file = file
    self.line = line
    self.column = column
    self.key = key
    self.message = message
  }

  /// `FILE:LINE:COLUMN: KEY: MESSAGE`, leaving out the parts that are unknown.
  public var description: String {
    var place = file
    if line > 0 {
      place += place.isEmpty ? "\(line)" : ":\(line)"
      if column > 0 { place += ":\(column)" }
    }
    var parts: [String] = []
    if !place.isEmpty { parts.append(place) }
    if !key.isEmpty { parts.append(key) }
    parts.append(message)
    return parts.joined(separator: ": ")
  }
}
