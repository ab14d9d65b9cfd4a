import Foundation
import KVEngine
import KVText

/// A trace as read: the scenario of its header, the user actions that survive (in the form
/// `Timeline(scenario:actions:)` takes), and the step lines that describe the run.
public struct Trace: Sendable {
  /// The file as named by the caller.
  public var file: String
  /// The kvscope version (or other engine) that wrote it.
  public var recordedBy: String
  /// The trace format version of the file: 1 (sentences) or 2 (facts).
  public var version = TraceFormat.version
  public var scenario: Scenario
  /// User actions by the step after which they run.
  public var actions: [Int: UserAction] = [:]
  /// The line of each surviving action, by step.
  public var actionLines: [Int: Int] = [:]
  /// Surviving step lines, steps 1, 2, 3, ... in order.
  public var steps: [TraceStep] = []
  /// The line of each entry of `steps`.
  public var stepLines: [Int] = []
  /// The end line, if the recording was closed.
  public var end: TraceEnd?
  public var endLine = 0
  /// The last line read without error.
  public var lastValidLine = 0
  /// With `partial`, the error that stopped reading early; nil when the whole file was read.
  public var stoppedBy: ScenarioError?
}

/// Reads trace files (`docs/trace-format.md`). Every problem is a ``ScenarioError`` naming the file and
/// line (and, for the header's scenario, the key and column).
public enum TraceReader {
  /// Reads the trace at `path`. With `partial`, a bad line ends the trace at the line before it
  /// (the header must still be valid) instead of failing.
  public static func read(path: String, partial: Bool = false) throws(ScenarioError) -> Trace {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ScenarioError(file: path, message: "no such file")
    }
    if isDirectory.boolValue {
      throw ScenarioError(file: path, message: "is a directory, expected a trace file")
    }
    guard let data = TraceFormat.contents(path) else {
      throw ScenarioError(file: path, message: "cannot read file")
    }
    return try parse(data, file: path, partial: partial)
  }

  /// Parses trace bytes; `file` names the trace in errors.
  public static func parse(_ data: Data, file: String, partial: Bool = false) throws(ScenarioError) -> Trace {
    var parser = Parser(file: file, data: data)
    return try parser.run(partial: partial)
  }

  /// `a.b[2].c` for a decoding path.
  static func path(_ keys: [CodingKey]) -> String {
    var text = ""
    for key in keys {
      if let index = key.intValue {
        text += "[\(index)]"
      } else {
        text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
      }
    }
    return text
  }

  /// A decoding error as `(key, message)`.
  static func describe(_ error: any Error) -> (key: String, message: String) {
    guard let error = error as? DecodingError else { return ("", "\(error)") }
    switch error {
    case .keyNotFound(let key, let context):
      return (path(context.codingPath + [key]), "required key `\(key.stringValue)` is missing")
    case .typeMismatch(let type, let context):
      return (
        path(context.codingPath), "expected \(typeName(type)); \(context.debugDescription.lowercased())"
      )
    case .valueNotFound(let type, let context):
      return (path(context.codingPath), "expected \(typeName(type)), found null")
    case .dataCorrupted(let context):
      if context.codingPath.isEmpty { return ("", "not valid JSON") }
      return (path(context.codingPath), context.debugDescription.lowercased())
    @unknown default:
      return ("", "\(error)")
    }
  }

  static func typeName(_ type: Any.Type) -> String {
    switch type {
    case is Int.Type: return "an integer"
    case is String.Type: return "a string"
    case is Bool.Type: return "true or false"
    case is [Any].Type: return "a list"
    default:
      let name = "\(type)"
      if name.hasPrefix("Array") { return "a list" }
      if name.hasPrefix("Dictionary") { return "an object" }
      return name == "Prompt" ? "a prompt" : "a value of type \(name)"
    }
  }
}

/// Decodes any line: every key of every line kind is optional here, checked by kind afterwards.
private struct RawLine: Decodable {
  var type: String?
  var format: String?
  var version: Version?
  var kvscope: String?

  /// The header's version as written: an integer, or anything else (a string, a fraction, a number too
  /// large), which is reported as an unsupported version rather than as a line that is not a header.
  enum Version: Decodable {
    case integer(Int)
    case other

    init(from decoder: Decoder) throws {
      let container = try decoder.singleValueContainer()
      self = (try? container.decode(Int.self)).map(Version.integer) ?? .other
    }
  }
  var step: Int?
  var action: TraceActionJSON?
}

private struct Parser {
  let file: String
  let data: Data
  let decoder = JSONDecoder()

  init(file: String, data: Data) {
    self.file = file
    self.data = data
  }

  func error(_ line: Int, _ message: String, key: String = "", column: Int = 0) -> ScenarioError {
    ScenarioError(file: file, line: line, column: column, key: key, message: message)
  }

  /// The lines of the file as byte ranges, with their 1-based numbers; blank lines are skipped.
  func lines() -> [(number: Int, range: Range<Int>)] {
    var result: [(Int, Range<Int>)] = []
    var number = 0
    // A byte order mark before the header is skipped, as the scenario loader skips it.
    var start = data.startIndex + UTF8Text.byteOrderMarkLength(data)
    while start < data.endIndex {
      number += 1
      let end = data[start...].firstIndex(of: 10) ?? data.endIndex
      var last = end
      if last > start, data[last - 1] == 13 { last -= 1 }
      if data[start..<last].contains(where: { ![9, 32].contains($0) }) {
        result.append((number, start..<last))
      }
      start = end + 1
    }
    return result
  }

  var endsWithNewline: Bool { data.last == 10 }

  mutating func run(partial: Bool) throws(ScenarioError) -> Trace {
    let lines = lines()
    guard let first = lines.first else {
      throw ScenarioError(
        file: file, message: "empty file, expected a kvscope trace (a JSON header line first)")
    }
    var trace = try header(first.number, data[first.range], isLast: lines.count == 1)
    trace.lastValidLine = first.number
    var ids = Set(trace.scenario.requests.map(\.id))
    var addedAt: [Int: String] = [:]
    for (index, (number, range)) in lines.enumerated().dropFirst() {
      do throws(ScenarioError) {
        let isLast = index == lines.count - 1
        if trace.end != nil {
          throw error(number, "content after the end line (line \(trace.endLine))")
        }
        try line(number, data[range], isLast: isLast, into: &trace, ids: &ids, addedAt: &addedAt)
        trace.lastValidLine = number
      } catch {
        guard partial else { throw error }
        trace.stoppedBy = error
        break
      }
    }
    return trace
  }

  /// Explains a line that is not JSON, telling a cut-off last line from garbage.
  func notJSON(_ number: Int, isLast: Bool) -> ScenarioError {
    if isLast && !endsWithNewline {
      return error(
        number,
        "truncated line: the file ends in the middle of this line (was the recording cut off?); use --partial to read up to line \(number - 1)"
      )
    }
    return error(number, "not valid JSON; every line of a trace is one JSON object")
  }

  func decode<T: Decodable>(_ type: T.Type, _ number: Int, _ bytes: Data, isLast: Bool, what: String)
    throws(ScenarioError) -> T
  {
    do {
      return try decoder.decode(type, from: bytes)
    } catch let decoding {
      let (key, message) = TraceReader.describe(decoding)
      if message == "not valid JSON" { throw notJSON(number, isLast: isLast) }
      throw error(number, "\(what): \(message)", key: key)
    }
  }

  func header(_ number: Int, _ bytes: Data, isLast: Bool) throws(ScenarioError) -> Trace {
    let foreign =
      "not a kvscope trace: the first line must be a JSON object with \"format\": \"kvscope-trace\""
    // A header (it names the format) with a byte that is not UTF-8 is named where the byte is; other
    // bytes that are not UTF-8 are not a trace at all.
    if bytes.first == UInt8(ascii: "{"), bytes.firstRange(of: Data("\"\(TraceFormat.name)\"".utf8)) != nil,
      let bad = UTF8Text.firstInvalid(bytes)
    {
      throw error(
        number, "byte \(UTF8Text.hex(bad.byte)) is not valid UTF-8; a trace is UTF-8 text", column: bad.column
      )
    }
    guard bytes.first == UInt8(ascii: "{"),
      let raw = try? decoder.decode(RawLine.self, from: bytes)
    else {
      if bytes.first == UInt8(ascii: "{") && isLast && !endsWithNewline {
        throw error(number, "truncated header: the file ends in the middle of the first line")
      }
      throw error(number, foreign)
    }
    guard raw.format == TraceFormat.name else { throw error(number, foreign) }
    guard let written = raw.version else {
      throw error(number, "header: required key `version` is missing", key: "version")
    }
    guard case .integer(let version) = written, TraceFormat.readableVersions.contains(version) else {
      let span = JSONSpan.value(of: "version", in: bytes)
      let shown = span.map { String(decoding: bytes[$0.0].prefix(40), as: UTF8.self) } ?? "?"
      throw error(
        number,
        "trace format version \(shown) is not supported; this kvscope reads versions 1 and \(TraceFormat.version) (written as integers)",
        key: "version", column: span?.1 ?? 0)
    }
    guard let (span, column) = JSONSpan.value(of: "scenario", in: bytes) else {
      throw error(number, "header: required key `scenario` is missing", key: "scenario")
    }
    let text = String(decoding: bytes[span], as: UTF8.self)
    guard text.first == "{" else {
      throw error(number, "header: expected the scenario as a JSON object", key: "scenario", column: column)
    }
    let scenario: Scenario
    do throws(ScenarioError) {
      scenario = try ScenarioLoader.parse(text, file: file)
    } catch {
      let key = error.key.isEmpty ? "scenario" : "scenario.\(error.key)"
      let at = error.line == 1 && error.column > 0 ? column + error.column - 1 : column
      throw self.error(number, error.message, key: key, column: at)
    }
    return Trace(file: file, recordedBy: raw.kvscope ?? "unknown", version: version, scenario: scenario)
  }

  func line(
    _ number: Int, _ bytes: Data, isLast: Bool, into trace: inout Trace, ids: inout Set<String>,
    addedAt: inout [Int: String]
  ) throws(ScenarioError) {
    guard bytes.first == UInt8(ascii: "{") else {
      if isLast && !endsWithNewline { throw notJSON(number, isLast: true) }
      throw error(number, "not valid JSON; every line of a trace is one JSON object")
    }
    let raw = try decode(RawLine.self, number, bytes, isLast: isLast, what: "line")
    switch raw.type {
    case "step":
      let step = try decode(TraceStep.self, number, bytes, isLast: isLast, what: "step line")
      let expected = (trace.steps.last?.step ?? 0) + 1
      guard step.step == expected else {
        throw error(number, "step \(step.step) out of order: expected step \(expected)", key: "step")
      }
      guard Phase(rawValue: step.phase) != nil else {
        let allowed = Phase.allCases.map(\.rawValue).joined(separator: ", ")
        throw error(number, "unknown phase `\(step.phase)`; allowed: \(allowed)", key: "phase")
      }
      trace.steps.append(step)
      trace.stepLines.append(number)
    case "action":
      guard let step = raw.step else {
        throw error(number, "action line: required key `step` is missing", key: "step")
      }
      guard step >= 0 else { throw error(number, "must be at least 0, got \(step)", key: "step") }
      guard let json = raw.action else {
        throw error(number, "action line: required key `action` is missing", key: "action")
      }
      // An action at step S rewrites the run after S: later actions and step lines are dropped.
      for (at, id) in addedAt where at >= step { ids.remove(id) }
      addedAt = addedAt.filter { $0.key < step }
      let action = try self.action(json, number, scenario: trace.scenario, ids: ids)
      if case .addRequest(let spec) = action {
        ids.insert(spec.id)
        addedAt[step] = spec.id
      }
      trace.actions = trace.actions.filter { $0.key < step }
      trace.actionLines = trace.actionLines.filter { $0.key < step }
      trace.actions[step] = action
      trace.actionLines[step] = number
      if let keep = trace.steps.firstIndex(where: { $0.step > step }) {
        trace.steps.removeSubrange(keep...)
        trace.stepLines.removeSubrange(keep...)
      }
    case "end":
      let end = try decode(TraceEnd.self, number, bytes, isLast: isLast, what: "end line")
      let written = trace.steps.last?.step ?? 0
      guard end.steps == written else {
        throw error(
          number, "end line says \(end.steps) steps, but the step lines go to step \(written)", key: "steps")
      }
      trace.end = end
      trace.endLine = number
    case nil:
      if raw.format != nil {
        throw error(number, "a second header; a trace has one header, on its first line")
      }
      throw error(number, "required key `type` is missing; expected step, action or end", key: "type")
    case let other?:
      throw error(number, "unknown line type `\(other)`; expected step, action or end", key: "type")
    }
  }

  /// What is wrong with a count that must lie in `0...limit`, as the scenario loader says it.
  static func countProblem(_ value: Int, upTo limit: Int) -> String? {
    if value < 0 { return "must be at least 0, got \(value)" }
    if value > limit { return "must be between 0 and \(limit), got \(value)" }
    return nil
  }

  func action(_ json: TraceActionJSON, _ number: Int, scenario: Scenario, ids: Set<String>)
    throws(ScenarioError) -> UserAction
  {
    let given = [json.add != nil, json.abort != nil, json.op != nil].filter { $0 }.count
    guard given == 1 else {
      throw error(number, "an action has exactly one of `add`, `abort` or `op`", key: "action")
    }
    if let op = json.op {
      guard scenario.isAllocatorOnly else {
        throw error(
          number, "allocator operations need an allocator-only scenario (with `ops`)", key: "action.op")
      }
      guard let parsed = OpJSON.parse(text: op) else {
        throw error(
          number, "unknown operation `\(op)`; expected alloc, free N, alloc_n N or inc_ref N",
          key: "action.op")
      }
      return .pool(parsed)
    }
    guard !scenario.isAllocatorOnly else {
      throw error(number, "add and abort need a scheduler scenario (with `requests`)", key: "action")
    }
    if let id = json.abort {
      if let bad = TerminalText.firstControl(in: id) {
        throw error(number, "contains the control character \(TerminalText.name(bad))", key: "action.abort")
      }
      guard ids.contains(id) else { throw error(number, "no request has id `\(id)`", key: "action.abort") }
      return .abort(id)
    }
    let add = json.add!
    guard !add.id.isEmpty else { throw error(number, "must not be empty", key: "action.add.id") }
    if let bad = TerminalText.firstControl(in: add.id) {
      throw error(
        number,
        "contains the control character \(TerminalText.name(bad)); names, descriptions and ids must be printable text",
        key: "action.add.id")
    }
    guard !ids.contains(add.id) else {
      throw error(number, "a request with id `\(add.id)` exists already", key: "action.add.id")
    }
    let arrive = add.arrive ?? 0
    if let problem = Self.countProblem(arrive, upTo: Scenario.maxIteration) {
      throw error(number, problem, key: "action.add.arrive")
    }
    if let problem = Self.countProblem(add.output, upTo: Scenario.maxOutput) {
      throw error(number, problem, key: "action.add.output")
    }
    if let problem = add.prompt.problem(poolTokens: scenario.cache.pages * scenario.cache.pageSize) {
      throw error(number, problem, key: "action.add.prompt")
    }
    return .addRequest(RequestSpec(id: add.id, arrive: arrive, prompt: add.prompt.prompt, output: add.output))
  }
}

/// Finds the text of one top-level value in a JSON object line without decoding it, so that the
/// header's scenario goes to the scenario loader as written, and error columns point into the line.
enum JSONSpan {
  /// The byte range of the value of top-level `key`, and its 1-based column (in Unicode scalars).
  static func value(of key: String, in bytes: Data) -> (Range<Int>, Int)? {
    var i = bytes.startIndex
    let end = bytes.endIndex
    func skipSpace() { while i < end, [9, 10, 13, 32].contains(bytes[i]) { i += 1 } }
    /// Skips a string starting at `i` (a quote); returns its raw bytes.
    func string() -> Range<Int>? {
      guard i < end, bytes[i] == UInt8(ascii: "\"") else { return nil }
      let start = i + 1
      i += 1
      while i < end {
        if bytes[i] == UInt8(ascii: "\\") {
          i += 2
          continue
        }
        if bytes[i] == UInt8(ascii: "\"") {
          i += 1
          return start..<(i - 1)
        }
        i += 1
      }
      return nil
    }
    /// Skips any value starting at `i`.
    func skipValue() -> Bool {
      guard i < end else { return false }
      switch bytes[i] {
      case UInt8(ascii: "\""): return string() != nil
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        var depth = 0
        while i < end {
          switch bytes[i] {
          case UInt8(ascii: "\""):
            guard string() != nil else { return false }
            continue
          case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
          case UInt8(ascii: "}"), UInt8(ascii: "]"):
            depth -= 1
            if depth == 0 {
              i += 1
              return true
            }
          default: break
          }
          i += 1
        }
        return false
      default:
        while i < end, ![UInt8(ascii: ","), UInt8(ascii: "}"), 9, 10, 13, 32].contains(bytes[i]) { i += 1 }
        return true
      }
    }
    skipSpace()
    guard i < end, bytes[i] == UInt8(ascii: "{") else { return nil }
    i += 1
    while true {
      skipSpace()
      guard let name = string() else { return nil }
      skipSpace()
      guard i < end, bytes[i] == UInt8(ascii: ":") else { return nil }
      i += 1
      skipSpace()
      let start = i
      guard skipValue() else { return nil }
      if bytes[name].elementsEqual(key.utf8) {
        let column = String(decoding: bytes[bytes.startIndex..<start], as: UTF8.self).unicodeScalars.count + 1
        return (start..<i, column)
      }
      skipSpace()
      guard i < end, bytes[i] == UInt8(ascii: ",") else { return nil }
      i += 1
    }
  }
}
