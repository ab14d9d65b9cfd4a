import Foundation
import KVEngine
import Testing

/// Issue 14's fuzz test: hostile files, generated from a fixed seed, run through the real binary.
///
/// Classes of input (at least 500 in all, each named in a failure):
/// - `integer`: every integer field a scenario can carry (`cache.pages`, `cache.page_size`,
///   `scheduler.max_batch`, `scheduler.max_batched_tokens`, `max_iterations`, a request's `arrive`,
///   `prompt` as a length, a token id, `blocks`, `block_size`, `length`, `output`, an event's `at`,
///   the operands of `free`, `alloc_n`, `inc_ref`) set to values that overflow 64 bits, exceed the
///   field's bounds, are negative, fractional, infinite, not a number, or written in another base.
/// - `alloc_n`: allocations of more frames than the pool has, up to 2^62, and of a whole pool.
/// - `control`, `utf8`: control characters (C0, DEL, C1; raw and as YAML escapes) and invalid UTF-8
///   bytes in a name, a description, a request id, an aborted id, a key, a trace's header and actions.
/// - `bom`: byte order marks before a scenario or a trace, twice, inside a line, UTF-16's.
/// - `version`: trace versions as strings, fractions, beyond 64 bits, negative, unknown, not numbers.
/// - `empty`: empty files, blank lines, comments only, empty documents.
/// - `large`: a file past the 64 MiB limit (sparse, so it costs nothing to write).
/// - `past-end`: trace actions at steps the run never reaches, up to and past 2^63.
/// - `json-number`: trace numbers too large for their field (steps, iterations, frames, an added
///   request's prompt and output, the header's pool).
/// - `wait`: random `paged` scenarios with `on_oom: wait`, which can deadlock.
/// - `nonsense`: YAML soup (brackets, anchors and aliases, tags, tabs, directives, keys out of place),
///   nesting thousands deep, and an alias bomb.
///
/// Each file is given to `check`, `frame --step 2 --size 80x24` and, for a trace, `replay --verify`.
/// Every run must end by itself within `bound` seconds (it is killed and the test fails otherwise),
/// by no signal, with no control character but the newline on standard output, and with:
/// - exit 2 (bad input): standard error names the file, followed by `:LINE:COLUMN` for a problem
///   inside a scenario file (and inside a trace's header), `:LINE` for one on another line of a trace;
///   a file that is empty, too large or not a scenario as a whole is named alone. For `frame`, exit 2 may
///   also be `--step 2 is outside the run` when `check` accepted the file.
/// - or a documented acceptance: exit 0 (accepted; `check` may warn about unreached actions), or 1
///   (`check` found something, e.g. the deadlock of `on_oom: wait`; `replay --verify` found the trace
///   disagrees with the engine, e.g. an action past the end). Classes whose input can never be valid
///   (`control`, `utf8` in YAML, `empty`, `large`, `version` other than 1 and 2, `nonsense`, values
///   outside every bound) accept only exit 2. Two acceptances are by design: `free` and `inc_ref` of a
///   frame past the pool run as the seed allocator's misuse and are reported as a finding (exit 1), and
///   a trace version written `2.0` is version 2 (JSON numbers keep no spelling).
struct HostileInputTests {
  /// Where a refusal must point.
  enum Locator: Sendable {
    /// The file is named.
    case file
    /// `FILE:LINE`.
    case line
    /// `FILE:LINE:COLUMN`.
    case lineColumn
  }

  /// What a run may end with.
  enum Rule: Sendable {
    /// Exit 2 only.
    case refused(Locator)
    /// Exit 0 or 1, or exit 2 pointing as given.
    case either(Locator)
  }

  struct Input: Sendable {
    var label: String
    var bytes: [UInt8]
    var isTrace = false
    var rule: Rule
    /// A sparse file of this size instead of `bytes`.
    var sparseSize: Int? = nil
  }

  /// Seconds a run may take.
  static let bound = 20.0

  // MARK: Generating

  static let requestScenario = """
    name: fuzz
    cache: {pages: 64, page_size: 16}
    scheduler: {policy: paged, max_batch: 8}
    requests:
      - {id: A, arrive: 0, prompt: 40, output: 5}
      - {id: B, arrive: 1, prompt: [1, 2, 3, 4], output: 3}
      - {id: C, arrive: 2, prompt: {blocks: [7, 8], block_size: 16, length: 20}, output: 2}
    events: [{at: 3, abort: C}]

    """

  static let opsScenario = """
    name: fuzz ops
    cache: {pages: 16, page_size: 4}
    ops: [alloc, alloc, {free: 0}, {alloc_n: 3}, {inc_ref: 1}]

    """

  /// Integer fields: the scenario with the field set to `V`, and whether only a count in a bounded
  /// range is allowed (so that negative, fractional and 64-bit-overflowing values must be refused).
  static let integerFields: [(name: String, text: String, bounded: Bool)] = [
    ("cache.pages", requestScenario.replacingOccurrences(of: "pages: 64", with: "pages: V"), true),
    (
      "cache.page_size", requestScenario.replacingOccurrences(of: "page_size: 16}", with: "page_size: V}"),
      true
    ),
    (
      "scheduler.max_batch", requestScenario.replacingOccurrences(of: "max_batch: 8", with: "max_batch: V"),
      true
    ),
    (
      "scheduler.max_batched_tokens",
      requestScenario.replacingOccurrences(
        of: "{policy: paged, max_batch: 8}", with: "{policy: vllm-v1, max_batch: 8, max_batched_tokens: V}"),
      true
    ),
    ("max_iterations", requestScenario + "max_iterations: V\n", true),
    ("requests.arrive", requestScenario.replacingOccurrences(of: "arrive: 1,", with: "arrive: V,"), true),
    ("requests.prompt", requestScenario.replacingOccurrences(of: "prompt: 40", with: "prompt: V"), true),
    (
      "requests.prompt.token", requestScenario.replacingOccurrences(of: "[1, 2, 3, 4]", with: "[1, V, 3]"),
      false
    ),
    ("requests.prompt.blocks", requestScenario.replacingOccurrences(of: "[7, 8]", with: "[7, V]"), false),
    (
      "requests.prompt.block_size",
      requestScenario.replacingOccurrences(of: "block_size: 16", with: "block_size: V"),
      true
    ),
    (
      "requests.prompt.length", requestScenario.replacingOccurrences(of: "length: 20", with: "length: V"),
      true
    ),
    ("requests.output", requestScenario.replacingOccurrences(of: "output: 5", with: "output: V"), true),
    ("events.at", requestScenario.replacingOccurrences(of: "at: 3", with: "at: V"), true),
    // A frame past the pool is the seed allocator's misuse, run and reported as a finding (exit 1).
    ("ops.free", opsScenario.replacingOccurrences(of: "{free: 0}", with: "{free: V}"), false),
    ("ops.alloc_n", opsScenario.replacingOccurrences(of: "{alloc_n: 3}", with: "{alloc_n: V}"), true),
    ("ops.inc_ref", opsScenario.replacingOccurrences(of: "{inc_ref: 1}", with: "{inc_ref: V}"), false),
  ]

  /// Values no bounded count may take, and values some fields may.
  static let impossibleCounts = [
    "-1", "-9223372036854775808", "9223372036854775807", "9223372036854775808", "18446744073709551616",
    "99999999999999999999999999", "1.5", "1e30", ".inf", "-.inf", ".nan",
  ]
  static let oddValues = [
    "0", "-0", "0x7FFFFFFFFFFFFFFF", "0o777", "1_000", "1000000001", "4000001", "2147483648",
  ]

  static func integers() -> [Input] {
    var inputs: [Input] = []
    for field in integerFields {
      for value in impossibleCounts + oddValues {
        let rule: Rule =
          field.bounded && impossibleCounts.contains(value) ? .refused(.lineColumn) : .either(.lineColumn)
        inputs.append(
          Input(
            label: "integer \(field.name) = \(value)",
            bytes: Array(field.text.replacingOccurrences(of: "V", with: value).utf8), rule: rule))
      }
    }
    return inputs
  }

  static func allocations() -> [Input] {
    var inputs: [Input] = []
    for (pages, count) in [
      (8, 9), (8, 4_000_000), (8, 1_000_000_000), (8, 4_611_686_018_427_387_904), (4096, 4096), (4096, 4097),
      (2000, 2000), (64, 64), (1, 1), (4_000_000, 4_000_001),
    ] {
      let text = "cache: {pages: \(pages), page_size: 4}\nops: [{alloc_n: \(count)}, alloc, {free: 0}]\n"
      inputs.append(
        Input(label: "alloc_n \(count) of \(pages)", bytes: Array(text.utf8), rule: .either(.lineColumn)))
    }
    return inputs
  }

  /// Bytes no name, id or key may hold: raw controls, C1 in UTF-8, and invalid UTF-8.
  static let badBytes: [(String, [UInt8], isUTF8: Bool)] = [
    ("ESC", [0x1B], true), ("BEL", [0x07], true), ("NUL", [0x00], true), ("DEL", [0x7F], true),
    ("CSI C1", [0xC2, 0x9B], true), ("0xFF", [0xFF], false), ("overlong NUL", [0xC0, 0x80], false),
    ("surrogate", [0xED, 0xA0, 0x80], false), ("0xF8", [0xF8], false), ("cut sequence", [0xE6, 0xBC], false),
  ]

  static func controls() -> [Input] {
    var inputs: [Input] = []
    let places: [(String, String)] = [
      ("name", "name: fuzz"), ("description", "name: fuzz\ndescription: aXb"), ("request id", "id: A,"),
      ("aborted id", "abort: C}"), ("key", "name: fuzz\nna"),
    ]
    for (place, anchor) in places {
      for (byteName, bytes, _) in badBytes {
        let text = requestScenario.replacingOccurrences(
          of: "events: [{at: 3, abort: C}]", with: "events: [{at: 3, abort: C}]")
        let marked: String
        switch place {
        case "name": marked = text.replacingOccurrences(of: anchor, with: "name: fuX")
        case "description": marked = text.replacingOccurrences(of: "name: fuzz", with: anchor)
        case "request id": marked = text.replacingOccurrences(of: anchor, with: "id: AX,")
        case "aborted id": marked = text.replacingOccurrences(of: anchor, with: "abort: CX}")
        default: marked = text.replacingOccurrences(of: "name: fuzz", with: "name: fuzz\nnaXme: 1")
        }
        var out: [UInt8] = []
        for byte in Array(marked.utf8) {
          if byte == UInt8(ascii: "X") { out += bytes } else { out.append(byte) }
        }
        inputs.append(
          Input(label: "control \(byteName) in \(place)", bytes: out, rule: .refused(.lineColumn)))
      }
    }
    for escape in ["\\e[2J", "\\x9b", "\\0", "\\x7f", "\\a", "\\u0085"] {
      for place in ["name", "id"] {
        let text =
          place == "name"
          ? requestScenario.replacingOccurrences(of: "name: fuzz", with: "name: \"a\(escape)b\"")
          : requestScenario.replacingOccurrences(of: "id: A,", with: "id: \"a\(escape)b\",")
        inputs.append(
          Input(
            label: "control escape \(escape) in \(place)", bytes: Array(text.utf8),
            rule: .refused(.lineColumn)))
      }
    }
    // The same in traces: the header's scenario (line 1, a column) and an action (a line).
    for (byteName, bytes, _) in badBytes {
      var header = Array(traceHeader(name: "fuX").utf8)
      header = header.flatMap { $0 == UInt8(ascii: "X") ? bytes : [$0] }
      inputs.append(
        Input(
          label: "trace control \(byteName) in the header", bytes: header + [10], isTrace: true,
          rule: .refused(.line)))
      var action = Array(
        #"{"type":"action","step":1,"action":{"add":{"id":"aX","prompt":3,"output":2}}}"#.utf8)
      action = action.flatMap { $0 == UInt8(ascii: "X") ? bytes : [$0] }
      inputs.append(
        Input(
          label: "trace control \(byteName) in an action",
          bytes: Array((traceHeader() + "\n").utf8) + action + [10],
          isTrace: true, rule: .refused(.line)))
    }
    return inputs
  }

  static func traceHeader(name: String = "fuzz", version: String = "2", scenario: String? = nil) -> String {
    let body =
      scenario
      ?? #"{"name":"\#(name)","cache":{"pages":16,"page_size":4},"scheduler":{"policy":"paged"},"requests":[{"id":"A","prompt":9,"output":6},{"id":"B","arrive":1,"prompt":5,"output":3}]}"#
    return #"{"format":"kvscope-trace","version":\#(version),"kvscope":"fuzz","scenario":\#(body)}"#
  }

  static func boms() -> [Input] {
    let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    let scenario = Array(requestScenario.utf8)
    let trace = Array((traceHeader() + "\n").utf8)
    return [
      Input(label: "bom before a scenario", bytes: bom + scenario, rule: .either(.lineColumn)),
      Input(label: "bom twice before a scenario", bytes: bom + bom + scenario, rule: .either(.lineColumn)),
      Input(
        label: "bom inside a name",
        bytes: Array("name: a".utf8) + bom + Array(requestScenario.dropFirst(10).utf8),
        rule: .either(.lineColumn)),
      Input(label: "bom before a trace", bytes: bom + trace, isTrace: true, rule: .either(.line)),
      Input(label: "bom twice before a trace", bytes: bom + bom + trace, isTrace: true, rule: .either(.file)),
      Input(label: "UTF-16 bom before a scenario", bytes: [0xFF, 0xFE] + scenario, rule: .refused(.file)),
      Input(label: "bom alone", bytes: bom, rule: .refused(.file)),
    ]
  }

  static func versions() -> [Input] {
    // JSON keeps no spelling of a number: 2.0 is read as 2.
    let accepted = ["1", "2", "2.0"]
    return [
      "\"1\"", "\"2\"", "1.5", "2.0", "99999999999999999999", "-1", "0", "3", "null", "true", "[2]", "1e400",
      "9223372036854775807", "-9223372036854775809", "1", "2",
    ].map { version in
      Input(
        label: "trace version \(version)", bytes: Array((traceHeader(version: version) + "\n").utf8),
        isTrace: true,
        rule: accepted.contains(version) ? .either(.line) : .refused(.file))
    }
  }

  static func empties() -> [Input] {
    [
      "", "\n", "   \n\t\n", "# only a comment\n", "# one\n# two\n\n", "---\n", "...\n", "---\n# c\n...\n",
      "\r\n\r\n",
      "~\n", "null\n", "--- # nothing\n",
    ].map { Input(label: "empty \(String(reflecting: $0))", bytes: Array($0.utf8), rule: .refused(.file)) }
  }

  static func pastEnd() -> [Input] {
    [
      "100000000", "9223372036854775807", "9223372036854775806", "9223372036854775808", "-1", "1e20", "1.5",
      "\"5\"", "4611686018427387904",
    ]
    .map { step in
      let action = #"{"type":"action","step":\#(step),"action":{"abort":"A"}}"#
      return Input(
        label: "past-end action at \(step)", bytes: Array((traceHeader() + "\n" + action + "\n").utf8),
        isTrace: true,
        rule: .either(.line))
    }
  }

  static func jsonNumbers() -> [Input] {
    let big = "18446744073709551616"
    let lines = [
      #"{"type":"step","step":\#(big),"iteration":0,"phase":"cleanup","event":{"kind":"plan"}}"#,
      #"{"type":"step","step":1,"iteration":\#(big)0000,"phase":"cleanup","event":{"kind":"plan"}}"#,
      #"{"type":"step","step":1e30,"iteration":0,"phase":"cleanup","event":{"kind":"plan"}}"#,
      #"{"type":"step","step":1,"iteration":0,"phase":"refill","event":{"kind":"alloc","result":\#(big)},"frames":[[99999999999999999999,1,0]]}"#,
      #"{"type":"step","step":1,"iteration":0,"phase":"refill","event":{"kind":"alloc"},"free":-9223372036854775809}"#,
      #"{"type":"action","step":0,"action":{"add":{"id":"Z","prompt":\#(big),"output":2}}}"#,
      #"{"type":"action","step":0,"action":{"add":{"id":"Z","prompt":3,"output":1e300}}}"#,
      #"{"type":"action","step":0,"action":{"add":{"id":"Z","arrive":9223372036854775807,"prompt":3,"output":2}}}"#,
      #"{"type":"action","step":0,"action":{"add":{"id":"Z","prompt":[1,\#(big)],"output":2}}}"#,
      #"{"type":"end","steps":\#(big),"done":true,"reason":"all-requests-done"}"#,
    ]
    var inputs = lines.enumerated().map { index, line in
      Input(
        label: "json-number line \(index)", bytes: Array((traceHeader() + "\n" + line + "\n").utf8),
        isTrace: true,
        rule: .either(.line))
    }
    for (key, value) in [("pages", big), ("page_size", "1e400"), ("pages", "-1"), ("pages", "4.5")] {
      let scenario = #"{"cache":{"\#(key)":\#(value)},"requests":[{"id":"A","prompt":3,"output":2}]}"#
      inputs.append(
        Input(
          label: "json-number header \(key) \(value)",
          bytes: Array((traceHeader(scenario: scenario) + "\n").utf8),
          isTrace: true, rule: .refused(.lineColumn)))
    }
    return inputs
  }

  static func waits(_ random: inout SplitMix64) -> [Input] {
    (0..<60).map { index in
      let pages = Int.random(in: 4...16, using: &random)
      let pageSize = Int.random(in: 2...8, using: &random)
      let requests = (0..<Int.random(in: 2...6, using: &random)).map { r in
        let prompt = Int.random(in: 1...(pages * pageSize / 2), using: &random)
        let output = Int.random(in: 1...40, using: &random)
        return
          "  - {id: r\(r), arrive: \(Int.random(in: 0...3, using: &random)), prompt: \(prompt), output: \(output)}"
      }
      let text =
        "cache: {pages: \(pages), page_size: \(pageSize)}\nscheduler: {policy: paged, on_oom: wait, max_batch: 8}\n"
        + "requests:\n" + requests.joined(separator: "\n") + "\n"
      return Input(label: "wait \(index)", bytes: Array(text.utf8), rule: .either(.lineColumn))
    }
  }

  static func nonsense(_ random: inout SplitMix64) -> [Input] {
    let fragments = [
      "{", "}", "[", "]", ":", ": ", "- ", ",", "&a ", "*a", "!!binary ", "!!python/object:os.system ", "? ",
      "|",
      ">", "\t", "'", "\"", "%YAML 1.2\n", "---\n", "...\n", "# c\n", "requests", "cache", "ops", "pages",
      "page_size", "99999999999999999999", "null", "~", "<<: *a", "\n", "\n  ", "  ", "alloc", "{free: ",
      "id", "prompt", "output", "arrive", "events", "abort", "!", "@", "`", "%", "=", "\\", "\u{1b}[2J", "é",
      "漢",
    ]
    var inputs: [Input] = (0..<60).map { index in
      let count = Int.random(in: 1...40, using: &random)
      let text = (0..<count).map { _ in fragments.randomElement(using: &random)! }.joined()
      return Input(
        label: "nonsense \(index): \(String(reflecting: text))", bytes: Array(text.utf8),
        rule: .refused(.file))
    }
    inputs.append(
      Input(
        label: "nonsense: 100,000 nested lists", bytes: Array((String(repeating: "[", count: 100_000)).utf8),
        rule: .refused(.file)))
    inputs.append(
      Input(
        label: "nonsense: 100,000 nested maps",
        bytes: Array(
          (String(repeating: "{a: ", count: 100_000) + String(repeating: "}", count: 100_000)).utf8),
        rule: .refused(.file)))
    var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for level in 1..<9 {
      bomb +=
        "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
        + "]\n"
    }
    inputs.append(
      Input(label: "nonsense: alias bomb", bytes: Array((bomb + requestScenario).utf8), rule: .refused(.file))
    )
    inputs.append(
      Input(
        label: "nonsense: duplicate keys",
        bytes: Array((requestScenario + "cache: {pages: 8, page_size: 4}\n").utf8),
        rule: .refused(.lineColumn)))
    return inputs
  }

  static func inputs() -> [Input] {
    var random = SplitMix64(state: 0x14)
    let waits = Self.waits(&random)
    let nonsense = Self.nonsense(&random)
    return integers() + allocations() + controls() + boms() + versions() + empties()
      + [
        Input(
          label: "large: a file past 64 MiB", bytes: [], rule: .refused(.file), sparseSize: (64 << 20) + 1)
      ] + pastEnd() + jsonNumbers() + waits + nonsense
  }

  // MARK: Running

  struct Run {
    var status: Int32
    var signal: Int32?
    var timedOut: Bool
    var stdout: String
    var stderr: String
  }

  /// Runs kvscope with `arguments`, killing it after `bound` seconds.
  static func run(_ arguments: [String]) -> Run {
    guard let output = try? Harness.run(Harness.binary, arguments, timeout: bound) else {
      return Run(status: -1, signal: nil, timedOut: false, stdout: "", stderr: "cannot run kvscope")
    }
    return Run(
      status: output.signal == nil ? output.status : -1, signal: output.signal, timedOut: output.timedOut,
      stdout: output.stdout, stderr: output.stderr)
  }

  /// What is wrong with one run of `input` at `path`, or nil.
  static func problem(_ run: Run, _ input: Input, path: String, command: String, checkAccepted: Bool)
    -> String?
  {
    if run.timedOut { return "ran past \(bound) s (killed)" }
    if let signal = run.signal { return "killed by signal \(signal)" }
    let controls = run.stdout.unicodeScalars.filter {
      ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value)
    }
    if !controls.isEmpty { return "control characters on stdout: \(controls.map { $0.value })" }
    let locator: Locator
    switch input.rule {
    case .refused(let where_):
      guard run.status == 2 else {
        return "exit \(run.status), expected 2; stdout: \(run.stdout.prefix(300))"
      }
      locator = where_
    case .either(let where_):
      guard [0, 1, 2].contains(run.status) else { return "exit \(run.status)" }
      if run.status != 2 { return nil }
      locator = where_
    }
    if command == "frame" && checkAccepted && run.stderr.contains("--step 2 is outside the run") {
      return nil
    }
    guard run.stderr.contains(path) else { return "exit 2 without the file named: \(run.stderr.prefix(300))" }
    let after = run.stderr.components(separatedBy: path).dropFirst().joined(separator: path)
    let digits = "[0-9]+"
    let pattern: String
    switch locator {
    case .file: return nil
    case .line: pattern = "^:\(digits)"
    case .lineColumn: pattern = "^:\(digits):\(digits)"
    }
    if after.range(of: pattern, options: .regularExpression) == nil {
      return "exit 2 without a position (\(locator)): \(run.stderr.prefix(300))"
    }
    return nil
  }

  /// Collects failures from the worker threads.
  final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var list: [String] = []
    private(set) var runs = 0

    func add(_ failure: String) {
      lock.lock()
      list.append(failure)
      lock.unlock()
    }

    func count(_ n: Int) {
      lock.lock()
      runs += n
      lock.unlock()
    }
  }

  @Test func hostileInputsAreRefusedOrAcceptedAsDocumented() throws {
    let inputs = Self.inputs()
    #expect(inputs.count >= 500)
    let directory = NSTemporaryDirectory() + "kvscope-fuzz-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var paths: [String] = []
    for (index, input) in inputs.enumerated() {
      let path = "\(directory)/input-\(index)\(input.isTrace ? ".kvtrace" : ".yaml")"
      if let size = input.sparseSize {
        try Data("cache: {pages: 8}\n".utf8).write(to: URL(fileURLWithPath: path))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
      } else {
        try Data(input.bytes).write(to: URL(fileURLWithPath: path))
      }
      paths.append(path)
    }
    let failures = Failures()
    let files = paths
    let workers = max(2, ProcessInfo.processInfo.activeProcessorCount)
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      for index in stride(from: worker, to: inputs.count, by: workers) {
        let input = inputs[index]
        let path = files[index]
        var commands: [(String, [String])] = [
          ("check", ["check", path]), ("frame", ["frame", "--step", "2", "--size", "80x24", path]),
        ]
        if input.isTrace { commands.append(("replay", ["replay", "--verify", path])) }
        var checkAccepted = false
        for (name, arguments) in commands {
          let run = Self.run(arguments)
          if name == "check" { checkAccepted = run.status == 0 || run.status == 1 }
          if let problem = Self.problem(run, input, path: path, command: name, checkAccepted: checkAccepted) {
            failures.add("[\(input.label)] \(name): \(problem)")
          }
        }
        failures.count(commands.count)
      }
    }
    #expect(failures.runs >= 1_000)
    for failure in failures.list { Issue.record(Comment(rawValue: failure)) }
  }
}
