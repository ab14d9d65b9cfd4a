/// The scheduler and allocator operations, executed one step at a time.
extension EngineState {
  /// Executes one step: the next queued operation, or the plan of the next phase. Returns false once
  /// the run is over (and then changes nothing).
  @discardableResult
  public mutating func advance() -> Bool {
    guard phase != .done else { return false }
    step += 1
    findings = []
    if let op = agenda.popFirst() {
      execute(op)
    } else {
      planNextPhase()
    }
    let fullCheck = phase == .done || pool.count <= 1024
    var checker = self.checker
    findings += checker.check(self, full: fullCheck)
    self.checker = checker
    stats.findings += findings.count
    stats.peakFramesInUse = max(stats.peakFramesInUse, pool.usedCount)
    return true
  }

  // MARK: Phases

  mutating func planNextPhase() {
    switch phase {
    case .start where scenario.isAllocatorOnly, .ops:
      finish("all operations done")
    case .start, .decode:
      planCleanup()
    case .cleanup:
      planRefill()
    case .refill:
      planPrefill()
    case .prefill:
      planDecode()
    case .done:
      break
    }
  }

  mutating func finish(_ reason: String) {
    phase = .done
    endReason = reason
    event = StepEvent(.plan(.done, .done(reason: reason)))
  }

  private var hasFutureInput: Bool {
    arrivalCursor < arrivalOrder.count || eventCursor < sortedEvents.count
  }

  private var nextInputIteration: Int? {
    let arrival = arrivalCursor < arrivalOrder.count ? requests[arrivalOrder[arrivalCursor]].spec.arrive : nil
    let event = eventCursor < sortedEvents.count ? sortedEvents[eventCursor].at : nil
    switch (arrival, event) {
    case (let a?, let e?): return min(a, e)
    case (let a?, nil): return a
    case (nil, let e?): return e
    default: return nil
    }
  }

  mutating func planCleanup() {
    if phase == .decode {
      stats.iterations += 1
      stats.framesInUseSum += pool.usedCount
      iteration += 1
      if openRequests == 0 && !hasFutureInput { return finish("all requests done") }
      if !progressed && !hasFutureInput {
        let stuck = requests.indices.filter { !requests[$0].isTerminal && requests[$0].status != .pending }
        let names = stuck.map { requests[$0].id }.joined(separator: ", ")
        if !requests.contains(where: \.reportedDeadlock) {
          findings.append(
            Finding(
              step: step, kind: .deadlock,
              message: "no request can make progress; stuck: \(names)", request: stuck.first))
        }
        return finish("stalled with \(stuck.count) request(s) unfinished")
      }
    } else if openRequests == 0 && !hasFutureInput {
      return finish("all requests done")
    }
    if iteration >= scenario.maxIterations { return finish("iteration limit \(scenario.maxIterations)") }
    progressed = false
    skipRefill = preemptedThisIteration
    preemptedThisIteration = false
    phase = .cleanup

    var idleUntil: Int?
    if active.isEmpty, waiting.isEmpty, let next = nextInputIteration, next > iteration {
      iteration = next
      idleUntil = next
    }
    var arrived: [Int] = []
    while arrivalCursor < arrivalOrder.count, requests[arrivalOrder[arrivalCursor]].spec.arrive <= iteration {
      let r = arrivalOrder[arrivalCursor]
      arrivalCursor += 1
      guard requests[r].status == .pending else { continue }
      requests[r].status = .waiting
      waiting.append(r)
      arrived.append(r)
      progressed = true
    }
    var aborted: [Int] = []
    while eventCursor < sortedEvents.count, sortedEvents[eventCursor].at <= iteration {
      if case .abort(let id) = sortedEvents[eventCursor].action, let r = requestIndex(id: id),
        markAborted(r)
      {
        aborted.append(r)
      }
      eventCursor += 1
    }
    var releasing: [Int] = []
    for r in active
    where requests[r].abortRequested || requests[r].output >= requests[r].spec.output {
      releasing.append(r)
      let aborted = requests[r].abortRequested
      agenda.append(contentsOf: releaseOps(r, reason: aborted ? .aborted : .finished))
      agenda.append(.retire(request: r, status: aborted ? .aborted : .finished))
    }
    event = StepEvent(
      .plan(
        .cleanup, .cleanup(arrived: arrived, aborted: aborted, releasing: releasing, idleUntil: idleUntil)))
  }

  /// Aborts a request: a queued or pending one at once, a running one at the next cleanup.
  /// Returns false when it had already ended.
  mutating func markAborted(_ r: Int) -> Bool {
    switch requests[r].status {
    case .pending, .waiting, .preempted:
      if let position = waiting.firstIndex(of: r) { waiting.remove(at: position) }
      requests[r].status = .aborted
      openRequests -= 1
      progressed = true
      return true
    case .running:
      requests[r].abortRequested = true
      progressed = true
      return true
    case .finished, .aborted, .lost:
      return false
    }
  }

  mutating func planRefill() {
    phase = .refill
    let available = max(0, scenario.scheduler.maxBatch - active.count)
    switch policy {
    case .astraiSeed:
      var popped: [Int] = []
      while popped.count < available, let r = waiting.popFirst() { popped.append(r) }
      if !popped.isEmpty { queueSeedAdmission(popped) }
      event = StepEvent(
        .plan(.refill, .refill(available: available, popped: popped, skippedAfterPreemption: false)))
    case .paged:
      if skipRefill {
        event = StepEvent(
          .plan(.refill, .refill(available: available, popped: [], skippedAfterPreemption: true)))
        return
      }
      if available > 0 && !waiting.isEmpty { agenda.append(.considerNext) }
      event = StepEvent(
        .plan(.refill, .refill(available: available, popped: [], skippedAfterPreemption: false)))
    }
  }

  /// The seed admits popped requests in order with `alloc_n(pages_for(prompt_len))`.
  mutating func queueSeedAdmission(_ popped: [Int]) {
    guard let r = popped.first else { return }
    let rest = Array(popped.dropFirst())
    let need = pagesFor(requests[r].admissionLength)
    if need == 0 {
      agenda.prepend(.refillFailed(request: r, rest: rest, emptyPrompt: true))
    } else {
      agenda.prepend(.admitAlloc(request: r, need: need, rest: rest))
    }
  }

  mutating func planPrefill() {
    phase = .prefill
    var chosen: [Int]
    switch policy {
    case .astraiSeed:
      // Every active task with no output yet has its prompt written, grouped by prompt length.
      let fresh = active.filter { requests[$0].output == 0 }
      var lengths: [Int] = []
      for r in fresh where !lengths.contains(requests[r].admissionLength) {
        lengths.append(requests[r].admissionLength)
      }
      chosen = lengths.flatMap { length in fresh.filter { requests[$0].admissionLength == length } }
    case .paged:
      chosen = active.filter { !requests[$0].prefilled }
    }
    for r in chosen { agenda.append(.prefill(request: r)) }
    event = StepEvent(.plan(.prefill, .prefill(chosen)))
  }

  /// The position a request writes next.
  func nextPosition(_ r: Int) -> Int {
    policy == .astraiSeed ? requests[r].spec.prompt.count + requests[r].output : requests[r].computed
  }

  mutating func planDecode() {
    phase = .decode
    let candidates = active.filter {
      requests[$0].output < requests[$0].spec.output && !requests[$0].abortRequested
        && (policy == .astraiSeed || requests[$0].prefilled)
    }
    var groups: [DecodeGroup] = []
    var groupOfPosition: [Int: Int] = [:]
    for r in candidates {
      let position = nextPosition(r)
      if let g = groupOfPosition[position] {
        groups[g].requests.append(r)
      } else {
        groupOfPosition[position] = groups.count
        groups.append(DecodeGroup(position: position, requests: [r]))
      }
    }
    let chosen: [Int]
    switch scenario.scheduler.decode {
    case .all:
      chosen = candidates
    case .largestGroup:
      // The largest group; on a tie the first group found.
      var best: DecodeGroup?
      for group in groups where group.requests.count > (best?.requests.count ?? 0) { best = group }
      chosen = best?.requests ?? []
    }
    for r in chosen { agenda.append(.decode(request: r)) }
    event = StepEvent(.plan(.decode, .decode(groups: groups, chosen: chosen)))
  }

  // MARK: Operations

  mutating func execute(_ op: Op) {
    switch op {
    case .pool(let poolOp):
      phase = .ops
      executePoolOp(poolOp)
    case .allocNStep(let count, let got):
      let trace = pool.alloc()
      var frames = [trace.frame]
      if trace.evictedKey != nil { stats.evictions += 1 }
      if trace.frame >= 0 {
        let now = got + [trace.frame]
        agenda.prepend(
          now.count < count ? .allocNStep(count: count, got: now) : .allocNDone(count: count, frames: now))
      } else {
        agenda.prepend(.allocNDone(count: count, frames: []))
        for frame in got.reversed() { agenda.prepend(.allocNFree(frame: frame)) }
        frames = []
      }
      event = StepEvent(.alloc(trace, .op(index: got.count, count: count)), frames: frames)
    case .allocNFree(let frame):
      let trace = pool.free(frame)
      event = StepEvent(.free(trace, request: nil, reason: .rollback), frames: [frame])
    case .allocNDone(let count, let frames):
      event = StepEvent(.allocNResult(count: count, frames: frames), frames: frames)
    case .user(let action):
      executeUserAction(action)
    case .release(let r, let reason):
      guard let frame = takeReleasePage(of: r) else {
        event = StepEvent(.retired(request: r, status: requests[r].status), request: r)
        return
      }
      let trace = pool.free(frame)
      progressed = true
      noteMisuse(trace, request: r)
      event = StepEvent(.free(trace, request: r, reason: reason), frames: [frame], request: r)
    case .retire(let r, let status):
      if let position = active.firstIndex(of: r) { active.remove(at: position) }
      if !requests[r].isTerminal { openRequests -= 1 }
      requests[r].status = status
      requests[r].releasing = false
      progressed = true
      event = StepEvent(.retired(request: r, status: status), request: r)
    case .admitAlloc(let r, let need, let rest):
      let have = requests[r].pageTable.count
      let trace = allocPage(to: r)
      if trace.frame >= 0 {
        agenda.prepend(
          have + 1 < need
            ? .admitAlloc(request: r, need: need, rest: rest) : .admitted(request: r, rest: rest)
        )
      } else {
        // The seed's alloc_n frees the pages it got and returns []; refill reads that as failure. (The
        // paged policy checked capacity first, so there this only undoes cleanly what cannot happen.)
        agenda.prepend(.refillFailed(request: r, rest: rest, emptyPrompt: false))
        agenda.prepend(contentsOf: releaseOps(r, reason: .rollback))
      }
      event = StepEvent(
        .alloc(trace, .admit(request: r, need: need, have: have)),
        frames: trace.frame >= 0 ? [trace.frame] : [],
        request: r)
    case .refillFailed(let r, let rest, let emptyPrompt):
      requests[r].status = requests[r].preemptions > 0 ? .preempted : .waiting
      requests[r].releasing = false
      waiting.prepend(r)
      for lost in rest {
        requests[lost].status = .lost
        openRequests -= 1
        progressed = true
        findings.append(
          Finding(
            step: step, kind: .lostTask,
            message:
              "\(requests[lost].id) was popped from the waiting queue at refill but neither admitted nor re-queued after \(requests[r].id) failed",
            request: lost))
      }
      if emptyPrompt && !requests[r].reportedDeadlock {
        requests[r].reportedDeadlock = true
        findings.append(
          Finding(
            step: step, kind: .emptyPromptDeadlock,
            message:
              "\(requests[r].id) has an empty prompt: alloc_n(0) returns [], refill reads it as failure and puts it back at the head forever",
            request: r))
      }
      event = StepEvent(.refillFailed(request: r, lost: rest), request: r)
    case .considerNext:
      considerNextAdmission()
    case .hit(let r, let frame):
      let trace = pool.incRef(frame)
      appendPage(frame, to: r)
      progressed = true
      noteMisuse(trace, request: r)
      event = StepEvent(.incRef(trace, request: r), frames: [frame], request: r)
    case .admitted(let r, let rest):
      requests[r].status = .running
      requests[r].prefilled = false
      requests[r].computed = requests[r].hitPages * pageSize
      active.append(r)
      stats.admissions += 1
      progressed = true
      event = StepEvent(
        .admitted(request: r, pages: requests[r].pageTable.count, hitPages: requests[r].hitPages),
        frames: requests[r].pageTable, request: r)
      if policy == .astraiSeed {
        queueSeedAdmission(rest)
      } else if active.count < scenario.scheduler.maxBatch && !waiting.isEmpty {
        agenda.prepend(.considerNext)
      }
    case .prefill(let r):
      // The seed writes the whole prompt from position 0, again each iteration the task is not decoded.
      let from = policy == .astraiSeed ? 0 : requests[r].computed
      let to = requests[r].admissionLength
      requests[r].computed = to
      requests[r].prefilled = true
      stats.prefilledTokens += to - from
      progressed = true
      if policy == .paged && scenario.scheduler.prefixCache { agenda.prepend(.record(request: r)) }
      event = StepEvent(
        .prefill(request: r, from: from, to: to), frames: requests[r].pageTable, request: r)
    case .record(let r):
      recordPromptPages(r)
    case .decode(let r):
      decode(r)
    case .grow(let r, let needed, let position):
      grow(r, needed: needed, position: position)
    case .preempted(let r, let forRequest):
      let freed = requests[r].computed
      if let position = active.firstIndex(of: r) { active.remove(at: position) }
      stats.tokensRecomputed += freed
      stats.preemptions += 1
      requests[r].preemptions += 1
      requests[r].status = .preempted
      requests[r].computed = 0
      requests[r].prefilled = false
      requests[r].hitPages = 0
      requests[r].releasing = false
      waiting.prepend(r)
      preemptedThisIteration = true
      progressed = true
      event = StepEvent(.preempted(request: r, forRequest: forRequest, tokensToRecompute: freed), request: r)
    }
  }

  /// `alloc()` for a request: on success the frame joins its page table.
  mutating func allocPage(to r: Int) -> AllocTrace {
    let trace = pool.alloc()
    if trace.evictedKey != nil { stats.evictions += 1 }
    if trace.frame >= 0 {
      appendPage(trace.frame, to: r)
      progressed = true
    }
    return trace
  }

  /// One release step per page of the request's table; marks the request as releasing, so that the
  /// checker does not hold its shrinking table against its tokens.
  mutating func releaseOps(_ r: Int, reason: ReleaseReason) -> [Op] {
    requests[r].releasing = true
    return Array(repeating: .release(request: r, reason: reason), count: requests[r].pageTable.count)
  }

  mutating func executePoolOp(_ op: PoolOp) {
    switch op {
    case .alloc:
      let trace = pool.alloc()
      if trace.evictedKey != nil { stats.evictions += 1 }
      event = StepEvent(.alloc(trace, .op(index: 0, count: 1)), frames: trace.frame >= 0 ? [trace.frame] : [])
    case .free(let frame):
      let trace = pool.free(frame)
      noteMisuse(trace, request: nil)
      event = StepEvent(.free(trace, request: nil, reason: nil), frames: pool.contains(frame) ? [frame] : [])
    case .incRef(let frame):
      let trace = pool.incRef(frame)
      noteMisuse(trace, request: nil)
      event = StepEvent(.incRef(trace, request: nil), frames: pool.contains(frame) ? [frame] : [])
    case .allocN(let count):
      if count == 0 {
        event = StepEvent(.allocNResult(count: 0, frames: []))
      } else {
        execute(.allocNStep(count: count, got: []))
      }
    }
  }

  mutating func executeUserAction(_ action: UserAction) {
    progressed = true
    switch action {
    case .pool(let op):
      if scenario.isAllocatorOnly { phase = .ops }
      executePoolOp(op)
    case .addRequest(let spec):
      var request = RequestState(spec: spec)
      request.status = .waiting
      requests.append(request)
      openRequests += 1
      waiting.append(requests.count - 1)
      event = StepEvent(.added(request: requests.count - 1), request: requests.count - 1)
    case .abort(let id):
      guard let r = requestIndex(id: id) else { return }
      // Queued work for the request (an admission in progress, decodes) is dropped; the seed's other
      // popped requests that rode on its admission are admitted next.
      let rest = agenda.lazy.compactMap { op -> [Int]? in
        switch op {
        case .admitAlloc(r, _, let rest), .admitted(r, let rest), .refillFailed(r, let rest, _): return rest
        default: return nil
        }
      }.first
      agenda.removeAll { $0.request == r }
      if let rest { queueSeedAdmission(rest) }
      let holdsPages = requests[r].status == .running || !requests[r].pageTable.isEmpty
      _ = markAborted(r)
      if holdsPages {
        agenda.prepend(.retire(request: r, status: .aborted))
        agenda.prepend(contentsOf: releaseOps(r, reason: .aborted))
      }
      event = StepEvent(.aborted(request: r), request: r)
    }
  }

  mutating func noteMisuse(_ trace: RefTrace, request: Int?) {
    guard let misuse = trace.misuse else { return }
    let (kind, text): (FindingKind, String)
    switch misuse {
    case .badIndex:
      (kind, text) = (.badFrameIndex, "frame \(trace.frame) is outside the pool of \(pool.count) frames")
    case .doubleFree:
      (kind, text) = (.doubleFree, "free(\(trace.frame)) of a frame that is already free: rejected")
    case .negativeRefcount:
      (kind, text) = (
        .negativeRefcount,
        "free(\(trace.frame)) drove refs[\(trace.frame)] from \(trace.refBefore) to \(trace.refAfter)"
      )
    case .incRefFreeFrame:
      (kind, text) = (
        .incRefFreeFrame,
        pool.checked
          ? "inc_ref(\(trace.frame)) of a free frame: rejected"
          : "inc_ref(\(trace.frame)) of a free frame: refs[\(trace.frame)] = \(trace.refAfter) but its free bit stays set"
      )
    }
    findings.append(
      Finding(
        step: step, kind: kind, message: text, frame: pool.contains(trace.frame) ? trace.frame : nil,
        request: request))
  }

  // MARK: Prefix cache

  /// The keys of the full pages of a request's prompt, chained from page 0.
  func promptPageKeys(_ r: Int) -> [UInt64] {
    let spec = requests[r].spec
    let count = spec.prompt.count / pageSize
    var keys: [UInt64] = []
    keys.reserveCapacity(count)
    var parent: UInt64 = 0
    for page in 0..<count {
      let start = page * pageSize
      parent = Tokens.pageKey(
        parent: parent, tokens: (start..<(start + pageSize)).lazy.map { spec.token(at: $0) })
      keys.append(parent)
    }
    return keys
  }

  /// True when page `page` of request `r` holds the same tokens as page `otherPage` of `other`.
  func tokensEqual(_ r: Int, _ page: Int, _ other: Int, _ otherPage: Int) -> Bool {
    let a = requests[r].spec
    let b = requests[other].spec
    for offset in 0..<pageSize
    where a.token(at: page * pageSize + offset) != b.token(at: otherPage * pageSize + offset) {
      return false
    }
    return true
  }

  /// Paged admission of the queue's head: prefix lookup, capacity check, then hits and allocations.
  mutating func considerNextAdmission() {
    guard active.count < scenario.scheduler.maxBatch, let r = waiting.first else {
      event = StepEvent(.plan(.refill, .refill(available: 0, popped: [], skippedAfterPreemption: false)))
      return
    }
    let length = requests[r].admissionLength
    var hits: [Int] = []
    if scenario.scheduler.prefixCache && length > 0 {
      // Hits are capped so that the last token is always computed.
      let maxHits = min((length - 1) / pageSize, requests[r].spec.prompt.count / pageSize)
      if requests[r].promptKeys.isEmpty { requests[r].promptKeys = promptPageKeys(r) }
      let keys = requests[r].promptKeys
      // A head that waits is looked up again every iteration: a page once compared equal to a
      // source page stays equal (tokens never change), so only new sources are compared.
      var verified = requests[r].verifiedSources
      for page in 0..<maxHits {
        let parent = page == 0 ? 0 : keys[page - 1]
        let frame = pool.lookup(key: keys[page], parent: parent) { cached in
          let source = Int64(cached.request) << 32 | Int64(cached.page)
          if page < verified.count && verified[page] == source { return true }
          guard tokensEqual(r, page, Int(cached.request), Int(cached.page)) else { return false }
          if page < verified.count {
            verified[page] = source
          } else if page == verified.count {
            verified.append(source)
          }
          return true
        }
        guard let frame else { break }
        hits.append(frame)
      }
      requests[r].verifiedSources = verified
    }
    let total = pagesFor(length)
    let need = total - hits.count
    let hitsInLRU = hits.filter { pool.lru.contains($0) }.count
    let available = pool.availableCount - hitsInLRU
    let admit = need <= available
    event = StepEvent(
      .lookup(request: r, hits: hits, need: need, available: available, admitted: admit), frames: hits,
      request: r)
    guard admit else { return }
    waiting.removeFirst()
    if scenario.scheduler.prefixCache { stats.promptTokensQueried += length }
    requests[r].hitPages = hits.count
    stats.prefixHitPages += hits.count
    stats.prefixHitTokens += hits.count * pageSize
    agenda.prepend(
      need > 0 ? .admitAlloc(request: r, need: total, rest: []) : .admitted(request: r, rest: []))
    for frame in hits.reversed() { agenda.prepend(.hit(request: r, frame: frame)) }
  }

  /// After prefill, the keys of the full prompt pages are recorded (a partial last page never is).
  mutating func recordPromptPages(_ r: Int) {
    let fullPages = min(requests[r].spec.prompt.count / pageSize, requests[r].pageTable.count)
    if requests[r].promptKeys.isEmpty { requests[r].promptKeys = promptPageKeys(r) }
    let keys = requests[r].promptKeys
    var recorded = 0
    for page in requests[r].hitPages..<max(requests[r].hitPages, fullPages) {
      let cachedPage = CachedPage(
        key: keys[page], parent: page == 0 ? 0 : keys[page - 1], request: r, page: page)
      if pool.record(requests[r].pageTable[page], page: cachedPage) { recorded += 1 }
    }
    requests[r].promptKeys = []
    requests[r].verifiedSources = []
    event = StepEvent(
      .record(request: r, pages: fullPages, recorded: recorded),
      frames: Array(requests[r].pageTable.prefix(fullPages)),
      request: r)
  }

  // MARK: Decode

  mutating func decode(_ r: Int) {
    let position = nextPosition(r)
    let pages = requests[r].pageTable.count
    switch policy {
    case .astraiSeed:
      // Write first, then grow with pages_for(pos + 1) for the next position.
      var outOfBounds: Int?
      let page = position / pageSize
      if page >= pages {
        outOfBounds = pool.count - 1
        if !requests[r].reportedOutOfBounds.contains(page) {
          requests[r].reportedOutOfBounds.insert(page)
          let victim = holdersOf(pool.count - 1).map { requests[$0].id }
          let owner =
            victim.isEmpty ? "a frame it does not own" : "frame owned by \(victim.joined(separator: ", "))"
          findings.append(
            Finding(
              step: step, kind: .outOfBoundsWrite,
              message:
                "\(requests[r].id) writes position \(position) in page \(page) but holds \(pages) page(s) (\(pages * pageSize) slots); the padded -1 index hits frame \(pool.count - 1), \(owner)",
              frame: pool.count - 1, request: r))
        }
      }
      requests[r].output += 1
      requests[r].computed = position + 1
      stats.decodedTokens += 1
      progressed = true
      let nextPosition = requests[r].spec.prompt.count + requests[r].output
      let needed = pagesFor(nextPosition + 1)
      if pages < needed { agenda.prepend(.grow(request: r, needed: needed, position: nextPosition)) }
      event = StepEvent(
        .write(request: r, position: position, pages: pages, outOfBounds: outOfBounds, growthNeeded: needed),
        frames: outOfBounds.map { [$0] } ?? requests[r].pageTable.suffix(1), request: r)
    case .paged:
      // Grow before the write, so that no write is ever out of bounds.
      let needed = pagesFor(position + 1)
      if pages < needed {
        agenda.prepend(.decode(request: r))
        grow(r, needed: needed, position: position)
        return
      }
      requests[r].output += 1
      requests[r].computed = position + 1
      stats.decodedTokens += 1
      progressed = true
      event = StepEvent(
        .write(request: r, position: position, pages: pages, outOfBounds: nil, growthNeeded: nil),
        frames: Array(requests[r].pageTable.suffix(1)), request: r)
    }
  }

  mutating func grow(_ r: Int, needed: Int, position: Int) {
    let have = requests[r].pageTable.count
    let trace = allocPage(to: r)
    if trace.frame >= 0 {
      if have + 1 < needed { agenda.prepend(.grow(request: r, needed: needed, position: position)) }
      event = StepEvent(
        .alloc(trace, .grow(request: r, position: position, needed: needed, have: have)),
        frames: [trace.frame],
        request: r)
      return
    }
    let outcome: GrowthFailure
    switch policy {
    case .astraiSeed:
      outcome = .ignored
      if requests[r].reportedGrowthFailures.insert(needed).inserted {
        findings.append(
          Finding(
            step: step, kind: .ignoredGrowthFailure,
            message:
              "alloc() returned -1 while \(requests[r].id) grew to \(needed) page(s) for position \(position); the failure is ignored",
            request: r))
      }
    case .paged:
      // Drop this request's queued decode: it is retried or given up below.
      if case .decode(r)? = agenda.first { agenda.removeFirst() }
      switch scenario.scheduler.onOOM {
      case .preempt:
        let victim = active.last ?? r
        outcome = .preempt(victim: victim)
        agenda.removeAll { $0.request == victim }
        if victim != r { agenda.prepend(.decode(request: r)) }
        agenda.prepend(.preempted(request: victim, forRequest: r))
        agenda.prepend(contentsOf: releaseOps(victim, reason: .preempted))
      case .abort:
        outcome = .abort
        requests[r].abortRequested = true
        agenda.prepend(.retire(request: r, status: .aborted))
        agenda.prepend(contentsOf: releaseOps(r, reason: .aborted))
      case .wait:
        outcome = .wait
      }
    }
    event = StepEvent(
      .growthFailed(request: r, position: position, outcome: outcome), frames: [], request: r)
  }
}
