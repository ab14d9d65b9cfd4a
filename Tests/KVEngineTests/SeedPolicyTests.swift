import Testing

@testable import KVEngine

/// The astrai-seed scheduler, defects included: each defect must happen and be named.
struct SeedPolicyTests {
  @Test func pagesFor() {
    let state = EngineState(scenario: T.seed(pages: 8, pageSize: 64, []))
    #expect([0, 1, 63, 64, 65, 120, 128, 129, 181].map(state.pagesFor) == [0, 1, 1, 1, 2, 2, 2, 3, 3])
    let one = EngineState(scenario: T.seed(pages: 8, pageSize: 1, []))
    #expect([0, 1, 7].map(one.pagesFor) == [0, 1, 7])
  }

  @Test func refillPopsUpToMaxBatchMinusActive() {
    let scenario = T.seed(
      pages: 16, pageSize: 16, maxBatch: 2,
      [
        T.req("A", 10, out: 10), T.req("B", at: 1, 10, out: 1), T.req("C", at: 1, 10, out: 1),
        T.req("D", at: 1, 10, out: 1),
      ])
    let states = T.run(scenario)
    let refills = states.compactMap { s -> (Int, Int, [Int]?)? in
      if case .plan(.refill, .refill(let available, let popped, _)) = s.event.action {
        return (s.iteration, available, popped)
      }
      return nil
    }
    #expect(refills[0].1 == 2 && refills[0].2 == [0])
    // Iteration 1: A is active, so one slot: only B is popped.
    #expect(refills[1].0 == 1 && refills[1].1 == 1 && refills[1].2 == [1])
    #expect(T.findings(states).isEmpty)
    #expect(states.last!.requests.allSatisfy { $0.status == .finished })
  }

  @Test func lostTaskAtRefill() {
    // 4 frames of 16: A 40 -> 3 frames, B 30 needs 2 and gets 1: rollback; C was popped too and is lost.
    let scenario = T.seed(
      pages: 4, pageSize: 16, maxBatch: 4,
      [T.req("A", 40, out: 4), T.req("B", 30, out: 4), T.req("C", 10, out: 4)])
    let states = T.run(scenario)
    let findings = T.findings(states)
    #expect(T.kinds(findings) == [.lostTask])
    #expect(findings.first?.request == 2)
    let failedStep = states.firstIndex {
      if case .refillFailed(1, [2]) = $0.event.action { return true } else { return false }
    }
    #expect(failedStep != nil)
    if let failedStep {
      let s = states[failedStep]
      #expect(s.requests[2].status == .lost)
      #expect(Array(s.waiting) == [1])
      #expect(s.requests[1].pageTable.isEmpty)
      #expect(s.requests[0].pageTable == [0, 1, 2])
      #expect(s.pool.freeMask.binary() == "1000")  // B's frame 3 rolled back
      #expect(findings.first?.step == failedStep)
    }
    let last = states.last!
    #expect(last.requests.map(\.status) == [.finished, .finished, .lost])
    #expect(last.endReason == .allRequestsDone)
  }

  @Test func emptyPromptDeadlocks() {
    let scenario = T.seed(
      pages: 4, pageSize: 16, maxBatch: 1, [T.req("A", 0, out: 2), T.req("B", at: 1, 10, out: 2)])
    let states = T.run(scenario)
    let findings = T.findings(states)
    #expect(T.kinds(findings) == [.emptyPromptDeadlock])
    #expect(findings.first?.request == 0)
    let last = states.last!
    #expect(last.isDone)
    #expect(last.endReason.map { if case .stalled = $0 { true } else { false } } == true)
    #expect(last.requests[1].status == .waiting)
    #expect(Array(last.waiting) == [0, 1])
    #expect(last.pool.freeMask.binary() == "1111")
  }

  @Test func emptyPromptLosesTheOthersPopped() {
    // alloc_n(0) is a failure like any other: tasks popped after it are lost.
    let scenario = T.seed(
      pages: 4, pageSize: 16, maxBatch: 2, [T.req("A", 0, out: 2), T.req("B", 10, out: 2)])
    let findings = T.findings(T.run(scenario))
    #expect(Set(T.kinds(findings)) == [.emptyPromptDeadlock, .lostTask])
  }

  @Test func outOfBoundsWriteWhenPromptIsAMultipleOfPageSize() {
    let scenario = T.seed(
      pages: 5, pageSize: 16, maxBatch: 4, [T.req("A", 32, out: 3), T.req("B", 20, out: 1)])
    let states = T.run(scenario)
    let findings = T.findings(states)
    #expect(T.kinds(findings) == [.outOfBoundsWrite])
    #expect(findings.first?.frame == 4 && findings.first?.request == 0)
    let write = states.first {
      if case .write(0, 32, 2, .some(4), _) = $0.event.action { return true } else { return false }
    }
    #expect(write != nil)
    // The growth after the write gives A frame 4.
    #expect(states.contains { $0.requests[0].pageTable == [0, 1, 4] })
    #expect(states.last!.requests.allSatisfy { $0.status == .finished })
  }

  @Test func outOfBoundsWriteHitsAnotherTasksFrameAndGrowthFailureIsIgnored() {
    // 4 frames of 4: A 8 -> [0, 1], B 5 -> [2, 3]. A writes position 8 (page 2): the -1 index hits
    // frame 3, which B owns. Growth to 3 pages then fails and is ignored.
    let scenario = T.seed(pages: 4, pageSize: 4, maxBatch: 4, [T.req("A", 8, out: 2), T.req("B", 5, out: 1)])
    let states = T.run(scenario)
    let findings = T.findings(states)
    let oob = findings.first { $0.kind == .outOfBoundsWrite }
    #expect(oob?.frame == 3 && oob?.request == 0)
    #expect(T.owners(oob) == [1])
    let ignored = findings.first { $0.kind == .ignoredGrowthFailure }
    #expect(ignored?.request == 0)
    let failure = states.first {
      if case .growthFailed(0, _, .ignored) = $0.event.action { return true } else { return false }
    }
    #expect(failure != nil)
  }

  @Test func ignoredGrowthFailureThenOutOfBounds() {
    // The shipped scenario: A 14 -> [0, 1], B 7 -> [2]; A grows at position 16 and gets -1.
    let scenario = T.seed(
      pages: 3, pageSize: 8, maxBatch: 2, [T.req("A", 14, out: 4), T.req("B", 7, out: 1)])
    let states = T.run(scenario)
    let findings = T.findings(states)
    let kinds = T.kinds(findings)
    #expect(kinds.contains(.ignoredGrowthFailure))
    #expect(kinds.contains(.outOfBoundsWrite))
    let growth = findings.firstIndex { $0.kind == .ignoredGrowthFailure }!
    let oob = findings.firstIndex { $0.kind == .outOfBoundsWrite }!
    #expect(growth < oob)
    #expect(findings[oob].frame == 2)
    #expect(T.owners(findings[oob]) == [1])
    #expect(states.last!.requests.allSatisfy { $0.status == .finished })
  }

  @Test func negativeRefcountThroughOps() {
    let states = T.run(T.ops(pages: 4, checked: false, [.alloc, .alloc, .free(1), .free(1), .alloc]))
    let findings = T.findings(states)
    #expect(T.kinds(findings) == [.negativeRefcount])
    #expect(findings.first?.frame == 1 && findings.first?.step == 4)
    #expect(states[4].pool.refs[1] == -1)
    #expect(states[4].pool.freeMask.binary() == "1110")
    #expect(states[5].pool.refs[1] == 1)
    #expect(states.last!.endReason == .allOperationsDone)
  }

  @Test func checkedPoolRejectsDoubleFreeThroughOps() {
    let states = T.run(
      T.ops(pages: 4, checked: true, [.alloc, .alloc, .free(1), .free(1), .incRef(2), .free(9)]))
    let findings = T.findings(states)
    #expect(T.kinds(findings) == [.doubleFree, .incRefFreeFrame, .badFrameIndex])
    #expect(Array(states.last!.pool.refs) == [1, 0, 0, 0])
  }

  @Test func allocNRollsBackOnFailure() {
    let states = T.run(T.ops(pages: 4, checked: true, [.alloc, .allocN(2), .allocN(2), .allocN(0)]))
    let results = states.compactMap { s -> [Int]? in
      if case .allocNResult(_, let frames) = s.event.action { return frames } else { return nil }
    }
    #expect(results == [[1, 2], [], []])
    #expect(states.last!.pool.freeMask.binary() == "1000")
    #expect(T.findings(states).isEmpty)
  }

  /// Each step of `alloc_n` is a unit of its own: one more step never replays the operation from
  /// its start, so stepping through `alloc_n(n)` one step at a time costs n steps, not n^2.
  @Test func allocNStepsAreUnitsOfTheirOwn() {
    for checked in [false, true] {
      let states = T.run(T.ops(pages: 8, checked: checked, [.allocN(5), .allocN(5), .alloc]))
      let insideAUnit = states.filter { !$0.isAtBoundary }.count
      #expect(insideAUnit == 0)
      let results = states.compactMap { s -> [Int]? in
        if case .allocNResult(_, let frames) = s.event.action { return frames } else { return nil }
      }
      #expect(results == [[0, 1, 2, 3, 4], []])
      // 5 allocs and the result; 4 allocs (the last fails), 3 rollback frees and the result; alloc; done.
      #expect(states.count - 1 == 6 + 8 + 1 + 1)
    }
  }

  /// A user action given in the middle of `alloc_n` waits for its result.
  @Test func userActionWaitsForTheAllocNUnderWay() {
    var state = EngineState(scenario: T.ops(pages: 8, checked: true, [.allocN(3)]))
    state.advance()
    state.enqueue(.pool(.free(0)))
    var actions: [StepAction] = []
    while state.advance() { actions.append(state.event.action) }
    guard actions.count >= 4 else {
      Issue.record("expected at least 4 more steps, got \(actions)")
      return
    }
    #expect(actions[2] == .allocNResult(count: 3, frames: [0, 1, 2]))
    guard case .free(let trace, nil, nil) = actions[3] else {
      Issue.record("expected the free after the result, got \(actions[3])")
      return
    }
    #expect(trace.frame == 0)
  }

  @Test func decodePicksLargestSamePositionGroup() {
    func chosen(_ prompts: [Int]) -> [Int] {
      let requests = prompts.enumerated().map { T.req("R\($0.offset)", $0.element, out: 3) }
      let states = T.run(T.seed(pages: 64, pageSize: 100, maxBatch: 8, requests))
      for s in states {
        if case .plan(.decode, .decode(_, let chosen)) = s.event.action { return chosen }
      }
      return []
    }
    #expect(chosen([10, 20, 20, 30]) == [1, 2])
    // A tie: the first group found wins.
    #expect(chosen([10, 20, 20, 10]) == [0, 3])
    #expect(chosen([20, 10, 10, 20, 30]) == [0, 3])
    #expect(chosen([5, 6, 7]) == [0])
  }

  @Test func walkthroughFreesFrontToBack() {
    let states = T.run(WalkthroughTests.scenario)
    let frees = states.compactMap { s -> Int? in
      if case .free(let t, 0, .finished) = s.event.action { return t.frame } else { return nil }
    }
    #expect(frees == [0, 1, 4])
    #expect(states.contains { $0.pool.freeMask.binary() == "11110011" })
  }
}
