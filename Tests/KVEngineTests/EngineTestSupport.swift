import Testing

@testable import KVEngine

/// Helpers shared by the engine tests: scenario builders, runs stepped by hand, and comparable
/// snapshots of an `EngineState`.
enum T {
  /// The requests an out-of-bounds write's frame belonged to.
  static func owners(_ finding: Finding?) -> [Int] {
    if case .outOfBoundsWrite(_, _, _, _, let owners)? = finding?.detail { return owners }
    return []
  }

  static func seed(
    pages: Int, pageSize: Int, maxBatch: Int = 8, _ requests: [RequestSpec], events: [ScenarioEvent] = []
  ) -> Scenario {
    Scenario(
      name: "seed-test", cache: CacheConfig(pages: pages, pageSize: pageSize),
      scheduler: SchedulerConfig(policy: .astraiSeed, maxBatch: maxBatch), requests: requests, events: events)
  }

  static func paged(
    pages: Int, pageSize: Int, maxBatch: Int = 8, prefix: Bool = false, onOOM: OOMAction = .preempt,
    decode: DecodeOrder = .all, _ requests: [RequestSpec], events: [ScenarioEvent] = [],
    maxIterations: Int = 10_000
  ) -> Scenario {
    Scenario(
      name: "paged-test", cache: CacheConfig(pages: pages, pageSize: pageSize),
      scheduler: SchedulerConfig(
        policy: .paged, maxBatch: maxBatch, prefixCache: prefix, onOOM: onOOM, decode: decode),
      requests: requests, events: events, maxIterations: maxIterations)
  }

  /// A `vllm-v1` or `nano-vllm` scenario.
  static func engine(
    _ policy: PolicyID, pages: Int, pageSize: Int, maxBatch: Int = 8, budget: Int = 64, prefix: Bool = true,
    _ requests: [RequestSpec], events: [ScenarioEvent] = []
  ) -> Scenario {
    Scenario(
      name: "\(policy)-test", cache: CacheConfig(pages: pages, pageSize: pageSize),
      scheduler: SchedulerConfig(
        policy: policy, maxBatch: maxBatch,
        prefixCache: policy.type.keys.contains(.prefixCache) ? prefix : nil,
        maxBatchedTokens: budget),
      requests: requests, events: events, maxIterations: 10_000)
  }

  /// The state at the end of each iteration (index = iteration), as an engine's state after its step.
  static func iterationEnds(_ scenario: Scenario) -> [EngineState] {
    var ends: [EngineState] = []
    var previous = EngineState(scenario: scenario)
    var state = previous
    while state.advance() {
      while ends.count < state.iteration { ends.append(previous) }
      previous = state
    }
    return ends
  }

  /// The states right after the steps whose action `matches` accepts.
  static func steps(_ states: [EngineState], _ matches: (StepAction) -> Bool) -> [EngineState] {
    states.filter { matches($0.event.action) }
  }

  static func ops(pages: Int, checked: Bool, _ ops: [PoolOp]) -> Scenario {
    Scenario(
      name: "ops-test", cache: CacheConfig(pages: pages, pageSize: 16),
      scheduler: SchedulerConfig(policy: checked ? .paged : .astraiSeed), ops: ops)
  }

  static func req(_ id: String, at arrive: Int = 0, _ prompt: Int, out: Int) -> RequestSpec {
    RequestSpec(id: id, arrive: arrive, prompt: .length(prompt), output: out)
  }

  static func req(_ id: String, at arrive: Int = 0, tokens: [Int], out: Int) -> RequestSpec {
    RequestSpec(id: id, arrive: arrive, prompt: .tokens(tokens), output: out)
  }

  /// Every state of a run, from the start (index = step), stepped without a timeline.
  static func run(_ scenario: Scenario, limit: Int = 1_000_000) -> [EngineState] {
    var state = EngineState(scenario: scenario)
    var states = [state]
    while states.count <= limit, state.advance() { states.append(state) }
    return states
  }

  static func findings(_ states: [EngineState]) -> [Finding] { states.flatMap(\.findings) }

  static func kinds(_ findings: [Finding]) -> [FindingKind] { findings.map(\.kind) }
}

/// The observable fields of a state, comparable with `==`.
struct Snapshot: Equatable {
  var step: Int
  var iteration: Int
  var phase: Phase
  var pool: PagePool
  var mask: String
  var refs: [Int32]
  var tables: [[Int]]
  var statuses: [RequestStatus]
  var outputs: [Int]
  var computed: [Int]
  var waiting: [Int]
  var active: [Int]
  var event: StepEvent
  var findings: [Finding]
  var stats: RunStats
  var endReason: EndReason?
  var checker: Checker

  init(_ s: EngineState) {
    step = s.step
    iteration = s.iteration
    phase = s.phase
    pool = s.pool
    mask = s.pool.freeMask.binary()
    refs = Array(s.pool.refs)
    tables = s.requests.map(\.pageTable)
    statuses = s.requests.map(\.status)
    outputs = s.requests.map(\.output)
    computed = s.requests.map(\.computed)
    waiting = Array(s.waiting)
    active = s.active
    event = s.event
    findings = s.findings
    stats = s.stats
    endReason = s.endReason
    checker = s.checker
  }
}

extension EngineState {
  /// True when every frame is free, or cached in the LRU list, with refcount 0.
  var allFramesReleased: Bool {
    (0..<pool.count).allSatisfy { f in
      pool.refs[f] == 0 && (pool.freeMask.contains(f) != pool.lru.contains(f))
        && (pool.lru.contains(f) == pool.isCached(f))
    }
  }
}
