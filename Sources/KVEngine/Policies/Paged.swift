/// Paged: the seed design with its defects fixed. A checked pool, head-of-line admission with a
/// capacity check, growth before the write, an out-of-memory policy, and an optional prefix cache
/// whose freed pages stay in an LRU list until evicted.
public enum Paged: SchedulingPolicy {
  public static let id = PolicyID.paged
  public static let summary =
    "kvscope's fixed design: checked pool, capacity-checked admission, on_oom, prefix cache"
  public static let keys: [SchedulerKey] = [.maxBatch, .decode, .prefixCache, .onOOM]
  public static let defaults = SchedulerDefaults()
  public static let capabilities: PolicyCapabilities = [.checkedPool, .prefixCache, .preemption, .aborts]
  public static let freeOrder = FreeOrder.lowestFirst
  public static let reservedFrame: Int? = nil
  public static let limits = PolicyLimits()
  public static let phases: [Phase] = [.cleanup, .refill, .prefill, .decode]

  public static func run(_ phase: Phase, _ e: inout EngineState) throws(Pause) {
    switch phase {
    case .cleanup: try e.cleanUp(at: .pagedCleanup, retireAt: .pagedCleanupRemove)
    case .refill: try refill(&e)
    case .prefill: try prefill(&e)
    default: try decode(&e)
    }
  }

  /// Pages are freed last first, so that a prompt's last page is evicted first.
  public static func release(_ r: Int, reason: ReleaseReason, _ e: inout EngineState) throws(Pause) {
    // By count, not by the table's `indices`: a loop that kept the table alive would copy it at every free.
    for slot in (0..<e.requests[r].pageTable.count).reversed() {
      try e.releasePage(r, slot: slot, reason: reason, at: .pagedFree)
    }
  }

  static func refill(_ e: inout EngineState) throws(Pause) {
    let available = max(0, e.config.maxBatch - e.active.count)
    // No admission in an iteration after one that preempted.
    try e.plan(
      .refill, .refill(available: available, popped: nil, skippedAfterPreemption: e.skipRefill),
      at: .pagedRefill)
    guard !e.skipRefill else { return }
    while e.active.count < e.config.maxBatch, let r = e.waiting.first {
      let (hits, admitted) = try e.decideAdmission(r, at: .pagedFits)
      guard admitted else { return }
      for frame in hits { try e.hit(r, frame: frame, at: .pagedHits) }
      let total = e.pagesFor(e.requests[r].admissionLength)
      while e.requests[r].pageTable.count < total {
        let have = e.requests[r].pageTable.count
        if try e.allocPage(to: r, for: .admit(request: r, need: total, have: have), at: .pagedAllocN) < 0 {
          try release(r, reason: .rollback, &e)
          return try e.refillFailed(r, lost: [], emptyPrompt: false, at: .pagedFits)
        }
      }
      try e.admit(r, at: .pagedAdmit)
    }
  }

  static func prefill(_ e: inout EngineState) throws(Pause) {
    let fresh = e.active.filter { !e.requests[$0].prefilled }
    try e.plan(.prefill, .prefill(fresh), at: .pagedPrefillFresh)
    for r in fresh {
      try e.prefill(r, from: e.requests[r].computed, at: .pagedPrefillWrite)
      if e.config.prefixCache { try e.record(r, at: .pagedRecord) }
    }
  }

  static func decode(_ e: inout EngineState) throws(Pause) {
    let candidates = e.active.filter {
      e.requests[$0].output < e.requests[$0].spec.output && !e.requests[$0].abortRequested
        && e.requests[$0].prefilled
    }
    let plan = DecodeCandidates(candidates) { e.requests[$0].computed }
    let chosen = e.config.decode == .all ? candidates : plan.largestGroup
    try e.plan(.decode, .decode(plan, chosen: chosen), at: .pagedDecodeBatch)
    // A request preempted earlier in this loop does not decode.
    for r in chosen where e.requests[r].status == .running { try decodeOne(r, &e) }
  }

  /// Grows before the write, so that no write is ever out of bounds.
  static func decodeOne(_ r: Int, _ e: inout EngineState) throws(Pause) {
    while true {
      let position = e.requests[r].computed
      let needed = e.pagesFor(position + 1)
      if e.requests[r].pageTable.count >= needed {
        return try e.write(r, position: position, at: .pagedWrite)
      }
      let outcome: GrowthFailure
      switch e.config.onOOM {
      case .preempt: outcome = .preempt(victim: e.active.last ?? r)
      case .abort: outcome = .abort
      case .wait: outcome = .wait
      }
      if try e.growPage(r, position: position, needed: needed, orElse: outcome, at: .pagedGrow) != nil {
        continue
      }
      switch outcome {
      case .preempt(let victim):
        try release(victim, reason: .preempted, &e)
        try e.preempt(victim, for: r, at: .pagedPreempt)
        if victim == r { return }
      case .abort:
        try release(r, reason: .aborted, &e)
        return try e.retire(r, .aborted, at: .pagedOOM)
      case .wait, .ignored:
        return
      }
    }
  }

  public static let listing = PolicyListing(
    [
      Routine(
        "cleanup",
        [
          ("def cleanup():", nil),
          ("    for req in list(active):", .pagedCleanup),
          ("        if req.done or req.aborted:", nil),
          ("            free_request(req)", nil),
          ("            active.remove(req)", .pagedCleanupRemove),
        ]),
      Routine(
        "free_request",
        [
          ("def free_request(req):", nil),
          ("    for p in reversed(req.page_table): free(p)", .pagedFree),
          ("    req.page_table = []", nil),
        ]),
      Routine(
        "refill",
        [
          ("def refill():", nil),
          ("    if preempted_last_iteration: return", .pagedRefill),
          ("    while len(active) < max_batch and waiting:", nil),
          ("        req = waiting[0]", nil),
          ("        hits = prefix_lookup(req)", nil),
          ("        need = pages_for(len(req)) - len(hits)", nil),
          ("        if need > free + len(lru): break", .pagedFits),
          ("        waiting.popleft()", nil),
          ("        for f in hits: inc_ref(f)", .pagedHits),
          ("        req.page_table = hits + alloc_n(need)", .pagedAllocN),
          ("        active.append(req)", .pagedAdmit),
        ]),
      Routine(
        "prefill",
        [
          ("def prefill_phase():", nil),
          ("    fresh = [r for r in active if not r.prefilled]", .pagedPrefillFresh),
          ("    for req in fresh:", nil),
          ("        write_kv(req.page_table, req.computed .. len(req))", .pagedPrefillWrite),
          ("        if prefix_cache: record(req)", .pagedRecord),
        ]),
      Routine(
        "record",
        [
          ("def record(req):", nil),
          ("    h = 0", nil),
          ("    for i in range(len(req.prompt) // page_size):", nil),
          ("        h = hash(h, req.prompt[i*ps:(i+1)*ps])", nil),
          ("        index.setdefault(h, req.page_table[i])", .pagedRecordIndex),
        ]),
      Routine(
        "decode",
        [
          ("def decode_phase():", nil),
          ("    batch = list(active)  # or the largest group", .pagedDecodeBatch),
          ("    for req in batch: decode_one(req)", nil),
        ]),
      Routine(
        "decode_one",
        [
          ("def decode_one(req):", nil),
          ("    pos = req.computed", nil),
          ("    needed = pages_for(pos + 1)", nil),
          ("    while len(req.page_table) < needed:", nil),
          ("        p = alloc()", .pagedGrow),
          ("        if p < 0: return on_oom(req)", .pagedOOM),
          ("        req.page_table.append(p)", nil),
          ("    write_kv(req.page_table[pos // page_size], pos)", .pagedWrite),
          ("    req.computed = pos + 1", nil),
        ]),
      Routine(
        "preempt",
        [
          ("def preempt(victim):  # on_oom: preempt", nil),
          ("    free_request(victim)", nil),
          ("    victim.computed = 0", nil),
          ("    running.remove(victim)", nil),
          ("    waiting.appendleft(victim)", .pagedPreempt),
        ]),
    ] + AllocatorListing.checked)
}

extension PolicyID {
  public static let paged = PolicyID("paged")
}

extension Anchor {
  static let pagedCleanup = Anchor("paged.cleanup")
  static let pagedCleanupRemove = Anchor("paged.cleanup.remove")
  static let pagedFree = Anchor("paged.free")
  static let pagedRefill = Anchor("paged.refill")
  static let pagedFits = Anchor("paged.refill.fits")
  static let pagedHits = Anchor("paged.refill.hits")
  static let pagedAllocN = Anchor("paged.refill.alloc-n")
  static let pagedAdmit = Anchor("paged.refill.admit")
  static let pagedPrefillFresh = Anchor("paged.prefill.fresh")
  static let pagedPrefillWrite = Anchor("paged.prefill.write")
  static let pagedRecord = Anchor("paged.prefill.record")
  static let pagedRecordIndex = Anchor("paged.record.index")
  static let pagedDecodeBatch = Anchor("paged.decode.batch")
  static let pagedGrow = Anchor("paged.decode.grow")
  static let pagedOOM = Anchor("paged.decode.oom")
  static let pagedWrite = Anchor("paged.decode.write")
  static let pagedPreempt = Anchor("paged.preempt")
}
