import Testing

@testable import KVEngine

extension Array where Element == EngineState {
  /// The first step whose event matches.
  func firstStep(where match: (StepAction) -> Bool) -> Int? { firstIndex { match($0.event.action) } }
}

/// The `paged` scheduler: the seed with its defects fixed, optional prefix cache, and an OOM policy.
struct PagedPolicyTests {
  @Test func growsBeforeTheWrite() {
    let scenario = T.paged(
      pages: 5, pageSize: 16, maxBatch: 4, [T.req("A", 32, out: 3), T.req("B", 20, out: 1)])
    let states = T.run(scenario)
    #expect(T.findings(states).isEmpty)
    for s in states {
      if case .write(let r, let position, let pages, let oob, _) = s.event.action {
        #expect(oob == nil)
        #expect(position < pages * 16)
        #expect(s.requests[r].pageTable.count == pages)
      }
    }
    let grow = states.firstStep {
      if case .alloc(_, .grow(0, 32, 3, 2)) = $0 { return true } else { return false }
    }
    let write = states.firstStep {
      if case .write(0, 32, 3, nil, _) = $0 { return true } else { return false }
    }
    #expect(grow != nil && write != nil)
    if let grow, let write { #expect(grow < write) }
    let last = states.last!
    #expect(last.requests.allSatisfy { $0.status == .finished })
    #expect(last.allFramesReleased)
  }

  @Test func admissionIsHeadOfLineAndAFailedOneChangesNothing() {
    // A holds 3 of 4 frames for three iterations; B (2 pages) cannot fit, and C (1 page) waits behind it.
    let scenario = T.paged(
      pages: 4, pageSize: 4, maxBatch: 4,
      [T.req("A", 9, out: 3), T.req("B", at: 1, 7, out: 1), T.req("C", at: 1, 1, out: 1)])
    let states = T.run(scenario)
    #expect(T.findings(states).isEmpty)
    let failed = states.indices.filter {
      if case .lookup(1, _, 2, 1, false) = states[$0].event.action { return true } else { return false }
    }
    #expect(failed.count == 2)
    for step in failed {
      let before = states[step - 1]
      let after = states[step]
      #expect(after.pool == before.pool)
      #expect(Array(after.waiting) == Array(before.waiting))
      #expect(Array(after.waiting) == [1, 2])
      #expect(after.requests == before.requests)
      #expect(after.active == before.active)
      #expect(after.isAtBoundary)  // the refill ends: C is not considered
    }
    let cLookup = states.firstStep {
      if case .lookup(2, _, _, _, _) = $0 { return true } else { return false }
    }!
    let aRetired = states.firstStep {
      if case .retired(0, .finished) = $0 { return true } else { return false }
    }!
    #expect(cLookup > aRetired)
    #expect(states.last!.requests.allSatisfy { $0.status == .finished })
  }

  @Test func maxBatchLimitsAdmission() {
    let scenario = T.paged(
      pages: 64, pageSize: 4, maxBatch: 2,
      [T.req("A", 4, out: 3), T.req("B", 4, out: 3), T.req("C", 4, out: 3)])
    let states = T.run(scenario)
    #expect(states.allSatisfy { $0.active.count <= 2 })
    #expect(T.findings(states).isEmpty)
    #expect(states.last!.requests.allSatisfy { $0.status == .finished })
  }

  // MARK: Prefix cache

  static func lookups(_ states: [EngineState]) -> [Int: [Int]] {
    var result: [Int: [Int]] = [:]
    for s in states {
      if case .lookup(let r, let hits, _, _, true) = s.event.action { result[r] = hits }
    }
    return result
  }

  @Test func keysAreChainedSoOnlyTheSamePrefixHits() {
    let scenario = T.paged(
      pages: 16, pageSize: 4, maxBatch: 4, prefix: true,
      [
        T.req("A", tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9], out: 1),
        T.req("B", at: 3, tokens: [9, 9, 9, 9, 5, 6, 7, 8, 1], out: 1),  // page 1 equal, other prefix
        T.req("C", at: 5, tokens: [1, 2, 3, 4, 5, 6, 7, 8, 10], out: 1),  // same prefix: 2 hits
        T.req("D", at: 7, tokens: [5, 6, 7, 8, 1, 2, 3, 4, 0], out: 1),  // same pages, other positions
      ])
    let states = T.run(scenario)
    #expect(T.findings(states).isEmpty)
    let aTable = states.first { $0.requests[0].pageTable.count == 3 }!.requests[0].pageTable
    let hits = Self.lookups(states)
    #expect(hits[0] == [])
    #expect(hits[1] == [])
    #expect(hits[2] == Array(aTable.prefix(2)))
    #expect(hits[3] == [])
    let record = states.first {
      if case .record(0, _, _) = $0.event.action { return true } else { return false }
    }
    if case .record(_, let pages, let recorded)? = record?.event.action {
      #expect(pages == 2 && recorded == 2)
    } else {
      Issue.record("no record step for A")
    }
    #expect(states.last!.allFramesReleased)
    #expect(states.last!.stats.prefixHitPages == 2)
  }

  @Test func aHitAddsAReferenceAndLeavesTheLRU() {
    let scenario = T.paged(
      pages: 16, pageSize: 4, maxBatch: 4, prefix: true,
      [
        T.req("A", tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9], out: 1),
        T.req("B", at: 4, tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9, 9], out: 6),
        T.req("C", at: 5, tokens: [1, 2, 3, 4, 5, 6, 7, 8, 7], out: 1),
      ])
    let states = T.run(scenario)
    #expect(T.findings(states).isEmpty)
    let cached = states.first { $0.requests[0].status == .finished }!
    let prefixFrames = cached.pool.lru.frames
    #expect(prefixFrames.count == 2)
    // B hits both pages while they sit in the LRU list at refcount 0.
    let bHits = states.filter {
      if case .incRef(_, 1) = $0.event.action { return true } else { return false }
    }
    #expect(bHits.count == 2)
    for s in bHits {
      if case .incRef(let trace, _) = s.event.action {
        #expect(trace.lru && trace.refBefore == 0 && trace.refAfter == 1 && trace.misuse == nil)
        #expect(!s.pool.lru.contains(trace.frame))
        #expect(!s.pool.freeMask.contains(trace.frame))
      }
    }
    // C hits them while B still holds them: refcount 2, both tables hold them.
    let cAdmitted = states.first {
      if case .admitted(2, _, 2) = $0.event.action { return true } else { return false }
    }!
    #expect(cAdmitted.requests[2].pageTable.prefix(2) == cAdmitted.requests[1].pageTable.prefix(2))
    for f in cAdmitted.requests[2].pageTable.prefix(2) {
      #expect(cAdmitted.pool.refs[f] == 2)
      #expect(cAdmitted.pool.isCached(f))
    }
    #expect(states.last!.allFramesReleased)
  }

  @Test func hitsAreCappedSoTheLastTokenIsComputed() {
    let scenario = T.paged(
      pages: 16, pageSize: 4, prefix: true,
      [T.req("A", tokens: Array(1...8), out: 1), T.req("B", at: 3, tokens: Array(1...8), out: 1)])
    let states = T.run(scenario)
    #expect(T.findings(states).isEmpty)
    let lookup = states.first {
      if case .lookup(1, _, _, _, true) = $0.event.action { return true } else { return false }
    }!
    if case .lookup(_, let hits, let need, _, _) = lookup.event.action {
      #expect(hits.count == 1)
      #expect(need == 1)
    }
    let prefill = states.first {
      if case .prefill(1, _, _) = $0.event.action { return true } else { return false }
    }!
    if case .prefill(_, let from, let to) = prefill.event.action {
      #expect(from == 4 && to == 8)
    }
    #expect(states.last!.stats.prefixHitTokens == 4)
  }

  @Test func onlyFullPromptPagesAreRecorded() {
    let scenario = T.paged(pages: 8, pageSize: 4, prefix: true, [T.req("A", tokens: Array(1...10), out: 6)])
    let states = T.run(scenario)
    #expect(T.findings(states).isEmpty)
    let full = states.first { $0.requests[0].pageTable.count == 4 }!.requests[0].pageTable
    let last = states.last!
    #expect(last.pool.cached.count == 2)
    #expect(Set(last.pool.cached.keys.map(Int.init)) == Set(full.prefix(2)))
    #expect(Set(last.pool.lru.frames) == Set(full.prefix(2)))
    for f in full.suffix(2) { #expect(last.pool.freeMask.contains(f)) }
    #expect(last.allFramesReleased)
  }

  @Test func freedPagesGoToTheLRUTailInReverseOrder() {
    // A's 3 prompt pages are recorded; its growth page is not. Released last page first, so the LRU
    // list is [p2, p1, p0] and B's allocations evict p2 first.
    let scenario = T.paged(
      pages: 4, pageSize: 4, prefix: true,
      [T.req("A", tokens: Array(1...12), out: 1), T.req("B", at: 3, 15, out: 1)])
    let states = T.run(scenario)
    #expect(T.findings(states).isEmpty)
    let aDone = states.first { $0.requests[0].status == .finished }!
    #expect(aDone.pool.lru.frames == [2, 1, 0])
    #expect(aDone.pool.freeMask.binary() == "1000")
    let frees = states.compactMap { s -> Int? in
      if case .free(let t, 0, .finished) = s.event.action { return t.frame } else { return nil }
    }
    #expect(frees == [3, 2, 1, 0])
    let bAllocs = states.compactMap { s -> AllocTrace? in
      if case .alloc(let t, .admit(1, _, _)) = s.event.action { return t } else { return nil }
    }
    #expect(bAllocs.map(\.frame) == [3, 2, 1, 0])
    #expect(bAllocs[0].evictedKey == nil)
    #expect(bAllocs.dropFirst().allSatisfy { $0.evictedKey != nil })
    #expect(states.last!.stats.evictions == 3)
    #expect(states.last!.allFramesReleased)
  }

  // MARK: Out of memory

  static let oomRequests = [T.req("A", 8, out: 4), T.req("B", 6, out: 5), T.req("C", at: 1, 3, out: 2)]

  @Test func preemptFreesTheLastActiveAndRequeuesIt() {
    let states = T.run(T.paged(pages: 5, pageSize: 4, maxBatch: 4, onOOM: .preempt, Self.oomRequests))
    #expect(T.findings(states).isEmpty)
    let failure = states.firstStep {
      if case .growthFailed(1, 8, .preempt(victim: 1)) = $0 { return true } else { return false }
    }
    #expect(failure != nil)
    let preempted = states.firstStep {
      if case .preempted(1, 1, _) = $0 { return true } else { return false }
    }!
    let s = states[preempted]
    #expect(s.requests[1].status == .preempted)
    #expect(s.requests[1].pageTable.isEmpty)
    #expect(s.requests[1].computed == 0)
    #expect(Array(s.waiting) == [1, 2])
    #expect(s.active == [0])
    #expect(s.stats.preemptions == 1)
    #expect(s.stats.tokensRecomputed == 8)
    #expect(s.pool.freeMask.contains(2) && s.pool.freeMask.contains(3))
    // The next refill admits nothing.
    let nextRefill = states[preempted...].firstIndex {
      if case .plan(.refill, _) = $0.event.action { return true } else { return false }
    }!
    if case .plan(.refill, .refill(_, _, let skipped)) = states[nextRefill].event.action { #expect(skipped) }
    let nextCleanup = states[(nextRefill + 1)...].firstIndex {
      if case .plan(.cleanup, _) = $0.event.action { return true } else { return false }
    }!
    #expect(
      !states[preempted..<nextCleanup].contains {
        if case .admitted = $0.event.action { return true } else { return false }
      })
    // B is admitted again with prompt + generated tokens and finishes.
    let readmitted = states[preempted...].first {
      if case .admitted(1, _, _) = $0.event.action { return true } else { return false }
    }!
    #expect(readmitted.requests[1].pageTable.count == 2)
    let last = states.last!
    #expect(last.requests.allSatisfy { $0.status == .finished })
    #expect(last.requests[1].preemptions == 1)
    #expect(last.allFramesReleased)
  }

  /// `preempted(tokensToRecompute:)` counts the victim's computed tokens (B: 6 prompt + 2 output), and
  /// its pages are released one step each before it.
  @Test func preemptEventCountsTokensToRecompute() {
    let states = T.run(T.paged(pages: 5, pageSize: 4, maxBatch: 4, onOOM: .preempt, Self.oomRequests))
    let tokens = states.compactMap { s -> Int? in
      if case .preempted(1, _, let tokens) = s.event.action { return tokens } else { return nil }
    }
    let releaseSteps = states.filter {
      if case .free(_, 1, .preempted) = $0.event.action { return true } else { return false }
    }.count
    #expect(releaseSteps == 2)
    #expect(tokens == [8])
  }

  @Test func preemptTakesAnotherVictimAndRetriesTheDecode() {
    let states = T.run(
      T.paged(
        pages: 5, pageSize: 4, maxBatch: 4, onOOM: .preempt, [T.req("A", 8, out: 2), T.req("B", 12, out: 1)]))
    #expect(T.findings(states).isEmpty)
    let failure = states.firstStep {
      if case .growthFailed(0, 8, .preempt(victim: 1)) = $0 { return true } else { return false }
    }!
    let frees = states[failure...].prefix(while: { s in
      if case .preempted = s.event.action { return false } else { return true }
    })
    .compactMap { s -> Int? in
      if case .free(let t, 1, .preempted) = s.event.action { return t.frame } else { return nil }
    }
    #expect(frees == [4, 3, 2])
    let write = states.first {
      if case .write(0, 8, 3, nil, _) = $0.event.action { return true } else { return false }
    }!
    #expect(write.requests[0].pageTable == [0, 1, 2])
    #expect(write.iteration == 0)
    #expect(write.requests[1].status == .preempted)
    // B had not decoded: its queued decode was dropped.
    #expect(write.requests[1].output == 0)
    let last = states.last!
    #expect(last.requests.allSatisfy { $0.status == .finished })
    #expect(last.stats.preemptions == 1)
    #expect(last.allFramesReleased)
  }

  @Test func abortOnOOMEndsTheRequest() {
    let states = T.run(T.paged(pages: 5, pageSize: 4, maxBatch: 4, onOOM: .abort, Self.oomRequests))
    #expect(T.findings(states).isEmpty)
    let failure = states.firstStep {
      if case .growthFailed(1, 8, .abort) = $0 { return true } else { return false }
    }
    #expect(failure != nil)
    let last = states.last!
    #expect(last.requests.map(\.status) == [.finished, .aborted, .finished])
    #expect(last.requests[1].output == 2)
    #expect(last.allFramesReleased)
  }

  @Test func waitOnOOMRetriesNextIteration() {
    let states = T.run(T.paged(pages: 5, pageSize: 4, maxBatch: 4, onOOM: .wait, Self.oomRequests))
    #expect(T.findings(states).isEmpty)
    let waits = states.filter {
      if case .growthFailed(1, 8, .wait) = $0.event.action { return true } else { return false }
    }
    #expect(waits.count >= 1)
    #expect(Set(waits.map(\.iteration)).count == waits.count)  // once per iteration
    let last = states.last!
    #expect(last.requests.allSatisfy { $0.status == .finished })
    #expect(last.requests[1].output == 5)
    #expect(last.stats.preemptions == 0)
    #expect(last.allFramesReleased)
  }

  @Test func waitCanDeadlock() {
    let states = T.run(
      T.paged(pages: 4, pageSize: 4, onOOM: .wait, [T.req("A", 8, out: 5), T.req("B", 8, out: 5)]))
    let findings = T.findings(states)
    #expect(T.kinds(findings) == [.deadlock])
    #expect(states.last!.endReason.map { if case .stalled = $0 { true } else { false } } == true)
    // Named as the cycle it is, when it forms: each holds 2 pages and waits for a third.
    #expect(findings.first?.detail == .deadlock(stuck: [0, 1], cause: .waitCycle(holds: [2, 2], frames: 4)))
    let formed = states.firstStep {
      if case .growthFailed(1, _, .wait) = $0 { true } else { false }
    }
    #expect(findings.first?.step == formed)
  }

  /// The cycle of the issue: a pool of 8 where one request holds 6 and needs a 7th while another
  /// holds 2 and needs a 3rd. Nothing is reported while a scheduled abort may still break it.
  @Test func waitCycleIsNamedUnlessAnAbortMayBreakIt() {
    let requests = [T.req("r0", 20, out: 8), T.req("r3", 4, out: 8)]
    let stuck = T.findings(T.run(T.paged(pages: 8, pageSize: 4, onOOM: .wait, requests)))
    #expect(stuck.map(\.detail) == [.deadlock(stuck: [0, 1], cause: .waitCycle(holds: [6, 2], frames: 8))])
    let rescued = T.run(
      T.paged(
        pages: 8, pageSize: 4, onOOM: .wait, requests, events: [ScenarioEvent(at: 50, action: .abort("r3"))]))
    #expect(T.findings(rescued).isEmpty)
    #expect(rescued.last!.requests.map(\.status) == [.finished, .aborted])
  }

  /// A request whose prompt and output can never fit the pool is reported as it arrives, under the
  /// on_oom policies that would keep it forever; `abort` ends it instead.
  @Test func aSequenceLongerThanThePoolIsReportedOnArrival() {
    for onOOM in [OOMAction.preempt, .wait] {
      let states = T.run(
        T.paged(pages: 8, pageSize: 4, onOOM: onOOM, [T.req("A", at: 2, 20, out: 20), T.req("B", 4, out: 2)]))
      let findings = T.findings(states)
      #expect(
        findings.map(\.detail) == [.deadlock(stuck: [0], cause: .sequenceExceedsPool(pages: 10, usable: 8))])
      let arrival = states.firstStep {
        if case .plan(.cleanup, .cleanup(let arrived, _, _, _)) = $0 { arrived == [0] } else { false }
      }
      #expect(findings.first?.step == arrival)
      #expect(states.last!.requests[1].status == .finished)
    }
    let aborted = T.run(T.paged(pages: 8, pageSize: 4, onOOM: .abort, [T.req("A", 20, out: 20)]))
    #expect(T.findings(aborted).isEmpty)
    #expect(aborted.last!.requests[0].status == .aborted)
  }

  @Test func abortEvents() {
    let scenario = T.paged(
      pages: 8, pageSize: 4, maxBatch: 4,
      [T.req("A", 4, out: 20), T.req("B", at: 5, 4, out: 2), T.req("C", at: 1, 3, out: 2)],
      events: [
        ScenarioEvent(at: 2, action: .abort("A")), ScenarioEvent(at: 1, action: .abort("B")),
        ScenarioEvent(at: 3, action: .abort("Z")), ScenarioEvent(at: 6, action: .abort("A")),
        ScenarioEvent(at: 1, action: .abort("C")),
      ])
    let states = T.run(scenario)
    #expect(T.findings(states).isEmpty)
    let cleanup2 = states.first {
      if case .plan(.cleanup, .cleanup(_, let aborted, let releasing, _)) = $0.event.action {
        return aborted == [0] && releasing == [0]
      }
      return false
    }
    #expect(cleanup2?.iteration == 2)
    let frees = states.filter {
      if case .free(_, 0, .aborted) = $0.event.action { return true } else { return false }
    }
    #expect(frees.count == 2)
    let last = states.last!
    #expect(last.requests.map(\.status) == [.aborted, .aborted, .aborted])
    #expect(last.requests[0].output == 2)
    #expect(last.requests[1].output == 0 && last.requests[2].output == 0)
    #expect(!states.contains { $0.waiting.contains(1) })
    #expect(last.endReason == .allRequestsDone)
    #expect(last.allFramesReleased)
  }

  @Test func emptyPromptRunsUnderPaged() {
    let states = T.run(T.paged(pages: 4, pageSize: 4, [T.req("A", 0, out: 6), T.req("B", 3, out: 2)]))
    #expect(T.findings(states).isEmpty)
    #expect(states.last!.requests.allSatisfy { $0.status == .finished })
    #expect(states.last!.allFramesReleased)
  }

  @Test func largestGroupDecodeUnderPaged() {
    let scenario = T.paged(
      pages: 32, pageSize: 4, decode: .largestGroup,
      [T.req("A", 3, out: 2), T.req("B", 5, out: 2), T.req("C", 5, out: 2)])
    let states = T.run(scenario)
    let first = states.first {
      if case .plan(.decode, _) = $0.event.action { return true } else { return false }
    }!
    if case .plan(.decode, .decode(_, let chosen)) = first.event.action { #expect(chosen == [1, 2]) }
    #expect(T.findings(states).isEmpty)
    #expect(states.last!.requests.allSatisfy { $0.status == .finished })
  }
}
