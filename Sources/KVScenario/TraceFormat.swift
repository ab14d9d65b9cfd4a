import Foundation
import KVEngine
import KVText

/// Constants of the trace format (`docs/trace-format.md`): a JSON Lines file whose first line is a
/// header with the whole scenario, then action lines, step lines and an optional end line.
public enum TraceFormat {
  /// The header's `format`.
  public static let name = "kvscope-trace"
  /// The header's `version` this kvscope writes. Version 2 verifies facts (kinds, requests, frames,
  /// findings); version 1 carried sentences, which are not compared.
  public static let version = 2
  /// Versions this kvscope reads.
  public static let readableVersions = 1...2
  /// Pools up to this many frames get the whole free mask in every step line; larger ones only the
  /// touched frames and the free count.
  public static let fullMaskLimit = 4096
  /// The conventional file extension.
  public static let fileExtension = "kvtrace"

  /// True when `firstLine` is a JSON object whose `format` is `kvscope-trace` (any version), so that a
  /// command can tell a trace from a scenario by content.
  public static func isTraceHeader(_ firstLine: some Collection<UInt8>) -> Bool {
    guard let object = try? JSONSerialization.jsonObject(with: Data(firstLine)) as? [String: Any] else {
      return false
    }
    return object["format"] as? String == name
  }

  /// The bytes of a file: mapped when it is a regular file, read otherwise (a pipe, `/dev/null`).
  static func contents(_ path: String) -> Data? {
    if let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) { return data }
    return FileManager.default.contents(atPath: path)
  }

  /// True when the file at `path` starts with a trace header (blank lines before it are skipped).
  public static func isTrace(path: String) -> Bool {
    guard let data = contents(path) else { return false }
    var start = data.startIndex + UTF8Text.byteOrderMarkLength(data)
    while start < data.endIndex, [9, 10, 13, 32].contains(data[start]) { start += 1 }
    guard start < data.endIndex, data[start] == UInt8(ascii: "{") else { return false }
    let end = data[start...].firstIndex(of: 10) ?? data.endIndex
    if isTraceHeader(data[start..<end]) { return true }
    // A header cut short or damaged still says what it is near its start.
    let head = String(decoding: data[start..<min(end, start + 256)], as: UTF8.self)
    return head.contains("\"\(name)\"") && head.contains("\"format\"")
  }
}

/// The header line.
struct TraceHeaderJSON: Encodable {
  var format = TraceFormat.name
  var version = TraceFormat.version
  var kvscope: String
  var scenario: ScenarioJSON
}

/// A user action as a trace writes it: `{"add": {id, arrive, prompt, output}}`, `{"abort": "ID"}` or
/// `{"op": "free 3"}`.
public struct TraceActionJSON: Codable, Equatable, Sendable {
  public struct Add: Codable, Equatable, Sendable {
    public var id: String
    public var arrive: Int?
    public var prompt: PromptJSON
    public var output: Int
  }

  public var add: Add?
  public var abort: String?
  public var op: String?

  public init(_ action: UserAction) {
    switch action {
    case .addRequest(let spec):
      add = Add(id: spec.id, arrive: spec.arrive, prompt: PromptJSON(spec.prompt), output: spec.output)
    case .abort(let id): abort = id
    case .pool(let op): self.op = op.text
    }
  }
}

/// A finding in a step line: its kind and subjects are verified, the message is for reading.
public struct TraceFinding: Codable, Equatable, Sendable {
  public var kind: String
  public var message: String
  /// The frame and the request id it is about (version 2).
  public var frame: Int?
  public var request: String?

  public init(_ finding: Finding, in state: EngineState) {
    kind = finding.kind.rawValue
    message = state.message(finding)
    frame = finding.frame
    request = finding.request.map { state.requests[$0].id }
  }

  /// True when `other` (what the engine found) matches the facts this line carries.
  func matches(_ other: TraceFinding) -> Bool {
    kind == other.kind && (frame == nil || frame == other.frame)
      && (request == nil || request == other.request)
  }
}

/// One step line: what the step did and what it left in the frames it touched. Verification compares
/// every field that is present.
public struct TraceStep: Codable, Equatable, Sendable {
  public var step: Int
  public var iteration: Int
  public var phase: String
  public var event: StateRecord.Event
  /// `[frame, refs, free bit]` of each frame the step touched, in the event's order.
  public var frames: [[Int]]?
  /// Frames in the free mask after the step.
  public var free: Int?
  /// The whole free mask (as in `StateRecord`, frame 0 last), for pools of at most
  /// ``TraceFormat/fullMaskLimit`` frames.
  public var freeMask: String?
  /// Findings of the step; left out when there are none (and then compared as none).
  public var findings: [TraceFinding]?

  enum CodingKeys: String, CodingKey {
    case type, step, iteration, phase, event, frames, free, findings
    case freeMask = "free_mask"
  }

  /// The step line for the state after a step.
  public init(_ state: EngineState) {
    step = state.step
    iteration = state.iteration
    phase = state.phase.rawValue
    event = StateRecord.Event(state)
    let pool = state.pool
    var seen = Set<Int>()
    frames = state.event.frames.filter { pool.contains($0) && seen.insert($0).inserted }.map {
      [$0, Int(pool.refs[$0]), pool.freeMask.contains($0) ? 1 : 0]
    }
    free = pool.freeCount
    freeMask = pool.count <= TraceFormat.fullMaskLimit ? pool.freeMask.binary() : nil
    findings = state.findings.isEmpty ? nil : state.findings.map { TraceFinding($0, in: state) }
  }

  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    step = try container.decode(Int.self, forKey: .step)
    iteration = try container.decode(Int.self, forKey: .iteration)
    phase = try container.decode(String.self, forKey: .phase)
    event = try container.decode(StateRecord.Event.self, forKey: .event)
    frames = try container.decodeIfPresent([[Int]].self, forKey: .frames)
    free = try container.decodeIfPresent(Int.self, forKey: .free)
    freeMask = try container.decodeIfPresent(String.self, forKey: .freeMask)
    findings = try container.decodeIfPresent([TraceFinding].self, forKey: .findings)
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode("step", forKey: .type)
    try container.encode(step, forKey: .step)
    try container.encode(iteration, forKey: .iteration)
    try container.encode(phase, forKey: .phase)
    try container.encode(event, forKey: .event)
    try container.encodeIfPresent(frames, forKey: .frames)
    try container.encodeIfPresent(free, forKey: .free)
    try container.encodeIfPresent(freeMask, forKey: .freeMask)
    try container.encodeIfPresent(findings, forKey: .findings)
  }

  /// The first field where `other` (what the engine did) differs from this line, as
  /// `(field, this value, other value)`; nil when they agree. Facts are compared, sentences are not.
  /// Fields this line leaves out are not compared, except `findings` (left out means none).
  public func difference(from other: TraceStep) -> (field: String, trace: String, engine: String)? {
    func show(_ value: some Encodable) -> String { JSONText.line(value) }
    if iteration != other.iteration { return ("iteration", "\(iteration)", "\(other.iteration)") }
    if phase != other.phase { return ("phase", phase, other.phase) }
    if event.kind != other.event.kind { return ("event.kind", event.kind, other.event.kind) }
    if let request = event.request, request != other.event.request {
      return ("event.request", request, other.event.request ?? "none")
    }
    if event.result != other.event.result {
      return ("event.result", event.result.map(show) ?? "none", other.event.result.map(show) ?? "none")
    }
    if let frames, frames != (other.frames ?? []) {
      return ("frames [frame, refs, free]", show(frames), show(other.frames ?? []))
    }
    if let free, free != other.free { return ("free", "\(free)", other.free.map { "\($0)" } ?? "none") }
    if let freeMask, let mask = other.freeMask, freeMask != mask {
      return ("free_mask", freeMask, mask)
    }
    let mine = findings ?? []
    let theirs = other.findings ?? []
    if mine.count != theirs.count || zip(mine, theirs).contains(where: { !$0.matches($1) }) {
      return ("findings", mine.isEmpty ? "none" : show(mine), theirs.isEmpty ? "none" : show(theirs))
    }
    return nil
  }
}

/// An action line.
struct TraceActionLine: Encodable {
  var type = "action"
  var step: Int
  var action: TraceActionJSON
}

/// The end line: how many steps were written, and whether the run ends there.
public struct TraceEnd: Codable, Equatable, Sendable {
  /// Step lines written (the last step line's step).
  public var steps: Int
  /// True when the run is over after `steps` steps.
  public var done: Bool
  /// Why the run ended, when `done`: a code in version 2 (`all-requests-done`), a sentence in version 1.
  public var reason: String?

  /// The version 2 code of an end reason.
  public static func code(_ reason: EndReason) -> String {
    switch reason {
    case .allOperationsDone: return "all-operations-done"
    case .allRequestsDone: return "all-requests-done"
    case .stalled: return "stalled"
    case .iterationLimit: return "iteration-limit"
    }
  }

  enum CodingKeys: String, CodingKey {
    case type, steps, done, reason
  }

  public init(steps: Int, done: Bool, reason: String?) {
    self.steps = steps
    self.done = done
    self.reason = reason
  }

  public init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    steps = try container.decode(Int.self, forKey: .steps)
    done = try container.decode(Bool.self, forKey: .done)
    reason = try container.decodeIfPresent(String.self, forKey: .reason)
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode("end", forKey: .type)
    try container.encode(steps, forKey: .steps)
    try container.encode(done, forKey: .done)
    try container.encodeIfPresent(reason, forKey: .reason)
  }
}

/// UTF-8 checks for files: a byte order mark to skip, and where the first byte that is not UTF-8 is.
enum UTF8Text {
  /// 3 when `bytes` start with a UTF-8 byte order mark (EF BB BF), else 0.
  static func byteOrderMarkLength(_ bytes: some Collection<UInt8>) -> Int {
    bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
  }

  /// The first byte of `bytes` that is not part of valid UTF-8: its value, its 1-based line and its
  /// 1-based column in Unicode scalars; nil when all of `bytes` is UTF-8.
  static func firstInvalid(_ bytes: some Collection<UInt8>) -> (byte: UInt8, line: Int, column: Int)? {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var index = bytes.startIndex
    var line = 1
    var column = 1
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encoded):
        if encoded.count == 1 && encoded.first == 10 {
          line += 1
          column = 1
        } else {
          column += 1
        }
        index = bytes.index(index, offsetBy: encoded.count)
      case .error:
        return (bytes[index], line, column)
      case .emptyInput:
        return nil
      }
    }
  }

  /// `0xFF`.
  static func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return "0x" + (digits.count < 2 ? "0" : "") + digits
  }
}
