/// An asciinema recording in the asciicast v2 format: a header line (a JSON object with `version` 2,
/// `width`, `height`, `timestamp`, `title`, `env`) and one `[seconds, "o", data]` line per output event.
public struct Asciicast: Sendable, Equatable {
  /// One output event: `data` written to the terminal `time` seconds after the start.
  public struct Event: Sendable, Equatable {
    /// Microseconds since the start (kept whole so the file is the same on every machine).
    public var microseconds: Int
    public var data: String

    public init(microseconds: Int, data: String) {
      self.microseconds = microseconds
      self.data = data
    }
  }

  public var width: Int
  public var height: Int
  /// Unix time of the start of the recording, in seconds.
  public var timestamp: Int
  public var title: String
  public var env: [String: String]
  public var events: [Event] = []

  public init(width: Int, height: Int, timestamp: Int, title: String, env: [String: String] = [:]) {
    self.width = width
    self.height = height
    self.timestamp = timestamp
    self.title = title
    self.env = env
  }

  /// The file's text: header line, then the events, each line ending with a newline.
  public var text: String {
    var header =
      "{\"version\": 2, \"width\": \(width), \"height\": \(height), \"timestamp\": \(timestamp)"
    if let last = events.last { header += ", \"duration\": \(Self.seconds(last.microseconds))" }
    header += ", \"title\": \(Self.json(title)), \"env\": {"
    header += env.keys.sorted().map { "\(Self.json($0)): \(Self.json(env[$0]!))" }.joined(separator: ", ")
    header += "}}"
    var lines = [header]
    for event in events {
      lines.append("[\(Self.seconds(event.microseconds)), \"o\", \(Self.json(event.data))]")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// `1.250000`: seconds with six decimals.
  static func seconds(_ microseconds: Int) -> String {
    let fraction = String(microseconds % 1_000_000)
    return "\(microseconds / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
  }

  /// `text` as a JSON string: quotes, backslashes and control characters escaped, the rest as UTF-8.
  static func json(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case _ where scalar.value < 0x20 || scalar.value == 0x7F:
        let hex = String(scalar.value, radix: 16)
        result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }
}
