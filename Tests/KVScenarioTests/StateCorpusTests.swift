import Foundation
import KVEngine
import KVScenario
import Testing

/// A frozen corpus of state digests: every shipped scenario and 1,200 random scenarios of both
/// policies (allocator-only ones included, with user actions at operation boundaries), generated from
/// kvscope before the policy-per-file reshaping. A digest covers every state of a run apart from text
/// fields and the page table of a request whose pages are being released. `KVSCOPE_RECORD=1` rewrites
/// the digests from the code under test, keeping the stored user actions.
struct StateCorpusTests {
  static let corpusURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Corpus/state-digests.txt")
  static let scenariosURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../scenarios")

  @Test func statesMatchTheFrozenCorpus() throws {
    var lines: [String] = []
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.scenariosURL.path)
      .filter { $0.hasSuffix(".yaml") }.sorted()
    for file in files {
      let scenario = try ScenarioLoader.load(path: Self.scenariosURL.appendingPathComponent(file).path)
      let (steps, digest) = CorpusDigest.run(scenario, actions: [:])
      lines.append("file \(file) \(steps) \(digest)")
    }
    for index in 0..<CorpusGenerator.count {
      let scenario = CorpusGenerator.scenario(index)
      let actions = try CorpusGenerator.actions(index, recorded: Self.recordedActions())
      let (steps, digest) = CorpusDigest.run(scenario, actions: actions)
      let actionText = actions.keys.sorted().map { "\($0):\(CorpusGenerator.encode(actions[$0]!))" }
        .joined(separator: ",")
      lines.append("random \(index) \(steps) \(digest) \(actionText.isEmpty ? "-" : actionText)")
    }
    let text = lines.joined(separator: "\n") + "\n"
    if ProcessInfo.processInfo.environment["KVSCOPE_RECORD"] == "1" {
      try FileManager.default.createDirectory(
        at: Self.corpusURL.deletingLastPathComponent(), withIntermediateDirectories: true)
      try text.write(to: Self.corpusURL, atomically: true, encoding: .utf8)
      return
    }
    let expected = try String(contentsOf: Self.corpusURL, encoding: .utf8).split(separator: "\n")
    let actual = text.split(separator: "\n")
    #expect(expected.count == actual.count)
    var mismatches = 0
    for (e, a) in zip(expected, actual) where e != a {
      mismatches += 1
      if mismatches <= 5 { Issue.record("corpus differs:\n  expected \(e)\n  actual   \(a)") }
    }
    #expect(mismatches == 0, "\(mismatches) of \(expected.count) runs differ")
  }

  nonisolated(unsafe) static var cachedActions: [Int: [Int: UserAction]]?

  /// The user actions stored in the corpus, by random scenario index.
  static func recordedActions() throws -> [Int: [Int: UserAction]]? {
    if let cachedActions { return cachedActions }
    var result: [Int: [Int: UserAction]] = [:]
    let text = try String(contentsOf: corpusURL, encoding: .utf8)
    for line in text.split(separator: "\n") where line.hasPrefix("random ") {
      let parts = line.split(separator: " ")
      guard parts.count == 5, let index = Int(parts[1]) else { continue }
      var actions: [Int: UserAction] = [:]
      if parts[4] != "-" {
        for item in parts[4].split(separator: ",") {
          let pair = item.split(separator: ":", maxSplits: 1)
          if let step = Int(pair[0]), let action = CorpusGenerator.decode(String(pair[1])) {
            actions[step] = action
          }
        }
      }
      result[index] = actions
    }
    cachedActions = result
    return result
  }
}

/// A digest of every state of a run.
enum CorpusDigest {
  /// Runs the scenario with user actions applied before the given steps, as a timeline does.
  static func run(_ scenario: Scenario, actions: [Int: UserAction]) -> (steps: Int, digest: String) {
    let timeline = Timeline(scenario: scenario, interval: 1 << 30, actions: actions)
    var hash = FNV()
    for state in timeline.states(0...timeline.totalSteps) { hash.add(canonical(state)) }
    return (timeline.totalSteps, hash.hex)
  }

  /// The observable fields of one state as a line of text; no sentences.
  static func canonical(_ state: EngineState) -> String {
    let record = StateRecord(state)
    var text = "\(record.step) \(record.iteration) \(record.phase) \(record.event.kind)"
    switch record.event.result {
    case .value(let v)?: text += " =\(v)"
    case .frames(let f)?: text += " =\(f)"
    case nil: break
    }
    text += " \(record.freeMask) \(record.refs) \(record.lru)"
    for request in state.requests where request.status != .pending {
      text += " \(request.id):\(request.status.rawValue):\(request.computed):\(request.output)"
      if !request.releasing { text += ":\(request.pageTable)" }
    }
    text += " w\(record.waiting) a\(state.active.map { state.requests[$0].id })"
    for finding in state.findings {
      text += " !\(finding.kind.rawValue):\(finding.frame ?? -1):\(finding.request ?? -1)"
    }
    if state.isDone { text += " done" }
    return text
  }
}

/// FNV-1a, 64 bits.
struct FNV {
  var value: UInt64 = 0xCBF2_9CE4_8422_2325
  mutating func add(_ text: String) {
    for byte in text.utf8 {
      value ^= UInt64(byte)
      value = value &* 0x100_0000_01B3
    }
    value ^= 0x0A
    value = value &* 0x100_0000_01B3
  }
  var hex: String { String(value, radix: 16) }
}

/// Deterministic random scenarios for the corpus.
enum CorpusGenerator {
  static let count = 1_200

  /// Scenario `index`: allocator-only for every eighth, the seed for a third of the rest, else paged.
  static func scenario(_ index: Int) -> Scenario {
    var rng = SplitMix64(state: UInt64(index) &* 7919 &+ 17)
    let seedPolicy = index % 3 == 1
    if index % 8 == 7 {
      let pages = rng.draw(1...24)
      var ops: [PoolOp] = []
      for _ in 0..<rng.draw(1...30) {
        switch rng.draw(0...9) {
        case 0...3: ops.append(.alloc)
        case 4...6: ops.append(.free(rng.draw(-1...pages)))
        case 7: ops.append(.incRef(rng.draw(0...pages - 1)))
        default: ops.append(.allocN(rng.draw(0...pages + 1)))
        }
      }
      return Scenario(
        name: "ops", cache: CacheConfig(pages: pages, pageSize: 16),
        scheduler: SchedulerConfig(policy: seedPolicy ? .astraiSeed : .paged), ops: ops)
    }
    let pages = rng.draw(1...40)
    let pageSize = rng.draw(1...8)
    let maxBatch = rng.draw(1...6)
    let prefix = !seedPolicy && rng.draw(0...1) == 1
    let onOOM = OOMAction.allCases[rng.draw(0...2)]
    let decode: DecodeOrder =
      rng.draw(0...3) == 0 ? (seedPolicy ? .all : .largestGroup) : (seedPolicy ? .largestGroup : .all)
    let capacity = pages * pageSize
    let prefixes = (0..<3).map { _ in (0..<rng.draw(0...16)).map { _ in rng.draw(1...3) } }
    var requests: [RequestSpec] = []
    let count = rng.draw(1...8)
    for i in 0..<count {
      let arrive = rng.draw(0...8)
      let output = min(rng.draw(0...12), capacity)
      let maxPrompt = capacity - output
      let prompt: Prompt
      if rng.draw(0...2) > 0 {
        let base = prefixes[rng.draw(0...2)]
        let tail = (0..<rng.draw(0...8)).map { _ in rng.draw(1...3) }
        prompt = .tokens(Array((base + tail).prefix(max(0, seedPolicy ? capacity : maxPrompt))))
      } else {
        prompt = .length(min(rng.draw(0...capacity), seedPolicy ? capacity : maxPrompt))
      }
      requests.append(RequestSpec(id: "R\(i)", arrive: arrive, prompt: prompt, output: output))
    }
    var events: [ScenarioEvent] = []
    for _ in 0..<rng.draw(0...2) {
      events.append(ScenarioEvent(at: rng.draw(0...10), action: .abort("R\(rng.draw(0...count - 1))")))
    }
    return Scenario(
      name: "random", cache: CacheConfig(pages: pages, pageSize: pageSize),
      scheduler: SchedulerConfig(
        policy: seedPolicy ? .astraiSeed : .paged, maxBatch: maxBatch, prefixCache: prefix, onOOM: onOOM,
        decode: decode),
      requests: requests, events: events, maxIterations: 200)
  }

  /// The user actions of scenario `index`, as stored in the corpus. They were chosen at operation
  /// boundaries of the agenda engine's runs when the corpus was made.
  static func actions(_ index: Int, recorded: [Int: [Int: UserAction]]?) throws -> [Int: UserAction] {
    recorded?[index] ?? [:]
  }

  static func encode(_ action: UserAction) -> String {
    switch action {
    case .addRequest(let spec): return "add/\(spec.id)/\(spec.prompt.count)/\(spec.output)"
    case .abort(let id): return "abort/\(id)"
    case .pool(.alloc): return "alloc"
    case .pool(.free(let f)): return "free/\(f)"
    case .pool(.incRef(let f)): return "incref/\(f)"
    case .pool(.allocN(let n)): return "allocn/\(n)"
    }
  }

  static func decode(_ text: String) -> UserAction? {
    let parts = text.split(separator: "/").map(String.init)
    switch parts.first {
    case "add":
      return .addRequest(
        RequestSpec(id: parts[1], prompt: .length(Int(parts[2])!), output: Int(parts[3])!))
    case "abort": return .abort(parts[1])
    case "alloc": return .pool(.alloc)
    case "free": return .pool(.free(Int(parts[1])!))
    case "incref": return .pool(.incRef(Int(parts[1])!))
    case "allocn": return .pool(.allocN(Int(parts[1])!))
    default: return nil
    }
  }
}

extension SplitMix64 {
  /// A number in `range` (modulo draw: the corpus was generated this way).
  mutating func draw(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.count))
  }
}
