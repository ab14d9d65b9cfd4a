import Testing

@testable import KVEngine

/// The rules of `nano-vllm`, one test each. The same rules are checked against nano-vllm itself by
/// the differential harness (outside the repository; see the README).
struct NanoVLLMPolicyTests {
  static func scenario(
    pages: Int, pageSize: Int, maxBatch: Int = 8, budget: Int = 64, _ requests: [RequestSpec]
  )
    -> Scenario
  {
    T.engine(.nanoVLLM, pages: pages, pageSize: pageSize, maxBatch: maxBatch, budget: budget, requests)
  }

  @Test func everyBlockIsUsableAndTakenFromTheLeft() {
    let s = Self.scenario(pages: 4, pageSize: 2, [T.req("A", 3, out: 1)])
    #expect(EngineState(scenario: s).pool.freeQueue.frames == [0, 1, 2, 3])
    #expect(T.iterationEnds(s)[0].requests[0].status == .finished)
    let admitted = T.steps(T.run(s)) { if case .admitted = $0 { true } else { false } }
    #expect(admitted.first?.requests[0].pageTable == [0, 1])
  }

  @Test func freedBlocksJoinTheRightEndLastBlockFirst() {
    let s = Self.scenario(pages: 5, pageSize: 2, [T.req("A", 5, out: 1)])
    #expect(T.iterationEnds(s)[0].pool.freeQueue.frames == [3, 4, 2, 1, 0])
  }

  @Test func aFreeBlockKeepsItsHashUntilHandedOutAgain() {
    // A's two full blocks keep their hashes after A finishes; B, arriving later with other tokens,
    // takes blocks from the left and drops the hash of each one it takes.
    let s = Self.scenario(pages: 4, pageSize: 2, [T.req("A", 4, out: 1), T.req("B", at: 2, 7, out: 1)])
    let ends = T.iterationEnds(s)
    #expect(ends[0].pool.cached.keys == [0, 1])
    #expect(ends[0].pool.freeQueue.frames == [2, 3, 1, 0])
    let bAdmitted = T.steps(T.run(s)) { if case .admitted(1, _, _) = $0 { true } else { false } }.first!
    #expect(bAdmitted.requests[1].pageTable == [2, 3, 1, 0])
    #expect(bAdmitted.pool.cached.keys.isEmpty)
  }

  @Test func aHitOnAFreeBlockTakesItOutOfTheDeque() {
    let prompt = [1, 2, 3, 4, 5]
    let s = Self.scenario(
      pages: 6, pageSize: 2, [T.req("A", tokens: prompt, out: 1), T.req("B", at: 2, tokens: prompt, out: 1)])
    let ends = T.iterationEnds(s)
    #expect(ends[1].pool.freeQueue.frames == [3, 4, 5, 2, 1, 0])
    let bAdmitted = T.steps(T.run(s)) { if case .admitted(1, _, _) = $0 { true } else { false } }.first!
    #expect(bAdmitted.requests[1].pageTable == [0, 1, 3])
    #expect(bAdmitted.pool.freeQueue.frames == [4, 5, 2])
  }

  @Test func blocksAreHashedAfterTheStepSoTheSameStepDoesNotHit() {
    let prompt = [1, 2, 3, 4, 5]
    let s = Self.scenario(
      pages: 8, pageSize: 2, [T.req("A", tokens: prompt, out: 1), T.req("B", tokens: prompt, out: 1)])
    let states = T.run(s)
    let lookups = states.compactMap { state -> [Int]? in
      if case .lookup(_, let hits, _, _, true) = state.event.action { return hits }
      return nil
    }
    #expect(lookups == [[], []])
    // B's blocks replace A's in the index; A's keep their hashes.
    let first = T.iterationEnds(s)[0]
    let a =
      first.requests.indices.contains(0)
      ? first.pool.cached.keys.filter { !first.pool.isIndexed(Int($0)) } : []
    #expect(a.count == 2)
  }

  @Test func aStepPrefillsOrDecodesNeverBoth() {
    // B arrives while A decodes: that step only prefills B, and A's output does not grow.
    let s = Self.scenario(pages: 8, pageSize: 2, [T.req("A", 2, out: 4), T.req("B", at: 2, 2, out: 1)])
    let ends = T.iterationEnds(s)
    #expect(ends.prefix(4).map { $0.requests[0].output } == [1, 2, 2, 3])
    let decodePlans = T.run(s).filter { state in
      if case .plan(.decode, .schedule(_, _, let skipped)) = state.event.action { return skipped }
      return false
    }
    #expect(decodePlans.map(\.iteration) == [0, 2])
  }

  @Test func onlyTheFirstSequenceOfAStepIsChunked() {
    let s = Self.scenario(pages: 8, pageSize: 2, budget: 8, [T.req("A", 12, out: 1), T.req("B", 4, out: 1)])
    let ends = T.iterationEnds(s)
    #expect(ends[0].requests[0].computed == 8 && ends[0].requests[0].pageTable.count == 6)
    #expect(ends[0].requests[1].pageTable.isEmpty && ends[0].requests[0].status == .waiting)
    #expect(ends[1].requests[0].status == .finished && ends[1].requests[1].status == .finished)
  }

  @Test func decodePreemptsTheLastRunningSequence() {
    let s = Self.scenario(pages: 4, pageSize: 2, [T.req("A", 2, out: 4), T.req("B", 2, out: 4)])
    let states = T.run(s)
    let preemptions = states.compactMap { state -> (Int, Int)? in
      if case .preempted(let r, let other, _) = state.event.action { return (r, other) }
      return nil
    }
    #expect(preemptions.first.map { [$0.0, $0.1] } == [1, 0])
    #expect(T.findings(states).isEmpty)
    #expect(states.last?.requests.allSatisfy { $0.status == .finished } == true)
  }

  @Test func theLastSequenceLeftPreemptsItself() {
    // A takes the last free block for its decode; B, popped next with no running sequence left
    // behind it, cannot grow and preempts itself.
    let s = Self.scenario(pages: 3, pageSize: 2, [T.req("A", 2, out: 4), T.req("B", 2, out: 4)])
    let states = T.run(s)
    let preemptions = states.compactMap { state -> [Int]? in
      if case .preempted(let r, let other, _) = state.event.action { return [r, other] }
      return nil
    }
    #expect(preemptions.first == [1, 1])
    #expect(T.findings(states).isEmpty)
    #expect(states.last?.requests.allSatisfy { $0.status == .finished } == true)
  }
}
