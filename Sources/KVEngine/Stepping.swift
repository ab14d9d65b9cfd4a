/// How the engine runs: units (a phase of the policy, an allocator operation, a user action) run
/// eagerly; a step inside a unit is reached by replaying the unit from its start with a step budget.
extension EngineState {
  /// Executes one step. Returns false once the run is over (and then changes nothing).
  @discardableResult
  public mutating func advance() -> Bool {
    let before = step
    run(to: step + 1)
    return step > before
  }

  /// Runs until `target` steps or the end of the run, calling `observe` after every step and
  /// `boundary` after every unit. Cost: the steps run, plus the steps of the unit under way that lie
  /// before this state (replayed silently).
  public mutating func run(
    to target: Int, observe: ((EngineState) -> Void)? = nil, boundary: ((EngineState) -> Void)? = nil
  ) {
    guard step < target else { return }
    if config.prefixCache && scenario.requests.count >= Self.warmingRequests {
      blockKeyMemo.warm(scenario.requests, order: arrivalOrder, pageSize: pageSize)
    }
    if let start = unitStart?.state {
      // Replay the unit under way from its start; the steps up to here are not observed again.
      let here = step
      let deferred = deferredActions
      self = start
      deferredActions = deferred
      observedAfter = here
    }
    runUnits(to: target, observe: observe, boundary: boundary)
    observedAfter = 0
  }

  /// Runs the rest of the unit under way, so that the state is at a boundary.
  public mutating func finishUnit(observe: ((EngineState) -> Void)? = nil) {
    guard let start = unitStart?.state else { return }
    // The unit's length is not known ahead: run it whole from its start to find where it ends.
    var probe = start
    probe.budget = Int.max
    try? probe.runUnit()
    run(to: probe.step, observe: observe)
  }

  /// The unit loop, with `observe` as the observer while it runs.
  private mutating func runUnits(
    to target: Int, observe: ((EngineState) -> Void)?, boundary: ((EngineState) -> Void)?
  ) {
    guard let observe else { return runUnits(to: target, boundary: boundary) }
    withoutActuallyEscaping(observe) { observe in
      observer = observe
      runUnits(to: target, boundary: boundary)
      observer = nil
    }
  }

  /// The unit loop; `observer`, when set, sees every step.
  private mutating func runUnits(to target: Int, boundary: ((EngineState) -> Void)?) {
    // The start of a unit is kept only near the target, where the unit may pause: keeping it costs a
    // copy of the tables the unit then changes. A unit that pauses without it is found again by
    // replaying from `origin`, which costs the run's length again: so the nearer the target, the
    // fewer starts are worth keeping.
    var origin = self
    origin.unitStart = nil
    origin.observer = nil
    var lastBoundary = step
    let keptStartSteps = min(EngineState.keptStartBudget, (target - step) / 16)
    while step < target && (!isDone || !pendingActions.isEmpty) {
      var start: EngineState?
      if target - step <= keptStartSteps {
        start = self
        start?.observer = nil
      }
      budget = target - step
      do {
        try runUnit()
        unitStart = nil
        pendingActions.append(contentsOf: deferredActions)
        deferredActions = []
        lastBoundary = step
        if let boundary {
          let observe = observer
          observer = nil
          boundary(self)
          observer = observe
        }
      } catch {
        if start == nil {
          var replay = origin
          replay.runUnits(to: lastBoundary, boundary: nil)
          start = replay
        }
        unitStart = start.map(UnitStart.init)
        break
      }
    }
  }

  /// Remaining steps under which the start of each unit is kept as it runs, at most.
  static let keptStartBudget = 4_096

  /// Queues a user action. It runs as the next unit, or after the unit under way.
  public mutating func enqueue(_ action: UserAction) {
    guard isAtBoundary else {
      deferredActions.append(action)
      return
    }
    pendingActions.append(action)
    if phase == .done {
      phase = scenario.isAllocatorOnly ? .ops : (policyType.phases.last ?? .start)
      endReason = nil
    }
  }

  /// The next unit at a boundary: the next step of an `alloc_n` under way, a user action, an allocator
  /// operation, or the policy's next phase.
  mutating func runUnit() throws(Pause) {
    if allocationUnderWay != nil {
      try begin()
      return continueAllocN()
    }
    if let action = pendingActions.popFirst() { return try runUserAction(action) }
    if let ops = scenario.ops {
      guard opCursor < ops.count else { return try finish(.allOperationsDone) }
      opCursor += 1
      return try runPoolOp(ops[opCursor - 1], user: false)
    }
    let phases = policyType.phases
    let next = phases.firstIndex(of: phase).map { phases[($0 + 1) % phases.count] } ?? phases[0]
    try policyType.run(next, &self)
  }

  // MARK: Step recording

  /// Opens a step; throws when the replay budget is spent, before anything changes.
  mutating func begin() throws(Pause) {
    guard budget > 0 else { throw Pause() }
    budget -= 1
    step += 1
    findings = []
  }

  /// Closes a step: records what it did (`action`, the frames it touched, its request and the line
  /// of the listing) and checks the invariants. The event's frame list is rewritten in place when
  /// nothing else holds it, so that a step spares a heap allocation. O(frames).
  mutating func end(
    _ action: StepAction, frames: some Collection<Int> = EmptyCollection(), request: Int? = nil,
    anchor: Anchor? = nil
  ) {
    event.action = action
    event.request = request
    event.anchor = anchor
    let count = frames.count
    if event.frames.count > count { event.frames.removeLast(event.frames.count - count) }
    var index = 0
    for frame in frames {
      if index < event.frames.count { event.frames[index] = frame } else { event.frames.append(frame) }
      index += 1
    }
    closeStep()
  }

  /// Closes a step that touched the frames of an array (a page table, say), which the event shares.
  mutating func end(_ action: StepAction, frames: [Int], request: Int? = nil, anchor: Anchor? = nil) {
    event.action = action
    event.request = request
    event.anchor = anchor
    event.frames = frames
    closeStep()
  }

  /// Closes a step that touched `frame`, or no frame.
  mutating func end(_ action: StepAction, frame: Int?, request: Int? = nil, anchor: Anchor? = nil) {
    if let frame {
      end(action, frames: CollectionOfOne(frame), request: request, anchor: anchor)
    } else {
      end(action, request: request, anchor: anchor)
    }
  }

  /// The end of every step: the invariant check, the run's counts and the observer.
  private mutating func closeStep() {
    let full = phase == .done || pool.count <= 1024
    if !stepIsSound(full: full) {
      var checker = self.checker
      let found = checker.check(self, full: full)
      self.checker = checker
      if !found.isEmpty { findings += found }
    }
    if !findings.isEmpty { findingsSoFar += findings }
    stats.findings += findings.count
    stats.peakFramesInUse = max(stats.peakFramesInUse, pool.usedCount)
    if let observer, step > observedAfter {
      // The observer may keep the state: it must not hold the observer itself.
      self.observer = nil
      observer(self)
      self.observer = observer
    }
  }

  /// The run is over: one step.
  mutating func finish(_ reason: EndReason) throws(Pause) {
    try begin()
    endWith(reason)
  }

  /// The step that ends the run; warming of prompt blocks stops with it.
  private mutating func endWith(_ reason: EndReason) {
    phase = .done
    endReason = reason
    blockKeyMemo.noteRunOver()
    end(.plan(.done, .done(reason)))
  }

  // MARK: Iterations

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

  /// The first step of an iteration (the cleanup plan): counts the iteration that ended, ends the run
  /// when nothing is left or nothing moved, jumps over idle iterations, then lets arrivals join the
  /// waiting queue and applies the scenario's aborts. Returns the active requests that are finished or
  /// aborted (marked releasing), or nil when the run ended.
  mutating func beginIteration(anchor: Anchor) throws(Pause) -> [Int]? {
    try begin()
    if phase == policyType.phases.last {
      stats.iterations += 1
      stats.framesInUseSum += pool.usedCount
      iteration += 1
      if openRequests == 0 && !hasFutureInput { return endRun(.allRequestsDone) }
      if !progressed && !hasFutureInput {
        let stuck = requests.indices.filter { !requests[$0].isTerminal && requests[$0].status != .pending }
        if !requests.contains(where: \.reportedDeadlock) {
          findings.append(
            Finding(step: step, .deadlock(stuck: stuck, cause: .noProgress), request: stuck.first))
        }
        return endRun(.stalled(unfinished: stuck.count))
      }
    } else if openRequests == 0 && !hasFutureInput {
      return endRun(.allRequestsDone)
    }
    if iteration >= scenario.maxIterations { return endRun(.iterationLimit(scenario.maxIterations)) }
    progressed = false
    skipRefill = preemptedThisIteration
    preemptedThisIteration = false
    phase = .cleanup

    var idleUntil: Int?
    if active.isEmpty, waiting.isEmpty, let next = nextInputIteration, next > iteration {
      // The jump counts as the idle iterations it skips: one beyond the limit ends the run there.
      if next >= scenario.maxIterations {
        iteration = scenario.maxIterations
        return endRun(.iterationLimit(scenario.maxIterations))
      }
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
      noteSequenceExceedingPool(r)
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
    let releasing = active.filter {
      requests[$0].abortRequested || requests[$0].output >= requests[$0].spec.output
    }
    for r in releasing { requests[r].releasing = true }
    end(
      .plan(
        .cleanup, .cleanup(arrived: arrived, aborted: aborted, releasing: releasing, idleUntil: idleUntil)),
      anchor: anchor)
    return releasing
  }

  /// A cleanup phase: the iteration's first step, then the pages of each finished or aborted request
  /// released in the policy's order, and the request retired.
  mutating func cleanUp(at anchor: Anchor, retireAt retireAnchor: Anchor) throws(Pause) {
    guard let done = try beginIteration(anchor: anchor) else { return }
    for r in done {
      let aborted = requests[r].abortRequested
      try policyType.release(r, reason: aborted ? .aborted : .finished, &self)
      try retire(r, aborted ? .aborted : .finished, at: retireAnchor)
    }
  }

  /// A request whose prompt and output need more pages than the pool has can never finish where the
  /// policy neither refuses it nor aborts it on out-of-memory: the stall is certain as it arrives,
  /// unless a scheduled abort ends it.
  private mutating func noteSequenceExceedingPool(_ r: Int) {
    guard policyType.capabilities.contains(.checkedPool), config.onOOM != .abort else { return }
    let usable = policyType.usablePages(pool.count)
    let pages = requests[r].spec.pagesForSequence(pageSize: pageSize)
    let id = requests[r].id
    guard pages > usable, !sortedEvents[eventCursor...].contains(where: { $0.action == .abort(id) })
    else { return }
    requests[r].reportedDeadlock = true
    findings.append(
      Finding(
        step: step, .deadlock(stuck: [r], cause: .sequenceExceedsPool(pages: pages, usable: usable)),
        request: r))
  }

  /// Under `on_oom: wait`, once every running request waits for a page and none can be had, no page
  /// is ever freed again: the stall is certain when the cycle forms, unless a scheduled abort may
  /// still break it.
  mutating func noteWaitCycle() {
    guard eventCursor >= sortedEvents.count, !active.isEmpty,
      active.allSatisfy({ requests[$0].waitsForPage && !requests[$0].reportedDeadlock })
    else { return }
    for r in active { requests[r].reportedDeadlock = true }
    let holds = active.map { requests[$0].pageTable.count }
    findings.append(
      Finding(
        step: step,
        .deadlock(stuck: active, cause: .waitCycle(holds: holds, frames: policyType.usablePages(pool.count))),
        request: active.first))
  }

  private mutating func endRun(_ reason: EndReason) -> [Int]? {
    endWith(reason)
    return nil
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

  // MARK: User actions and allocator operations

  mutating func runUserAction(_ action: UserAction) throws(Pause) {
    switch action {
    case .pool(let op):
      try runPoolOp(op, user: true)
    case .addRequest(let spec):
      try begin()
      progressed = true
      var request = RequestState(spec: spec)
      request.status = .waiting
      requests.append(request)
      openRequests += 1
      waiting.append(requests.count - 1)
      noteSequenceExceedingPool(requests.count - 1)
      end(.added(request: requests.count - 1), request: requests.count - 1)
    case .abort(let id):
      try begin()
      progressed = true
      guard let r = requestIndex(id: id) else {
        return end(event.action, frames: event.frames, request: event.request, anchor: event.anchor)
      }
      let holdsPages = requests[r].status == .running || !requests[r].pageTable.isEmpty
      _ = markAborted(r)
      if holdsPages { requests[r].releasing = true }
      end(.aborted(request: r), request: r)
      if holdsPages {
        try policyType.release(r, reason: .aborted, &self)
        try retire(r, .aborted)
      }
    }
  }

  /// An allocator operation on the pool, from the scenario's ops or the `:` command line.
  mutating func runPoolOp(_ op: PoolOp, user: Bool) throws(Pause) {
    try begin()
    if user { progressed = true }
    if !user || scenario.isAllocatorOnly { phase = .ops }
    switch op {
    case .alloc:
      let trace = pool.alloc()
      if trace.evictedKey != nil { stats.evictions += 1 }
      end(.alloc(trace, .op(index: 0, count: 1)), frame: trace.frame >= 0 ? trace.frame : nil)
    case .free(let frame):
      let trace = pool.free(frame)
      noteMisuse(trace, request: nil)
      end(.free(trace, request: nil, reason: nil), frame: pool.contains(frame) ? frame : nil)
    case .incRef(let frame):
      let trace = pool.incRef(frame)
      noteMisuse(trace, request: nil)
      end(.incRef(trace, request: nil), frame: pool.contains(frame) ? frame : nil)
    case .allocN(let count):
      guard count > 0 else { return end(.allocNResult(count: 0, frames: [])) }
      allocationUnderWay = AllocationUnderWay(count: count)
      continueAllocN()
    }
  }

  /// One step of the `alloc_n` under way, whose step is open: `alloc()` until `count` frames are
  /// taken; on a failure each frame taken is freed again, and then the result is `[]`. Each call,
  /// each rollback free and the result are steps, and each step is a unit of its own, so stepping
  /// through a long `alloc_n` costs one step per step.
  mutating func continueAllocN() {
    guard let progress = allocationUnderWay else { return }
    if let freed = progress.rolledBack, freed < progress.taken.count {
      let frame = progress.taken[freed]
      allocationUnderWay?.rolledBack = freed + 1
      return end(.free(pool.free(frame), request: nil, reason: .rollback), frame: frame)
    }
    if progress.rolledBack != nil || progress.taken.count == progress.count {
      let frames = progress.rolledBack == nil ? Array(progress.taken) : []
      allocationUnderWay = nil
      return end(.allocNResult(count: progress.count, frames: frames), frames: frames)
    }
    let trace = pool.alloc()
    if trace.evictedKey != nil { stats.evictions += 1 }
    if trace.frame >= 0 {
      allocationUnderWay?.taken.append(trace.frame)
    } else {
      allocationUnderWay?.rolledBack = 0
    }
    end(
      .alloc(trace, .op(index: progress.taken.count, count: progress.count)),
      frame: trace.frame >= 0 ? trace.frame : nil)
  }

  /// Records allocator misuse as a finding of the current step.
  mutating func noteMisuse(_ trace: RefTrace, request: Int?) {
    guard let misuse = trace.misuse else { return }
    let detail: FindingDetail
    switch misuse {
    case .badIndex: detail = .badFrameIndex(poolSize: pool.count)
    case .doubleFree: detail = .doubleFree
    case .negativeRefcount: detail = .negativeRefcount(before: trace.refBefore, after: trace.refAfter)
    case .incRefFreeFrame: detail = .incRefFreeFrame(checked: pool.checked, refsAfter: trace.refAfter)
    }
    findings.append(
      Finding(step: step, detail, frame: pool.contains(trace.frame) ? trace.frame : nil, request: request))
  }
}
