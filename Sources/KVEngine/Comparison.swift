/// What one iteration of a run decided, in terms that two runs of the same requests can be compared in.
public struct IterationFacts: Sendable, Equatable {
  /// Requests admitted (started running), in order.
  public var admitted: [Int] = []
  /// Prefix-hit pages of each admission, by request.
  public var hits: [Int: Int] = [:]
  public var preempted: [Int] = []
  public var finished: [Int] = []
  /// The iteration admitted nothing because it preempted (vLLM, `paged`).
  public var admissionSkipped = false
  /// Frames that joined page tables: a new block or a prefix hit.
  public var blocks: [BlockChoice] = []

  public init() {}

  /// The facts with lists in a fixed order, and without blocks unless `withBlocks`: equal when two runs
  /// decided the same.
  public func normalized(withBlocks: Bool) -> IterationFacts {
    var facts = self
    facts.admitted.sort()
    facts.preempted.sort()
    facts.finished.sort()
    facts.blocks = withBlocks ? blocks.sorted() : []
    return facts
  }
}

/// A frame that joined request `request`'s page table as logical page `page`.
public struct BlockChoice: Sendable, Hashable, Comparable {
  public var request: Int
  public var page: Int
  public var frame: Int

  public static func < (a: BlockChoice, b: BlockChoice) -> Bool {
    (a.request, a.page, a.frame) < (b.request, b.page, b.frame)
  }
}

/// A request's milestones, as iterations.
public struct RequestTimes: Sendable, Equatable {
  public var arrive: Int
  /// The first admission.
  public var admitted: Int?
  public var firstToken: Int?
  public var finished: Int?
}

/// One run of a comparison, to its end: the facts of each iteration and each request's milestones.
public struct RunRecord: Sendable {
  public let scenario: Scenario
  /// Index = iteration.
  public private(set) var facts: [IterationFacts] = []
  /// Index = request.
  public private(set) var times: [RequestTimes]
  public private(set) var final: EngineState
  public private(set) var findings: [Finding] = []

  /// Runs `scenario` to its end. Cost: one run of the scenario.
  public init(scenario: Scenario) {
    let collector = Collector(scenario)
    var state = EngineState(scenario: scenario)
    state.run(to: Int.max, observe: collector.observe)
    self.init(scenario: scenario, collector, final: state)
  }

  /// The record and a steppable timeline of `scenario`, from the same single run.
  public static func withTimeline(_ scenario: Scenario) -> (record: RunRecord, timeline: Timeline) {
    let collector = Collector(scenario)
    let timeline = Timeline(scenario: scenario, observe: collector.observe)
    return (RunRecord(scenario: scenario, collector, final: timeline.final), timeline)
  }

  private init(scenario: Scenario, _ collector: Collector, final: EngineState) {
    self.scenario = scenario
    facts = collector.facts
    times = collector.times
    findings = final.findingsSoFar
    self.final = final
  }

  /// Collects facts step by step.
  private final class Collector {
    var facts: [IterationFacts] = []
    var times: [RequestTimes]

    init(_ scenario: Scenario) { times = scenario.requests.map { RequestTimes(arrive: $0.arrive) } }

    func observe(_ state: EngineState) {
      let iteration = state.iteration
      guard state.phase != .done else { return }
      while facts.count <= iteration { facts.append(IterationFacts()) }
      switch state.event.action {
      case .admitted(let r, _, let hitPages):
        facts[iteration].admitted.append(r)
        facts[iteration].hits[r] = hitPages
        if r < times.count, times[r].admitted == nil { times[r].admitted = iteration }
      case .preempted(let r, _, _):
        facts[iteration].preempted.append(r)
      case .retired(let r, .finished):
        facts[iteration].finished.append(r)
        if r < times.count { times[r].finished = iteration }
      case .plan(.waiting, .schedule(_, _, true)), .plan(.refill, .refill(_, _, true)):
        facts[iteration].admissionSkipped = true
      case .alloc(let trace, .admit(let r, _, let have)) where trace.frame >= 0,
        .alloc(let trace, .grow(let r, _, _, let have)) where trace.frame >= 0:
        facts[iteration].blocks.append(BlockChoice(request: r, page: have, frame: trace.frame))
      case .incRef(let trace, let r?):
        let page = state.requests[r].pageTable.count - 1
        facts[iteration].blocks.append(BlockChoice(request: r, page: page, frame: trace.frame))
      case .write(let r, _, _, _, _), .sampled(let r, _, _):
        if r < times.count, times[r].firstToken == nil { times[r].firstToken = iteration }
      default:
        break
      }
    }
  }
}

/// An iteration where the runs decided differently.
public struct Divergence: Sendable, Equatable {
  public var iteration: Int
  /// Each run's facts of that iteration (empty for a run that had ended).
  public var facts: [IterationFacts]
}

/// Runs of the same requests under different policies or settings, and where they part ways.
public struct Comparison: Sendable {
  public let runs: [RunRecord]
  /// Block ids are compared only between runs whose pools number frames alike (same size, same
  /// reserved frame); otherwise only the decisions are.
  public let comparesBlocks: Bool
  /// Every iteration whose facts differ between the runs, in order.
  public let divergences: [Divergence]

  /// Compares `runs`. Cost: O(iterations x runs).
  public init(runs: [RunRecord]) {
    self.runs = runs
    let pools = Set(runs.map { "\($0.scenario.cache.pages)/\($0.final.pool.reserved ?? -1)" })
    let withBlocks = pools.count <= 1
    comparesBlocks = withBlocks
    let iterations = runs.map(\.facts.count).max() ?? 0
    var divergences: [Divergence] = []
    for iteration in 0..<iterations {
      let facts = runs.map { iteration < $0.facts.count ? $0.facts[iteration] : IterationFacts() }
      let normalized = facts.map { $0.normalized(withBlocks: withBlocks) }
      if normalized.contains(where: { $0 != normalized[0] }) {
        divergences.append(Divergence(iteration: iteration, facts: facts))
      }
    }
    self.divergences = divergences
  }
}

/// Percentiles of a list of whole numbers, by nearest rank.
public struct Percentiles: Sendable, Equatable {
  public var p50: Int
  public var p90: Int
  public var p99: Int
  public var max: Int
  public var count: Int

  /// nil for an empty list.
  public init?(_ values: [Int]) {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    func rank(_ p: Int) -> Int { sorted[Swift.max(0, (p * sorted.count + 99) / 100 - 1)] }
    p50 = rank(50)
    p90 = rank(90)
    p99 = rank(99)
    max = sorted[sorted.count - 1]
    count = sorted.count
  }
}

extension RunRecord {
  /// Iterations from arrival to admission, to the first output token and to finish, over the requests
  /// that reached each.
  public var latencies: (admission: Percentiles?, firstToken: Percentiles?, finish: Percentiles?) {
    (
      Percentiles(times.compactMap { t in t.admitted.map { $0 - t.arrive } }),
      Percentiles(times.compactMap { t in t.firstToken.map { $0 - t.arrive } }),
      Percentiles(times.compactMap { t in t.finished.map { $0 - t.arrive } })
    )
  }
}
