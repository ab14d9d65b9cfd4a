import Testing

@testable import KVEngine

enum Scenarios {
  static let walkthrough = WalkthroughTests.scenario

  static let prefixSharing = T.paged(
    pages: 10, pageSize: 4, maxBatch: 4, prefix: true, onOOM: .preempt,
    [
      T.req("A", tokens: [1, 2, 3, 4, 5, 6, 7, 8, 20, 21], out: 2),
      T.req("B", at: 1, tokens: [1, 2, 3, 4, 5, 6, 7, 8, 30, 31, 32], out: 2),
      T.req("C", at: 2, tokens: [1, 2, 3, 4, 5, 6, 7, 8, 40], out: 3),
      T.req(
        "D", at: 8,
        tokens: [
          9, 9, 9, 9, 8, 8, 8, 8, 7, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 1,
          1, 1,
        ],
        out: 2),
      T.req("E", at: 12, tokens: [1, 2, 3, 4, 5, 6, 7, 8, 50], out: 1),
    ])

  static let oomPreempt = T.paged(
    pages: 5, pageSize: 4, maxBatch: 4, onOOM: .preempt, PagedPolicyTests.oomRequests)

  static let lostTask = T.seed(
    pages: 4, pageSize: 16, maxBatch: 4,
    [T.req("A", 40, out: 4), T.req("B", 30, out: 4), T.req("C", 10, out: 4)])

  static let emptyPrompt = T.seed(
    pages: 4, pageSize: 16, maxBatch: 1, [T.req("A", 0, out: 2), T.req("B", at: 1, 10, out: 2)])

  static let allocLesson = T.ops(
    pages: 4, checked: false,
    [.alloc, .alloc, .free(0), .allocN(2), .incRef(1), .free(1), .free(1), .alloc, .allocN(2)])

  static let waitDeadlock = T.paged(
    pages: 4, pageSize: 4, onOOM: .wait, [T.req("A", 8, out: 5), T.req("B", 8, out: 5)])

  static let all: [(String, Scenario)] = [
    ("walkthrough", walkthrough), ("prefix-sharing", prefixSharing), ("oom-preempt", oomPreempt),
    ("lost-task", lostTask), ("empty-prompt", emptyPrompt), ("alloc-lesson", allocLesson),
    ("wait-deadlock", waitDeadlock),
  ]
}

struct TimelineTests {
  static let geometries: [(interval: Int, maxCheckpoints: Int)] = [(64, 256), (4, 4), (1, 2), (3, 5), (7, 3)]

  @Test(arguments: Scenarios.all.indices)
  func seekingMatchesSteppingFromTheStart(_ index: Int) {
    let (name, scenario) = Scenarios.all[index]
    let reference = T.run(scenario).map(Snapshot.init)
    let total = reference.count - 1
    for geometry in Self.geometries {
      var timeline = Timeline(
        scenario: scenario, interval: geometry.interval, maxCheckpoints: geometry.maxCheckpoints)
      #expect(timeline.totalSteps == total, "\(name)")
      #expect(timeline.checkpointCount <= max(2, geometry.maxCheckpoints), "\(name)")
      #expect(timeline.findings == reference.flatMap(\.findings), "\(name)")
      #expect(Snapshot(timeline.final) == reference[total], "\(name)")
      var mismatches = 0
      for step in 0...total where Snapshot(timeline.state(at: step)) != reference[step] { mismatches += 1 }
      // Forward one step at a time, then back, then random jumps.
      for step in 0...total {
        timeline.seek(to: step)
        if Snapshot(timeline.current) != reference[step] { mismatches += 1 }
      }
      for _ in 0...total {
        timeline.move(.step, forward: false)
      }
      #expect(timeline.current.step == 0)
      for step in 0...total {
        if Snapshot(timeline.current) != reference[step] { mismatches += 1 }
        timeline.move(.step, forward: true)
      }
      var rng = SplitMix64(state: UInt64(index * 1000 + geometry.interval))
      for _ in 0..<200 {
        let step = Int(rng.next() % UInt64(total + 1))
        timeline.seek(to: step)
        if Snapshot(timeline.current) != reference[step] { mismatches += 1 }
      }
      #expect(
        mismatches == 0,
        "\(name) interval \(geometry.interval) max \(geometry.maxCheckpoints): \(mismatches) mismatches")
      // Clamping.
      timeline.seek(to: total + 100)
      #expect(timeline.current.step == total)
      timeline.seek(to: -5)
      #expect(timeline.current.step == 0)
      #expect(timeline.states(0...total).map(Snapshot.init) == reference, "\(name)")
    }
  }

  @Test func thinningKeepsCheckpointsBounded() {
    let timeline = Timeline(scenario: Scenarios.walkthrough, interval: 4, maxCheckpoints: 4)
    #expect(timeline.totalSteps > 100)
    #expect(timeline.checkpointCount <= 4)
    #expect(timeline.checkpointInterval > 4)
    #expect(timeline.checkpointInterval * timeline.checkpointCount > timeline.totalSteps)
  }

  @Test(arguments: Scenarios.all.indices)
  func granularityMovesLandOnPlanSteps(_ index: Int) {
    let (name, scenario) = Scenarios.all[index]
    let reference = T.run(scenario).map(Snapshot.init)
    var timeline = Timeline(scenario: scenario, interval: 4, maxCheckpoints: 4)
    let total = timeline.totalSteps
    for granularity in [Granularity.phase, .iteration] {
      timeline.seek(to: 0)
      var landings: [Int] = []
      while timeline.current.step < total {
        let before = timeline.current.step
        timeline.move(granularity, forward: true)
        #expect(timeline.current.step > before)
        landings.append(timeline.current.step)
        #expect(Snapshot(timeline.current) == reference[timeline.current.step], "\(name)")
        guard case .plan(let phase, _) = timeline.current.event.action else {
          Issue.record("\(name): \(granularity) move landed on \(timeline.current.event.action)")
          continue
        }
        if granularity == .iteration && timeline.current.step < total {
          #expect(phase == .cleanup, "\(name)")
        }
      }
      let marks = granularity == .phase ? timeline.phaseStarts : timeline.iterationStarts
      #expect(landings.filter { $0 < total } == marks.filter { $0 < total }, "\(name)")
      var back: [Int] = []
      while timeline.current.step > 0 {
        timeline.move(granularity, forward: false)
        back.append(timeline.current.step)
      }
      #expect(back.reversed() == [0] + marks.filter { $0 < total }, "\(name) \(granularity)")
    }
    // Every plan step is a phase start, and only those.
    let planSteps = reference.indices.filter {
      if case .plan = reference[$0].event.action { return true } else { return false }
    }
    #expect(timeline.phaseStarts == planSteps, "\(name)")
  }

  @Test(arguments: Scenarios.all.indices)
  func runsAreDeterministic(_ index: Int) {
    let scenario = Scenarios.all[index].1
    let a = Timeline(scenario: scenario)
    let b = Timeline(scenario: scenario, interval: 5, maxCheckpoints: 3)
    #expect(a.findings == b.findings)
    #expect(a.totalSteps == b.totalSteps)
    #expect(Snapshot(a.final) == Snapshot(b.final))
    #expect(a.samples == b.samples)
    #expect(a.iterationStarts == b.iterationStarts)
  }

  @Test func shippedScenariosHaveTheIntendedFindings() {
    #expect(Timeline(scenario: Scenarios.walkthrough).findings.isEmpty)
    #expect(Timeline(scenario: Scenarios.prefixSharing).findings.isEmpty)
    #expect(Timeline(scenario: Scenarios.oomPreempt).findings.isEmpty)
    #expect(T.kinds(Timeline(scenario: Scenarios.lostTask).findings) == [.lostTask])
    #expect(T.kinds(Timeline(scenario: Scenarios.emptyPrompt).findings) == [.emptyPromptDeadlock])
    #expect(Timeline(scenario: Scenarios.allocLesson).findings.isEmpty)
    let prefix = Timeline(scenario: Scenarios.prefixSharing).final
    #expect(prefix.requests.allSatisfy { $0.status == .finished })
    #expect(prefix.stats.prefixHitPages >= 4)
    #expect(prefix.stats.evictions > 0)
    #expect(prefix.allFramesReleased)
  }

  @Test func nextFindingAndSamples() {
    var timeline = Timeline(scenario: Scenarios.lostTask)
    #expect(timeline.nextFinding?.kind == .lostTask)
    timeline.seek(to: timeline.nextFinding!.step)
    #expect(timeline.nextFinding == nil)
    #expect(timeline.samples.count == timeline.iterationStarts.count)
    #expect(timeline.samples.map(\.step) == timeline.iterationStarts)
  }
}

/// User actions are steps of their own; applying one rewrites the future.
struct UserActionTests {
  /// Steps by hand with `actions` enqueued before the step that follows their key.
  static func manual(_ scenario: Scenario, _ actions: [Int: UserAction]) -> [EngineState] {
    var state = EngineState(scenario: scenario)
    var states = [state]
    while true {
      if let action = actions[state.step] { state.enqueue(action) }
      guard state.advance() else { break }
      states.append(state)
    }
    return states
  }

  static let base = T.paged(
    pages: 8, pageSize: 4, maxBatch: 4, [T.req("A", 6, out: 6), T.req("B", at: 2, 3, out: 3)])

  /// In a run long enough to hash its prompt blocks ahead on another thread, a request added mid-run
  /// (it has no place in the arrival order that the hashing follows) is admitted, hits the prefix
  /// cache and finishes.
  @Test func aRequestAddedToARunThatWarmsItsBlocksFinishes() {
    let blocks = { (i: Int) in Prompt.blocks(ids: [0, 1, 10 + i], blockSize: 8, length: 20) }
    let requests = (0..<EngineState.warmingRequests).map {
      RequestSpec(id: "r\($0)", arrive: $0, prompt: blocks($0), output: 4)
    }
    var state = EngineState(scenario: T.paged(pages: 64, pageSize: 4, maxBatch: 4, prefix: true, requests))
    state.run(to: 200)
    state.enqueue(.addRequest(RequestSpec(id: "X", arrive: 0, prompt: blocks(99), output: 4)))
    state.run(to: Int.max)
    #expect(state.isDone)
    #expect(state.requests.allSatisfy { $0.status == .finished })
    #expect(state.findingsSoFar.isEmpty)
    #expect(state.requests[requests.count].hitPages == 4)
  }

  @Test func addRequestMidRun() {
    var timeline = Timeline(scenario: Self.base, interval: 4, maxCheckpoints: 4)
    let step = timeline.iterationStarts[1] + 2
    timeline.seek(to: step)
    timeline.apply(.addRequest(T.req("X", 5, out: 2)))
    #expect(timeline.current.step == step + 1)
    #expect(timeline.current.event.action == .added(request: 2))
    #expect(timeline.current.requests[2].status == .waiting)
    #expect(timeline.findings.isEmpty)
    let final = timeline.final
    #expect(final.requests.map(\.status) == [.finished, .finished, .finished])
    #expect(final.requests[2].output == 2)
    #expect(final.allFramesReleased)
    // The rewritten future is what stepping by hand with that action gives, at every step.
    let reference = Self.manual(Self.base, [step: .addRequest(T.req("X", 5, out: 2))]).map(Snapshot.init)
    #expect(timeline.totalSteps == reference.count - 1)
    var mismatches = 0
    for s in 0...timeline.totalSteps where Snapshot(timeline.state(at: s)) != reference[s] { mismatches += 1 }
    #expect(mismatches == 0)
  }

  @Test func applyRewritesTheFuture() {
    var timeline = Timeline(scenario: Self.base, interval: 2, maxCheckpoints: 3)
    let original = timeline.totalSteps
    timeline.seek(to: 20)
    timeline.apply(.addRequest(T.req("X", 5, out: 2)))
    #expect(timeline.totalSteps > original)
    timeline.seek(to: 10)
    timeline.apply(.addRequest(T.req("Y", 2, out: 1)))
    #expect(timeline.actions.count == 1)
    #expect(timeline.final.requests.map(\.id) == ["A", "B", "Y"])
    let reference = Self.manual(Self.base, [10: .addRequest(T.req("Y", 2, out: 1))]).map(Snapshot.init)
    var mismatches = 0
    for s in 0...timeline.totalSteps where Snapshot(timeline.state(at: s)) != reference[s] { mismatches += 1 }
    #expect(mismatches == 0)
    #expect(timeline.findings == reference.flatMap(\.findings))
    // Seeking back before the action and forward again replays it.
    timeline.seek(to: 3)
    timeline.seek(to: timeline.totalSteps)
    #expect(Snapshot(timeline.current) == reference.last!)
  }

  @Test func abortARunningRequest() {
    var timeline = Timeline(scenario: Self.base)
    let states = timeline.states(0...timeline.totalSteps)
    let step = states.lastIndex {
      $0.requests[0].status == .running && $0.phase == .decode && $0.requests[0].output == 2
    }!
    timeline.seek(to: step)
    // Given at the decode plan, the abort runs after the decode phase under way: A writes once more.
    let at = timeline.apply(.abort("A"))
    #expect(at > step && timeline.state(at: at).isAtBoundary)
    #expect(timeline.current.event.action == .aborted(request: 0))
    #expect(timeline.findings.isEmpty)
    let final = timeline.final
    #expect(final.requests[0].status == .aborted)
    #expect(final.requests[0].output == 3)
    #expect(final.requests[1].status == .finished)
    #expect(final.allFramesReleased)
  }

  @Test func abortAWaitingRequest() {
    let scenario = T.paged(
      pages: 2, pageSize: 4, maxBatch: 4, [T.req("A", 5, out: 3), T.req("B", at: 1, 6, out: 1)])
    var timeline = Timeline(scenario: scenario)
    let states = timeline.states(0...timeline.totalSteps)
    let step = states.firstIndex { $0.requests[1].status == .waiting }!
    timeline.seek(to: step)
    timeline.apply(.abort("B"))
    #expect(timeline.findings.isEmpty)
    #expect(timeline.final.requests.map(\.status) == [.finished, .aborted])
    #expect(timeline.final.requests[1].pageTable.isEmpty)
  }

  /// An abort given between a request's admission lookup and its `admitted` step applies once the
  /// admission is complete, never inside it; it then ends the request.
  @Test func abortDuringAdmission() {
    let scenario = T.paged(
      pages: 8, pageSize: 4, maxBatch: 4, [T.req("A", 12, out: 1), T.req("B", 4, out: 1)])
    var timeline = Timeline(scenario: scenario)
    let states = timeline.states(0...timeline.totalSteps)
    let lookup = states.firstIndex {
      if case .lookup(0, _, _, _, true) = $0.event.action { return true } else { return false }
    }!
    timeline.seek(to: lookup + 1)  // A holds one of its three pages
    #expect(timeline.current.requests[0].pageTable.count == 1)
    let at = timeline.apply(.abort("A"))
    let boundary = timeline.state(at: at)
    #expect(boundary.requests[0].status == .running && boundary.requests[0].pageTable.count == 3)
    #expect(timeline.current.event.action == .aborted(request: 0))
    let after = timeline.states(timeline.current.step...timeline.totalSteps)
    let writesOfA = after.filter {
      if case .write(0, _, _, _, _) = $0.event.action { return true } else { return false }
    }
    #expect(writesOfA.isEmpty, "A decodes after it was aborted")
    #expect(timeline.final.requests.map(\.status) == [.aborted, .finished])
    #expect(timeline.final.requests[1].output == 1)
    #expect(T.kinds(timeline.findings) == [])
    #expect(timeline.final.endReason == .allRequestsDone)
    #expect(timeline.final.allFramesReleased)
  }

  /// Same for the seed: an abort between `alloc_n` calls of refill.
  @Test func abortDuringSeedAdmission() {
    let scenario = T.seed(
      pages: 8, pageSize: 4, maxBatch: 4, [T.req("A", 10, out: 1), T.req("B", 3, out: 1)])
    var timeline = Timeline(scenario: scenario)
    let states = timeline.states(0...timeline.totalSteps)
    let firstAlloc = states.firstIndex {
      if case .alloc(_, .admit(0, _, 0)) = $0.event.action { return true } else { return false }
    }!
    timeline.seek(to: firstAlloc)
    timeline.apply(.abort("A"))
    #expect(timeline.final.requests.map(\.status) == [.aborted, .finished])
    #expect(T.kinds(timeline.findings) == [])
    #expect(timeline.final.pool.freeMask.binary() == "11111111")
  }

  /// A pool operation applied in a scheduler run is one step; the scheduler then goes on.
  @Test func poolOpInASchedulerRunDoesNotEndIt() {
    var timeline = Timeline(scenario: Self.base)
    let step = timeline.iterationStarts[1] + 1
    timeline.seek(to: step)
    timeline.apply(.pool(.alloc))
    if case .alloc(let trace, .op) = timeline.current.event.action {
      #expect(trace.frame >= 0)
    } else {
      Issue.record("expected the alloc op, got \(timeline.current.event.action)")
    }
    let final = timeline.final
    #expect(final.endReason != .allOperationsDone)
    #expect(final.requests.map(\.status) == [.finished, .finished])
    // The frame the user took is reported as leaked at the end, and only that.
    #expect(T.kinds(timeline.findings) == [.leakedFrame])
  }

  /// Adding a request once the run is over continues the run.
  @Test func applyAfterTheEndContinuesTheRun() {
    var timeline = Timeline(scenario: Self.base)
    let end = timeline.totalSteps
    timeline.seek(to: end)
    timeline.apply(.addRequest(T.req("X", 5, out: 2)))
    #expect(timeline.totalSteps > end)
    #expect(timeline.current.step == end + 1)
    #expect(timeline.final.requests.count == 3)
    #expect(timeline.final.requests.last?.status == .finished)
    #expect(timeline.findings.isEmpty)
  }

  @Test func poolOpsInAnAllocatorScenario() {
    var timeline = Timeline(scenario: Scenarios.allocLesson)
    timeline.seek(to: 2)
    timeline.apply(.pool(.free(1)))
    #expect(timeline.current.pool.freeMask.binary() == "1110")
    timeline.apply(.pool(.free(1)))
    #expect(timeline.findings.contains { $0.kind == .negativeRefcount && $0.step == 4 && $0.frame == 1 })
    #expect(timeline.current.pool.refs[1] == -1)
  }
}
