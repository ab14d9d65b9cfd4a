/// The engine API a policy runs against. Each primitive is exactly one step: it changes the state and
/// records what it did as facts, with the listing line (`anchor`) of the policy it belongs to.
extension EngineState {
  /// A plan or decision that changes nothing but the phase.
  mutating func plan(_ phase: Phase, _ plan: PhasePlan, at anchor: Anchor) throws(Pause) {
    try begin()
    self.phase = phase
    end(.plan(phase, plan), anchor: anchor)
  }

  /// Pops up to `count` requests off the waiting queue head (the seed's refill plan).
  mutating func popWaiting(_ count: Int, at anchor: Anchor) throws(Pause) -> [Int] {
    try begin()
    phase = .refill
    var popped: [Int] = []
    while popped.count < count, let r = waiting.popFirst() { popped.append(r) }
    end(
      .plan(.refill, .refill(available: count, popped: popped, skippedAfterPreemption: false)),
      anchor: anchor)
    return popped
  }

  /// `alloc()` for request `r`: on success the frame joins its page table. A failed admission
  /// allocation marks the request as releasing, since its pages are rolled back next.
  @discardableResult
  mutating func allocPage(to r: Int, for purpose: AllocPurpose, at anchor: Anchor) throws(Pause) -> Int {
    try begin()
    let trace = takeFrame(for: r)
    if trace.frame < 0, case .admit = purpose { requests[r].releasing = true }
    end(.alloc(trace, purpose), frame: trace.frame >= 0 ? trace.frame : nil, request: r, anchor: anchor)
    return trace.frame
  }

  /// Growth by one page for a decode, or else (no frame) `outcome`, decided in the same step.
  /// Returns the frame, or nil when the allocation failed.
  mutating func growPage(
    _ r: Int, position: Int, needed: Int, orElse outcome: GrowthFailure, at anchor: Anchor
  ) throws(Pause) -> Int? {
    let have = requests[r].pageTable.count
    let purpose = AllocPurpose.grow(request: r, position: position, needed: needed, have: have)
    try begin()
    let trace = takeFrame(for: r)
    if trace.frame >= 0 {
      requests[r].waitsForPage = false
      end(.alloc(trace, purpose), frame: trace.frame, request: r, anchor: anchor)
      return trace.frame
    }
    switch outcome {
    case .ignored:
      if requests[r].reportedGrowthFailures.insert(needed).inserted {
        findings.append(
          Finding(step: step, .ignoredGrowthFailure(needed: needed, position: position), request: r))
      }
    case .preempt(let victim): requests[victim].releasing = true
    case .abort:
      requests[r].abortRequested = true
      requests[r].releasing = true
    case .wait:
      requests[r].waitsForPage = true
      noteWaitCycle()
    }
    end(.growthFailed(request: r, position: position, outcome: outcome), request: r, anchor: anchor)
    return nil
  }

  /// `free()` of entry `slot` of `r`'s page table; the entry is marked released, the others keep
  /// their logical page numbers. In a queue pool a frame whose refcount drops to 0 joins the free
  /// queue at `place`.
  mutating func releasePage(
    _ r: Int, slot: Int, reason: ReleaseReason, to place: QueuePlace = .tail, at anchor: Anchor
  ) throws(Pause) {
    try begin()
    let frame = requests[r].pageTable[slot]
    requests[r].pageTable[slot] = RequestState.releasedEntry
    holders[frame] -= 1
    let trace = pool.free(frame, to: place)
    progressed = true
    noteMisuse(trace, request: r)
    end(.free(trace, request: r, reason: reason), frame: frame, request: r, anchor: anchor)
  }

  /// `inc_ref()` of a cached frame for `r`: a prefix hit joins its page table.
  mutating func hit(_ r: Int, frame: Int, at anchor: Anchor) throws(Pause) {
    try begin()
    let trace = pool.incRef(frame)
    requests[r].pageTable.append(frame)
    holders[frame] += 1
    progressed = true
    noteMisuse(trace, request: r)
    end(.incRef(trace, request: r), frame: frame, request: r, anchor: anchor)
  }

  /// `r` joins the active batch with its page table.
  mutating func admit(_ r: Int, at anchor: Anchor) throws(Pause) {
    try begin()
    requests[r].prefilled = false
    requests[r].computed = requests[r].hitPages * pageSize
    joinRunning(r, at: anchor)
  }

  /// The end of an admission step: `r` runs, at the end of the active batch.
  mutating func joinRunning(_ r: Int, at anchor: Anchor) {
    requests[r].status = .running
    requests[r].waitsForPage = false
    active.append(r)
    stats.admissions += 1
    progressed = true
    end(
      .admitted(request: r, pages: requests[r].pageTable.count, hitPages: requests[r].hitPages),
      frames: requests[r].pageTable, request: r, anchor: anchor)
  }

  /// An admission failed: `r` goes back to the head of the queue and `lost` (popped with it) are
  /// dropped, as the seed does.
  mutating func refillFailed(_ r: Int, lost: [Int], emptyPrompt: Bool, at anchor: Anchor) throws(Pause) {
    try begin()
    requests[r].status = requests[r].preemptions > 0 ? .preempted : .waiting
    clearReleased(r)
    waiting.prepend(r)
    for l in lost {
      requests[l].status = .lost
      openRequests -= 1
      progressed = true
      findings.append(Finding(step: step, .lostTask(failed: r), request: l))
    }
    if emptyPrompt && !requests[r].reportedDeadlock {
      requests[r].reportedDeadlock = true
      findings.append(Finding(step: step, .emptyPromptDeadlock, request: r))
    }
    end(.refillFailed(request: r, lost: lost), request: r, anchor: anchor)
  }

  /// The prompt of `r` from `from` is written.
  mutating func prefill(_ r: Int, from: Int, at anchor: Anchor) throws(Pause) {
    try begin()
    let to = requests[r].admissionLength
    requests[r].computed = to
    requests[r].prefilled = true
    stats.prefilledTokens += to - from
    progressed = true
    end(
      .prefill(request: r, from: from, to: to), frames: requests[r].pageTable, request: r, anchor: anchor)
  }

  /// A decode writes the KV of `position`. `outOfBounds` is the frame a missing page's padded -1 index
  /// hits; `growthNeeded` the seed's growth check after the write.
  mutating func write(
    _ r: Int, position: Int, outOfBounds: Int? = nil, growthNeeded: Int? = nil, at anchor: Anchor
  ) throws(Pause) {
    try begin()
    let pages = requests[r].pageTable.count
    if let frame = outOfBounds, requests[r].reportedOutOfBounds.insert(position / pageSize).inserted {
      findings.append(
        Finding(
          step: step,
          .outOfBoundsWrite(
            position: position, page: position / pageSize, pages: pages, frame: frame,
            owners: holdersOf(frame)),
          frame: frame, request: r))
    }
    requests[r].output += 1
    requests[r].computed = position + 1
    stats.decodedTokens += 1
    progressed = true
    end(
      .write(
        request: r, position: position, pages: pages, outOfBounds: outOfBounds, growthNeeded: growthNeeded),
      frame: outOfBounds ?? requests[r].pageTable.last, request: r, anchor: anchor)
  }

  /// `r`, whose pages were just released, goes back to the head of the waiting queue to recompute.
  mutating func preempt(_ r: Int, for other: Int, at anchor: Anchor) throws(Pause) {
    try begin()
    let freed = requests[r].computed
    if let position = active.firstIndex(of: r) { active.remove(at: position) }
    stats.tokensRecomputed += freed
    stats.preemptions += 1
    requests[r].preemptions += 1
    requests[r].status = .preempted
    requests[r].computed = 0
    requests[r].prefilled = false
    requests[r].hitPages = 0
    clearReleased(r)
    waiting.prepend(r)
    preemptedThisIteration = true
    progressed = true
    end(
      .preempted(request: r, forRequest: other, tokensToRecompute: freed), request: r, anchor: anchor)
  }

  /// `r`, whose pages were just released, leaves the active batch.
  mutating func retire(_ r: Int, _ status: RequestStatus, at anchor: Anchor? = nil) throws(Pause) {
    try begin()
    if let position = active.firstIndex(of: r) { active.remove(at: position) }
    if !requests[r].isTerminal { openRequests -= 1 }
    requests[r].status = status
    requests[r].blockKeys = []
    requests[r].verifiedSources = []
    clearReleased(r)
    progressed = true
    end(.retired(request: r, status: status), request: r, anchor: anchor)
  }

  /// `alloc()` inside a step for `r`: on success the frame joins its page table.
  private mutating func takeFrame(for r: Int) -> AllocTrace {
    let trace = pool.alloc()
    if trace.evictedKey != nil { stats.evictions += 1 }
    if trace.frame >= 0 {
      requests[r].pageTable.append(trace.frame)
      holders[trace.frame] += 1
      progressed = true
    }
    return trace
  }

  /// The end of a release: the page table is cleared.
  private mutating func clearReleased(_ r: Int) {
    requests[r].releasing = false
    for frame in requests[r].pageTable where frame >= 0 { holders[frame] -= 1 }
    requests[r].pageTable = []
    requests[r].cachedPages = 0
  }
}
