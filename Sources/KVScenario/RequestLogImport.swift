import Foundation

/// Request logs from any server, as the requests of a workload: CSV with a header row, JSON Lines of
/// objects, or one JSON object holding per-request arrays (a vLLM benchmark result).
public enum RequestLogImporter {
  /// Which fields hold the arrival time, the prompt length, the output length and (optionally) the
  /// prompt's block hash ids.
  public struct Columns: Sendable, Equatable {
    public var timestamp: String?
    public var prompt: String?
    public var output: String?

    public init(timestamp: String? = nil, prompt: String? = nil, output: String? = nil) {
      self.timestamp = timestamp
      self.prompt = prompt
      self.output = output
    }

    /// Names of the common published formats, tried in order when a column is not given.
    static let timestampNames = ["timestamp", "TIMESTAMP", "arrival_time", "time", "created", "start_time"]
    static let promptNames = [
      "input_length", "ContextTokens", "input_len", "prompt_len", "prompt_tokens", "input_tokens",
    ]
    static let outputNames = [
      "output_length", "GeneratedTokens", "output_len", "completion_tokens", "output_tokens",
    ]
  }

  /// How numeric timestamps are read; date-time strings are always absolute.
  public enum TimeUnit: String, Sendable, CaseIterable {
    case ms, s
  }

  /// The requests of a log, and the lines skipped as bad (with `skipBad`).
  public struct Parsed: Sendable {
    public var records: [MooncakeRecord]
    public var skipped: [ScenarioError]
  }

  /// Parses a log. A bad row names its line, its column (the field's first character) and the reason;
  /// with `skipBad` it is skipped and listed instead.
  public static func parse(
    _ data: Data, file: String, columns: Columns = Columns(), unit: TimeUnit = .ms, skipBad: Bool = false
  ) throws(ScenarioError) -> Parsed {
    guard let text = String(data: data, encoding: .utf8) else {
      throw ScenarioError(file: file, message: "not UTF-8 text")
    }
    let trimmed = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }
    guard let first = trimmed.first else { throw ScenarioError(file: file, message: "the log is empty") }
    var reader = Reader(file: file, columns: columns, unit: unit, skipBad: skipBad)
    if first == "{" && !text.contains("\n{") && !text.contains("\r\n{") {
      try reader.readBenchmark(data)
    } else if first == "{" {
      try reader.readJSONLines(text)
    } else {
      try reader.readCSV(text)
    }
    return Parsed(records: reader.records, skipped: reader.skipped)
  }

  private struct Reader {
    let file: String
    let columns: Columns
    let unit: TimeUnit
    let skipBad: Bool
    var records: [MooncakeRecord] = []
    var skipped: [ScenarioError] = []

    /// Records a row, or its error.
    mutating func add(_ row: Swift.Result<MooncakeRecord, ScenarioError>) throws(ScenarioError) {
      switch row {
      case .success(let record): records.append(record)
      case .failure(let error):
        guard skipBad else { throw error }
        skipped.append(error)
      }
    }

    func fail(_ line: Int, _ column: Int?, _ key: String, _ message: String) -> ScenarioError {
      ScenarioError(file: file, line: line, column: column ?? 0, key: key, message: message)
    }

    /// The field among `names` (or the one given) that `has` accepts.
    func pick(_ given: String?, _ names: [String], _ has: (String) -> Bool) -> String? {
      if let given { return has(given) ? given : nil }
      return names.first(where: has)
    }

    // MARK: CSV

    mutating func readCSV(_ text: String) throws(ScenarioError) {
      var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
        $0.hasSuffix("\r") ? $0.dropLast() : $0
      }
      if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }
      guard let headerIndex = lines.firstIndex(where: { !$0.allSatisfy(\.isWhitespace) }) else {
        throw ScenarioError(file: file, message: "the log is empty")
      }
      let header = Self.fields(lines[headerIndex]).map { $0.text.trimmingCharacters(in: .whitespaces) }
      func column(_ given: String?, _ names: [String], _ what: String) throws(ScenarioError) -> Int {
        guard let name = pick(given, names, { header.contains($0) }), let index = header.firstIndex(of: name)
        else {
          throw fail(
            headerIndex + 1, 1, "",
            "no \(what) column: the header has \(header.joined(separator: ", ")); give it with --\(what)-column"
              + (given.map { " (`\($0)` is not in the header)" } ?? ""))
        }
        return index
      }
      let timeColumn = try column(columns.timestamp, Columns.timestampNames, "timestamp")
      let promptColumn = try column(columns.prompt, Columns.promptNames, "prompt")
      let outputColumn = try column(columns.output, Columns.outputNames, "output")
      for index in (headerIndex + 1)..<lines.count where !lines[index].allSatisfy(\.isWhitespace) {
        let line = index + 1
        let fields = Self.fields(lines[index])
        try add(
          Result { () throws(ScenarioError) -> MooncakeRecord in
            func field(_ i: Int) throws(ScenarioError) -> Field {
              guard i < fields.count else {
                throw fail(
                  line, nil, header[i], "the row has \(fields.count) fields, the header \(header.count)")
              }
              return fields[i]
            }
            let time = try field(timeColumn)
            let prompt = try field(promptColumn)
            let output = try field(outputColumn)
            return MooncakeRecord(
              line: line, timestamp: try timestamp(time.text, line, time.column, header[timeColumn]),
              inputLength: try count(prompt.text, line, prompt.column, header[promptColumn]),
              outputLength: try count(output.text, line, output.column, header[outputColumn]), hashIDs: [])
          })
      }
    }

    struct Field {
      var text: String
      /// 1-based column of the field's first character.
      var column: Int
    }

    /// The comma-separated fields of a line; a field in double quotes may hold commas and `""`.
    static func fields(_ line: Substring) -> [Field] {
      var fields: [Field] = []
      var current = ""
      var start = 1
      var column = 1
      var quoted = false
      var index = line.startIndex
      while index < line.endIndex {
        let c = line[index]
        if quoted {
          if c == "\"" {
            let next = line.index(after: index)
            if next < line.endIndex, line[next] == "\"" {
              current.append("\"")
              index = next
              column += 1
            } else {
              quoted = false
            }
          } else {
            current.append(c)
          }
        } else if c == "," {
          fields.append(Field(text: current, column: start))
          current = ""
          start = column + 1
        } else if c == "\"" && current.allSatisfy(\.isWhitespace) {
          quoted = true
        } else {
          current.append(c)
        }
        column += 1
        index = line.index(after: index)
      }
      fields.append(Field(text: current, column: start))
      return fields
    }

    // MARK: JSON

    mutating func readJSONLines(_ text: String) throws(ScenarioError) {
      for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = index + 1
        let body = raw.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r\u{FEFF}")))
        guard !body.isEmpty else { continue }
        try add(
          Result { () throws(ScenarioError) -> MooncakeRecord in
            guard let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
            else {
              throw fail(line, 1, "", "not a JSON object; expected one object a line")
            }
            return try record(object, line: line)
          })
      }
    }

    /// One JSON object of a log line.
    func record(_ object: [String: Any], line: Int) throws(ScenarioError) -> MooncakeRecord {
      let keys = Set(object.keys)
      func key(_ given: String?, _ names: [String], _ what: String) throws(ScenarioError) -> String {
        guard let name = pick(given, names, { keys.contains($0) }) else {
          throw fail(
            line, nil, given ?? names[0],
            "no \(what) field; the object has \(keys.sorted().joined(separator: ", ")); give it with --\(what)-column"
          )
        }
        return name
      }
      let timeKey = try key(columns.timestamp, Columns.timestampNames, "timestamp")
      let promptKey = try key(columns.prompt, Columns.promptNames, "prompt")
      let outputKey = try key(columns.output, Columns.outputNames, "output")
      var ids: [Int] = []
      if let hashes = object["hash_ids"] {
        guard let list = hashes as? [Any],
          let ints = Optional(list.compactMap { ($0 as? NSNumber)?.intValue }),
          ints.count == list.count
        else { throw fail(line, nil, "hash_ids", "expected a list of integers") }
        ids = ints
      }
      return MooncakeRecord(
        line: line, timestamp: try timestamp(text(object[timeKey]), line, nil, timeKey),
        inputLength: try count(text(object[promptKey]), line, nil, promptKey),
        outputLength: try count(text(object[outputKey]), line, nil, outputKey), hashIDs: ids)
    }

    /// A vLLM benchmark result: one object with per-request `input_lens` and `output_lens`, all arriving
    /// at once (the result keeps no arrival times).
    mutating func readBenchmark(_ data: Data) throws(ScenarioError) {
      guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
        throw fail(1, 1, "", "not valid JSON")
      }
      guard let inputs = object["input_lens"] as? [Any], let outputs = object["output_lens"] as? [Any] else {
        // One object alone on its line: a JSON Lines log of one request.
        return try add(Result { () throws(ScenarioError) -> MooncakeRecord in try record(object, line: 1) })
      }
      guard inputs.count == outputs.count else {
        throw fail(1, nil, "output_lens", "has \(outputs.count) entries, input_lens \(inputs.count)")
      }
      for (index, (input, output)) in zip(inputs, outputs).enumerated() {
        try add(
          Result { () throws(ScenarioError) -> MooncakeRecord in
            MooncakeRecord(
              line: 1, timestamp: 0, inputLength: try count(text(input), 1, nil, "input_lens[\(index)]"),
              outputLength: try count(text(output), 1, nil, "output_lens[\(index)]"), hashIDs: [])
          })
      }
    }

    func text(_ value: Any?) -> String {
      switch value {
      case let string as String: return string
      case let number as NSNumber: return number.stringValue
      case nil: return ""
      default: return "\(value!)"
      }
    }

    // MARK: Values

    func count(_ text: String, _ line: Int, _ column: Int?, _ key: String) throws(ScenarioError) -> Int {
      let trimmed = text.trimmingCharacters(in: .whitespaces)
      guard let value = Int(trimmed), (0...100_000_000).contains(value) else {
        throw fail(
          line, column, key, "expected a token count from 0 to 100000000, got `\(trimmed.prefix(40))`")
      }
      return value
    }

    /// Milliseconds: a number in `unit`, or an ISO 8601 / `2023-11-16 18:17:03.9799600` date-time
    /// (UTC unless it carries an offset).
    func timestamp(_ text: String, _ line: Int, _ column: Int?, _ key: String) throws(ScenarioError) -> Double
    {
      let trimmed = text.trimmingCharacters(in: .whitespaces)
      if let number = Double(trimmed), number.isFinite, number >= 0, number < 1e15 {
        return unit == .s ? number * 1000 : number
      }
      guard let ms = DateTime.milliseconds(trimmed) else {
        throw fail(
          line, column, key,
          "expected a time: a number (\(unit.rawValue)) or a date-time such as 2023-11-16 18:17:03.97 or 2023-11-16T18:17:03Z, got `\(trimmed.prefix(40))`"
        )
      }
      return ms
    }
  }
}

/// Date-time strings as milliseconds since 1970 (proleptic Gregorian calendar, UTC).
enum DateTime {
  /// `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|±HH:MM]`, or nil.
  static func milliseconds(_ text: String) -> Double? {
    let chars = Array(text.utf8)
    var i = 0
    func digits(_ n: Int) -> Int? {
      guard i + n <= chars.count else { return nil }
      var value = 0
      for c in chars[i..<(i + n)] {
        guard c >= 48 && c <= 57 else { return nil }
        value = value * 10 + Int(c - 48)
      }
      i += n
      return value
    }
    func expect(_ c: UInt8) -> Bool {
      guard i < chars.count, chars[i] == c else { return false }
      i += 1
      return true
    }
    guard let year = digits(4), expect(45), let month = digits(2), expect(45), let day = digits(2),
      i < chars.count, chars[i] == 84 || chars[i] == 32
    else { return nil }
    i += 1
    guard let hour = digits(2), expect(58), let minute = digits(2), expect(58), let second = digits(2) else {
      return nil
    }
    guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else {
      return nil
    }
    var fraction = 0.0
    if expect(46) {
      var scale = 0.1
      var any = false
      while i < chars.count, chars[i] >= 48 && chars[i] <= 57 {
        fraction += Double(chars[i] - 48) * scale
        scale /= 10
        i += 1
        any = true
      }
      guard any else { return nil }
    }
    var offset = 0
    if expect(90) {
      offset = 0
    } else if i < chars.count, chars[i] == 43 || chars[i] == 45 {
      let sign = chars[i] == 45 ? -1 : 1
      i += 1
      guard let h = digits(2) else { return nil }
      _ = expect(58)
      guard let m = digits(2) else { return nil }
      offset = sign * (h * 60 + m)
    }
    guard i == chars.count else { return nil }
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146_097 + doe - 719_468
    let seconds = Double(days * 86_400 + hour * 3_600 + minute * 60 + second - offset * 60) + fraction
    return seconds * 1000
  }
}
