/// vLLM v1 as released in 0.33.0: `Scheduler.schedule` and `update_from_output` over the KV cache
/// manager and block pool (`vllm/v1/core/`), one engine step per iteration.
///
/// Block 0 is the null block, never handed out. Free blocks wait in one queue: allocation takes the
/// head and evicts the hash a block still holds; a request's blocks are freed last first, blocks
/// without a hash to the head (reused first), hashed ones to the tail (evicted last). Running requests
/// are scheduled first, within the token budget; when one cannot get its blocks the last running
/// request is preempted. Waiting requests are admitted only in a step that preempted nothing, head
/// first, if their whole sequence fits. Full blocks are hashed when they are scheduled.
public enum VLLMV1: SchedulingPolicy {
  public static let id = PolicyID.vllmV1
  public static let summary = "vLLM 0.33.0's v1 scheduler, KV cache manager and block pool"
  public static let keys: [SchedulerKey] = [.maxBatch, .maxBatchedTokens, .prefixCache]
  public static let defaults = SchedulerDefaults(maxBatch: 128, prefixCache: true, maxBatchedTokens: 2048)
  public static let capabilities: PolicyCapabilities = [
    .checkedPool, .prefixCache, .preemption, .chunkedPrefill, .aborts,
  ]
  public static let freeOrder = FreeOrder.queue
  public static let reservedFrame: Int? = 0
  public static let limits = PolicyLimits(
    minOutput: 1, sequenceMustFit: true,
    reason:
      "vLLM refuses max_tokens 0, a request longer than its KV cache holds, and fewer batched tokens than sequences",
    budgetCoversBatch: true)
  public static let phases: [Phase] = [.cleanup, .running, .waiting, .output]

  public static func run(_ phase: Phase, _ e: inout EngineState) throws(Pause) {
    switch phase {
    case .cleanup: try e.cleanUp(at: .vllmCleanup, retireAt: .vllmCleanupRemove)
    case .running: try scheduleRunning(&e)
    case .waiting: try scheduleWaiting(&e)
    default: try updateFromOutput(&e)
    }
  }

  /// `free_blocks(reversed(blocks))`: last block first; at refcount 0 a block without a hash goes to
  /// the head, after the ones this release put there, and a hashed one to the tail.
  public static func release(_ r: Int, reason: ReleaseReason, _ e: inout EngineState) throws(Pause) {
    var lastAtHead: Int?
    for slot in (0..<e.requests[r].pageTable.count).reversed() {
      let frame = e.requests[r].pageTable[slot]
      let hashed = e.config.prefixCache && e.pool.isCached(frame)
      let place: QueuePlace = hashed ? .tail : lastAtHead.map { .after($0) } ?? .head
      try e.releasePage(r, slot: slot, reason: reason, to: place, at: .vllmFree)
      if !hashed && e.pool.refs[frame] == 0 { lastAtHead = frame }
    }
  }

  static func scheduleRunning(_ e: inout EngineState) throws(Pause) {
    try e.planPass(.running, candidates: e.active, startsStep: true, at: .vllmRunning)
    var index = 0
    while index < e.active.count && e.tokenBudget > 0 {
      let r = e.active[index]
      let tokens = min(e.requests[r].tokens - e.requests[r].computed, e.tokenBudget)
      while try !allocateSlots(r, tokens: tokens, &e) {
        // Preempt the last running request, until the blocks fit or it was this one.
        guard let victim = e.active.last else { return }
        try release(victim, reason: .preempted, &e)
        try e.preempt(victim, for: r, at: .vllmPreempt)
        if victim == r { return }
      }
      try e.schedule(r, tokens: tokens, advance: true, at: .vllmScheduleRunning)
      index += 1
    }
  }

  static func scheduleWaiting(_ e: inout EngineState) throws(Pause) {
    let preempted = e.preemptedThisIteration
    try e.planPass(
      .waiting, candidates: Array(e.waiting), skipped: preempted, startsStep: false, at: .vllmWaiting)
    guard !preempted else { return }
    while e.tokenBudget > 0 && e.active.count < e.config.maxBatch, let r = e.waiting.first {
      let hits = e.config.prefixCache ? e.cachedPrefix(r) : []
      let hitTokens = hits.count * e.pageSize
      let tokens = min(e.requests[r].tokens - hitTokens, e.tokenBudget)
      // The whole sequence must fit; a hit on a free block takes it out of the free queue.
      let evictable = hits.filter { e.pool.refs[$0] == 0 }.count
      let need = e.pagesFor(e.requests[r].tokens) - hits.count + evictable
      let admitted = need <= e.pool.freeCount
      try e.lookUp(r, hits: hits, need: need, admitted: admitted, at: .vllmLookup)
      guard admitted else { return }
      for frame in hits { try e.hit(r, frame: frame, at: .vllmTouch) }
      try allocateNewBlocks(r, upTo: hitTokens + tokens, &e)
      try e.startRunning(r, at: .vllmAdmit)
      try e.schedule(r, tokens: tokens, advance: true, at: .vllmScheduleWaiting)
    }
  }

  /// `allocate_slots` for a running request: blocks for `tokens` more tokens if the free queue has them.
  static func allocateSlots(_ r: Int, tokens: Int, _ e: inout EngineState) throws(Pause) -> Bool {
    let upTo = e.requests[r].computed + tokens
    let need = max(0, e.pagesFor(upTo) - e.requests[r].pageTable.count)
    guard try e.checkSlots(r, tokens: tokens, need: need, at: .vllmSlots) else { return false }
    try allocateNewBlocks(r, upTo: upTo, &e)
    return true
  }

  /// `get_new_blocks` (`popleft_n`) up to `pages_for(upTo)` blocks, then `cache_full_blocks` for the
  /// blocks that the scheduled tokens fill.
  static func allocateNewBlocks(_ r: Int, upTo: Int, _ e: inout EngineState) throws(Pause) {
    let needed = e.pagesFor(upTo)
    while e.requests[r].pageTable.count < needed {
      let have = e.requests[r].pageTable.count
      let purpose: AllocPurpose =
        e.requests[r].status == .running
        ? .grow(request: r, position: e.requests[r].computed, needed: needed, have: have)
        : .admit(request: r, need: needed, have: have)
      try e.allocPage(to: r, for: purpose, at: .vllmPopLeft)
    }
    guard e.config.prefixCache else { return }
    let full = min(upTo, e.requests[r].tokens) / e.pageSize
    var page = e.requests[r].cachedPages
    while page < full {
      try e.cacheBlock(r, page: page, rule: .keepAll, at: .vllmCache)
      page += 1
    }
  }

  static func updateFromOutput(_ e: inout EngineState) throws(Pause) {
    try e.planOutput(at: .vllmOutput)
    for r in e.scheduled where e.requests[r].status == .running {
      // A prompt chunk that does not reach the end of the sequence samples nothing.
      guard e.requests[r].computed >= e.requests[r].tokens else { continue }
      if try e.sample(r, at: .vllmSample) {
        try release(r, reason: .finished, &e)
        try e.retire(r, .finished, at: .vllmFinish)
      }
    }
  }

  public static let listing = PolicyListing([
    Routine(
      "finish_requests",
      [
        ("def finish_requests(aborted):  # and new arrivals", nil),
        ("    for req in arrivals: waiting.append(req)", .vllmCleanup),
        ("    for req in aborted: free_request(req)", nil),
        ("        running.remove(req)", .vllmCleanupRemove),
      ]),
    Routine(
      "schedule",
      [
        ("def schedule():", nil),
        ("    budget = max_num_batched_tokens", .vllmRunning),
        ("    i = 0", nil),
        ("    while i < len(running) and budget > 0:", nil),
        ("        req = running[i]", nil),
        ("        n = min(req.num_tokens - req.num_computed_tokens, budget)", nil),
        ("        while allocate_slots(req, n) is None:", nil),
        ("            victim = running.pop()", nil),
        ("            _preempt_request(victim)", nil),
        ("            if victim is req: break out of both loops", nil),
        ("        scheduled[req] = n; budget -= n; i += 1", .vllmScheduleRunning),
        ("    if preempted: return  # no admission in a step that preempted", .vllmWaiting),
        ("    while waiting and budget > 0 and len(running) < max_num_seqs:", nil),
        ("        req = waiting[0]", nil),
        ("        hits, k = get_computed_blocks(req)", nil),
        ("        n = min(req.num_tokens - k, budget)", nil),
        ("        if allocate_slots(req, n, hits, whole_sequence=True) is None: break", .vllmLookup),
        ("        running.append(waiting.popleft())", .vllmAdmit),
        ("        req.num_computed_tokens = k", nil),
        ("        scheduled[req] = n; budget -= n", .vllmScheduleWaiting),
      ]),
    Routine(
      "get_computed_blocks",
      [
        ("def get_computed_blocks(req):", nil),
        ("    hits = []", nil),
        ("    for h in req.block_hashes[: (req.num_tokens - 1) // block_size]:", nil),
        ("        blk = cached_block_hash_to_block.get(h)", nil),
        ("        if blk is None: break", nil),
        ("        hits.append(blk)", nil),
        ("    return hits, len(hits) * block_size", nil),
      ]),
    Routine(
      "allocate_slots",
      [
        ("def allocate_slots(req, n, hits=[], whole_sequence=False):", nil),
        ("    upto = req.num_computed_tokens + len(hits) * block_size + n", nil),
        ("    need = cdiv(upto, block_size) - len(req.blocks) - len(hits)", nil),
        ("    need += count(b.ref_cnt == 0 for b in hits)", nil),
        ("    if need > free_block_queue.num_free_blocks: return None", .vllmSlots),
        ("    touch(hits); req.blocks += hits", nil),
        ("    req.blocks += get_new_blocks(need)", nil),
        ("    cache_full_blocks(req, min(upto, req.num_tokens) // block_size)", nil),
      ]),
    Routine(
      "touch",
      allocator: .incRef,
      [
        ("def touch(blocks):", nil),
        ("    for blk in blocks:", nil),
        ("        if blk.ref_cnt == 0: free_block_queue.remove(blk)", nil),
        ("        blk.ref_cnt += 1", .vllmTouch),
      ]),
    Routine(
      "get_new_blocks",
      allocator: .alloc,
      [
        ("def get_new_blocks(n):", nil),
        ("    blocks = free_block_queue.popleft_n(n)", .vllmPopLeft),
        ("    for blk in blocks:", nil),
        ("        if blk.block_hash: del cached_block_hash_to_block[blk.block_hash]", nil),
        ("        blk.ref_cnt = 1", nil),
        ("    return blocks", nil),
      ]),
    Routine(
      "cache_full_blocks",
      [
        ("def cache_full_blocks(req, num_full):", nil),
        ("    for i in range(num_cached_block[req], num_full):", nil),
        ("        blk = req.blocks[i]", nil),
        ("        blk.block_hash = req.block_hashes[i]", nil),
        ("        cached_block_hash_to_block[blk.block_hash].add(blk)", .vllmCache),
        ("    num_cached_block[req] = num_full", nil),
      ]),
    Routine(
      "update_from_output",
      [
        ("def update_from_output(sampled):", nil),
        ("    for req in scheduled:", .vllmOutput),
        ("        if req.num_computed_tokens < req.num_tokens: continue", nil),
        ("        req.append_output_token_ids(sampled[req])", nil),
        ("        if req.num_output_tokens == req.max_tokens:", .vllmSample),
        ("            free_request(req); running.remove(req)", .vllmFinish),
      ]),
    Routine(
      "free_blocks",
      allocator: .free,
      [
        ("def free_request(req):  # free_blocks(reversed(req.blocks))", nil),
        ("    first, last = [], []", nil),
        ("    for blk in reversed(req.blocks):", nil),
        ("        blk.ref_cnt -= 1", .vllmFree),
        ("        if blk.ref_cnt == 0:", nil),
        ("            (last if blk.block_hash else first).append(blk)", nil),
        ("    free_block_queue.prepend_n(first)  # reused first", nil),
        ("    free_block_queue.append_n(last)    # evicted last", nil),
      ]),
    Routine(
      "_preempt_request",
      [
        ("def _preempt_request(req):", nil),
        ("    free_request(req)", nil),
        ("    req.status = PREEMPTED", nil),
        ("    req.num_computed_tokens = 0", nil),
        ("    waiting.prepend_request(req)", .vllmPreempt),
      ]),
  ])
}

extension PolicyID {
  public static let vllmV1 = PolicyID("vllm-v1")
}

extension Anchor {
  static let vllmCleanup = Anchor("vllm.arrivals")
  static let vllmCleanupRemove = Anchor("vllm.abort.remove")
  static let vllmRunning = Anchor("vllm.schedule.budget")
  static let vllmScheduleRunning = Anchor("vllm.schedule.running")
  static let vllmWaiting = Anchor("vllm.schedule.waiting")
  static let vllmLookup = Anchor("vllm.schedule.admit-check")
  static let vllmAdmit = Anchor("vllm.schedule.admit")
  static let vllmScheduleWaiting = Anchor("vllm.schedule.new")
  static let vllmSlots = Anchor("vllm.allocate-slots.check")
  static let vllmTouch = Anchor("vllm.touch")
  static let vllmPopLeft = Anchor("vllm.popleft")
  static let vllmCache = Anchor("vllm.cache-full-blocks")
  static let vllmOutput = Anchor("vllm.output")
  static let vllmSample = Anchor("vllm.output.sample")
  static let vllmFinish = Anchor("vllm.output.finish")
  static let vllmFree = Anchor("vllm.free-blocks")
  static let vllmPreempt = Anchor("vllm.preempt")
}
