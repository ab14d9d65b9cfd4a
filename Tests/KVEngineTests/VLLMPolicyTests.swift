import Testing

@testable import KVEngine

/// The rules of `vllm-v1`, one test each, on scenarios small enough to follow block by block. The
/// same rules are checked against vLLM 0.33.0 itself by `Tests/Differential/run-vllm.sh`.
struct VLLMPolicyTests {
  static func scenario(
    pages: Int, pageSize: Int, maxBatch: Int = 8, budget: Int = 64, prefix: Bool = true,
    _ requests: [RequestSpec]
  ) -> Scenario {
    T.engine(
      .vllmV1, pages: pages, pageSize: pageSize, maxBatch: maxBatch, budget: budget, prefix: prefix, requests)
  }

  @Test func blockZeroIsTheNullBlockAndNeverHandedOut() {
    let s = Self.scenario(pages: 4, pageSize: 2, [T.req("A", 4, out: 2), T.req("B", at: 1, 2, out: 3)])
    let start = EngineState(scenario: s)
    #expect(start.pool.reserved == 0)
    #expect(start.pool.freeQueue.frames == [1, 2, 3])
    #expect(start.pool.freeCount == 3 && start.pool.usedCount == 0)
    let states = T.run(s)
    #expect(states.allSatisfy { state in state.requests.allSatisfy { !$0.pageTable.contains(0) } })
    #expect(states.allSatisfy { $0.pool.refs[0] == 0 && !$0.pool.freeQueue.contains(0) })
    #expect(T.findings(states).isEmpty)
  }

  @Test func blocksWithoutAHashGoToTheHeadLastBlockFirst() {
    // Prefix caching off: A's three blocks come back at the head as [3, 2, 1] and are reused first.
    let s = Self.scenario(
      pages: 6, pageSize: 2, prefix: false, [T.req("A", 6, out: 1), T.req("B", at: 1, 2, out: 1)])
    let ends = T.iterationEnds(s)
    #expect(ends[0].requests[0].status == .finished)
    #expect(ends[0].pool.freeQueue.frames == [3, 2, 1, 4, 5])
    #expect(ends[1].requests[1].pageTable.isEmpty && ends[1].pool.freeQueue.frames == [3, 2, 1, 4, 5])
    let admitted = T.steps(T.run(s)) { if case .admitted(1, _, _) = $0 { true } else { false } }
    #expect(admitted.first?.requests[1].pageTable == [3])
  }

  @Test func hashedBlocksGoToTheTailLastBlockFirst() {
    let s = Self.scenario(pages: 6, pageSize: 2, [T.req("A", 6, out: 1)])
    let ends = T.iterationEnds(s)
    #expect(ends[0].pool.freeQueue.frames == [4, 5, 3, 2, 1])
    #expect(ends[0].pool.cached.keys == [1, 2, 3])
  }

  @Test func aHitIsCappedSoTheLastTokenIsComputed() {
    // B's whole prompt is cached, but only (4 - 1) // 2 = 1 block can be a hit.
    let prompt = [1, 2, 3, 4]
    let s = Self.scenario(
      pages: 8, pageSize: 2, [T.req("A", tokens: prompt, out: 1), T.req("B", at: 2, tokens: prompt, out: 1)])
    let states = T.run(s)
    let lookups = states.compactMap { state -> [Int]? in
      if case .lookup(1, let hits, _, _, true) = state.event.action { return hits }
      return nil
    }
    #expect(lookups == [[1]])
    let scheduled = states.compactMap { state -> Int? in
      if case .scheduled(1, let tokens, let from) = state.event.action, from == 2 { return tokens }
      return nil
    }
    #expect(scheduled == [2])
  }

  @Test func blocksAreCachedWhenScheduledSoTheSameStepHits() {
    let prompt = [1, 2, 3, 4, 5]
    let s = Self.scenario(
      pages: 8, pageSize: 2, [T.req("A", tokens: prompt, out: 1), T.req("B", tokens: prompt, out: 1)])
    // Iteration 0 admits both; B shares A's two full blocks.
    let bAdmitted = T.steps(T.run(s)) { if case .admitted(1, _, _) = $0 { true } else { false } }.first!
    #expect(bAdmitted.iteration == 0)
    let a = bAdmitted.requests[0].pageTable
    #expect(Array(bAdmitted.requests[1].pageTable.prefix(2)) == Array(a.prefix(2)))
    #expect(bAdmitted.pool.refs[a[0]] == 2 && bAdmitted.pool.refs[a[1]] == 2)
  }

  @Test func equalContentStaysIndexedTwice() {
    // B recomputes A's last full block (the hit cap) into a block of its own: both hold the hash and
    // both stay indexed; a lookup finds A's, the earlier one.
    let prompt = [1, 2, 3, 4]
    let s = Self.scenario(
      pages: 8, pageSize: 2, [T.req("A", tokens: prompt, out: 2), T.req("B", tokens: prompt, out: 2)])
    let first = T.iterationEnds(s)[0]
    let a = first.requests[0].pageTable
    let b = first.requests[1].pageTable
    #expect(a[0] == b[0] && a[1] != b[1])
    #expect(first.pool.isIndexed(a[1]) && first.pool.isIndexed(b[1]))
    #expect(first.pool.cached[Int32(a[1])]?.key == first.pool.cached[Int32(b[1])]?.key)
    #expect(first.pool.frameForKey[first.pool.cached[Int32(a[1])]!.key] == Int32(a[1]))
  }

  @Test func aPrefixHitOnAFreeBlockTakesItOutOfTheQueue() {
    let prompt = [1, 2, 3, 4, 5]
    let s = Self.scenario(
      pages: 8, pageSize: 2, [T.req("A", tokens: prompt, out: 1), T.req("B", at: 3, tokens: prompt, out: 1)])
    let states = T.run(s)
    let aBlocks = states.first { $0.requests[0].pageTable.count == 3 }!.requests[0].pageTable
    #expect(T.iterationEnds(s)[2].pool.freeQueue.contains(aBlocks[0]))
    let bAdmitted = T.steps(states) { if case .admitted(1, _, _) = $0 { true } else { false } }.first!
    #expect(Array(bAdmitted.requests[1].pageTable.prefix(2)) == Array(aBlocks.prefix(2)))
    #expect(!bAdmitted.pool.freeQueue.contains(aBlocks[0]) && !bAdmitted.pool.freeQueue.contains(aBlocks[1]))
  }

  @Test func theLastRunningRequestIsPreemptedAndNothingIsAdmittedThatStep() {
    // 4 usable blocks of 2 tokens. A and B grow until B, the last running request, is preempted for A;
    // C, waiting, is not admitted in that step even though B's blocks are free again.
    let s = Self.scenario(
      pages: 5, pageSize: 2,
      [T.req("A", 2, out: 5), T.req("B", 2, out: 5), T.req("C", at: 2, 1, out: 1)])
    let states = T.run(s)
    guard
      let preemption = states.firstIndex(where: {
        if case .preempted = $0.event.action { true } else { false }
      })
    else {
      Issue.record("no preemption")
      return
    }
    guard case .preempted(let victim, let forRequest, _) = states[preemption].event.action else { return }
    #expect(victim == 1 && forRequest == 0)
    let before = states[preemption - 1]
    #expect(before.active.last == victim)
    let waitingPlan = states[preemption...].first { $0.phase == .waiting }!
    #expect(
      waitingPlan.event.action
        == .plan(
          .waiting,
          .schedule(budget: waitingPlan.tokenBudget, candidates: Array(waitingPlan.waiting), skipped: true)))
    #expect(waitingPlan.requests[2].status == .waiting && waitingPlan.pool.freeCount > 0)
    #expect(T.findings(states).isEmpty)
    #expect(states.last?.requests.allSatisfy { $0.status == .finished } == true)
  }

  @Test func admissionNeedsTheWholeSequenceAndBlocksTheQueue() {
    // A holds 2 of 4 blocks; B needs 3 for its 6 tokens and waits at the head; C, which would fit,
    // waits behind it.
    let s = Self.scenario(
      pages: 5, pageSize: 2, budget: 64, prefix: false,
      [T.req("A", 3, out: 3), T.req("B", at: 1, 6, out: 1), T.req("C", at: 1, 1, out: 1)])
    let ends = T.iterationEnds(s)
    #expect(ends[1].requests[1].status == .waiting && ends[1].requests[2].status == .waiting)
    #expect(ends[1].pool.freeCount == 2)
    #expect(ends.last?.requests.allSatisfy { $0.status == .finished } == true)
  }

  @Test func aLongPromptIsChunkedToTheTokenBudget() {
    let s = Self.scenario(pages: 8, pageSize: 2, budget: 4, [T.req("A", 10, out: 1)])
    let ends = T.iterationEnds(s)
    #expect(ends.prefix(3).map { $0.requests[0].computed } == [4, 8, 10])
    // Blocks follow the chunks; the last chunk finishes A, which frees them.
    #expect(ends.prefix(3).map { $0.requests[0].pageTable.count } == [2, 4, 0])
    #expect(ends[1].requests[0].status == .running && ends[1].requests[0].output == 0)
    #expect(ends[2].requests[0].status == .finished)
  }

  @Test func runningRequestsAreScheduledBeforeWaitingOnes() {
    // Budget 3: A decodes (1 token) before B's prompt gets the 2 tokens left.
    let s = Self.scenario(
      pages: 10, pageSize: 2, budget: 3, [T.req("A", 2, out: 4), T.req("B", at: 1, 6, out: 1)])
    let states = T.run(s)
    let iteration1 = states.filter { $0.iteration == 1 }.compactMap { state -> (Int, Int)? in
      if case .scheduled(let r, let tokens, _) = state.event.action { return (r, tokens) }
      return nil
    }
    #expect(iteration1.map(\.0) == [0, 1] && iteration1.map(\.1) == [1, 2])
  }
}
