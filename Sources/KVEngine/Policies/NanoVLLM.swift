/// nano-vllm at bb823b3 (GeeeekExplorer/nano-vllm): `Scheduler.schedule` and `postprocess` over its
/// `BlockManager`, one engine step per iteration.
///
/// All blocks are usable. `free_block_ids` is a deque: allocation pops the left end, a freed block
/// joins the right end, a request's blocks are freed last first. A freed block keeps its hash until it
/// is handed out again. A step is a prefill step or a decode step: waiting sequences are allocated
/// whole and prefilled while they fit (only the first of a step may be chunked); with none, each
/// running sequence decodes, preempting the last running one (or itself) when no block is free.
/// Blocks are hashed after the step.
public enum NanoVLLM: SchedulingPolicy {
  public static let id = PolicyID.nanoVLLM
  public static let summary = "nano-vllm (bb823b3): prefill-only or decode-only steps, hashes after the step"
  public static let keys: [SchedulerKey] = [.maxBatch, .maxBatchedTokens]
  public static let defaults = SchedulerDefaults(maxBatch: 512, prefixCache: true, maxBatchedTokens: 16_384)
  public static let capabilities: PolicyCapabilities = [
    .checkedPool, .prefixCache, .preemption, .chunkedPrefill,
  ]
  public static let freeOrder = FreeOrder.queue
  public static let reservedFrame: Int? = nil
  public static let limits = PolicyLimits(
    minPageSize: 2, minOutput: 1, sequenceMustFit: true,
    reason:
      "nano-vllm never finishes a request with max_tokens 0, never grows a table of 1-token blocks, and stalls on a request longer than its KV cache"
  )
  public static let phases: [Phase] = [.cleanup, .prefill, .decode, .output]

  public static func run(_ phase: Phase, _ e: inout EngineState) throws(Pause) {
    switch phase {
    case .cleanup: try e.cleanUp(at: .nanoArrivals, retireAt: .nanoArrivals)
    case .prefill: try schedulePrefill(&e)
    case .decode: try scheduleDecode(&e)
    default: try postprocess(&e)
    }
  }

  /// `deallocate`: last block first; a block whose refcount drops to 0 joins the right end.
  public static func release(_ r: Int, reason: ReleaseReason, _ e: inout EngineState) throws(Pause) {
    for slot in (0..<e.requests[r].pageTable.count).reversed() {
      try e.releasePage(r, slot: slot, reason: reason, to: .tail, at: .nanoDeallocate)
    }
  }

  static func schedulePrefill(_ e: inout EngineState) throws(Pause) {
    try e.planPass(.prefill, candidates: Array(e.waiting), startsStep: true, at: .nanoPrefill)
    var batched = 0
    while e.scheduled.count < e.config.maxBatch, let r = e.waiting.first {
      let remaining = e.config.maxBatchedTokens - batched
      if remaining == 0 { return }
      var tokens = e.requests[r].tokens - e.requests[r].computed
      if e.requests[r].pageTable.isEmpty {
        // can_allocate: hits on blocks in use need no new block; a hit on a free block takes one.
        let hits = e.cachedPrefix(r)
        let need = e.pagesFor(e.requests[r].tokens) - hits.filter { e.pool.refs[$0] > 0 }.count
        tokens = e.requests[r].tokens - hits.count * e.pageSize
        let fits = need <= e.pool.freeCount
        // Only the first sequence of a step may be chunked.
        let admitted = fits && (remaining >= tokens || e.scheduled.isEmpty)
        try e.lookUp(r, hits: hits, need: need, admitted: admitted, at: .nanoCanAllocate)
        guard admitted else { return }
        try allocate(r, hits: hits, &e)
      } else if remaining < tokens && !e.scheduled.isEmpty {
        return
      }
      let chunk = min(tokens, remaining)
      try e.schedule(r, tokens: chunk, advance: false, at: .nanoSchedulePrefill)
      batched += chunk
      if e.requests[r].computed + chunk == e.requests[r].tokens { try e.startRunning(r, at: .nanoRunning) }
    }
  }

  /// `allocate`: the hit blocks (a free one leaves the deque), then a new block for each other page.
  static func allocate(_ r: Int, hits: [Int], _ e: inout EngineState) throws(Pause) {
    for frame in hits { try e.hit(r, frame: frame, at: .nanoAllocateHit) }
    let needed = e.pagesFor(e.requests[r].tokens)
    while e.requests[r].pageTable.count < needed {
      let have = e.requests[r].pageTable.count
      try e.allocPage(to: r, for: .admit(request: r, need: needed, have: have), at: .nanoAllocateBlock)
    }
  }

  static func scheduleDecode(_ e: inout EngineState) throws(Pause) {
    let prefilled = !e.scheduled.isEmpty
    try e.planPass(.decode, candidates: e.active, skipped: prefilled, startsStep: false, at: .nanoDecode)
    guard !prefilled else { return }
    // `running.popleft()` in order; victims are popped from the right end of what is left.
    var index = 0
    while index < e.active.count && e.scheduled.count < e.config.maxBatch {
      let r = e.active[index]
      let needsBlock = e.requests[r].tokens % e.pageSize == 1
      var preemptedSelf = false
      while try !e.checkSlots(r, tokens: 1, need: needsBlock ? 1 : 0, at: .nanoCanAppend) {
        let victim = index + 1 < e.active.count ? e.active[e.active.count - 1] : r
        try release(victim, reason: .preempted, &e)
        try e.preempt(victim, for: r, at: .nanoPreempt)
        if victim == r {
          preemptedSelf = true
          break
        }
      }
      if preemptedSelf { continue }
      if needsBlock {
        let have = e.requests[r].pageTable.count
        try e.allocPage(
          to: r, for: .grow(request: r, position: e.requests[r].tokens - 1, needed: have + 1, have: have),
          at: .nanoMayAppend)
      }
      try e.schedule(r, tokens: 1, advance: false, at: .nanoScheduleDecode)
      index += 1
    }
  }

  static func postprocess(_ e: inout EngineState) throws(Pause) {
    try e.planOutput(at: .nanoPostprocess)
    for r in e.scheduled {
      try hashBlocks(r, &e)
      try e.commitScheduled(r, at: .nanoCached)
      // A prompt chunk short of the end samples nothing (a decode always reaches the end).
      if e.requests[r].computed < e.requests[r].tokens { continue }
      if try e.sample(r, at: .nanoAppend) {
        try release(r, reason: .finished, &e)
        try e.retire(r, .finished, at: .nanoFinish)
      }
    }
  }

  /// `hash_blocks`: each block that the scheduled tokens fill gets its hash and the index points at it.
  static func hashBlocks(_ r: Int, _ e: inout EngineState) throws(Pause) {
    let start = e.requests[r].computed / e.pageSize
    let end = (e.requests[r].computed + e.requests[r].scheduled) / e.pageSize
    var page = start
    while page < end {
      try e.cacheBlock(r, page: page, rule: .replace, at: .nanoHashBlock)
      page += 1
    }
  }

  public static let listing = PolicyListing([
    Routine(
      "add",
      [
        ("def add(seq):  # arrivals", nil),
        ("    waiting.append(seq)", .nanoArrivals),
      ]),
    Routine(
      "schedule",
      [
        ("def schedule():", nil),
        ("    scheduled, batched = [], 0", .nanoPrefill),
        ("    while waiting and len(scheduled) < max_num_seqs:", nil),
        ("        seq = waiting[0]", nil),
        ("        remaining = max_num_batched_tokens - batched", nil),
        ("        if not seq.block_table:", nil),
        ("            cached = can_allocate(seq)", nil),
        ("            if cached == -1 or (remaining < n and scheduled): break", .nanoCanAllocate),
        ("            allocate(seq, cached)", nil),
        ("        seq.num_scheduled_tokens = min(n, remaining)", .nanoSchedulePrefill),
        ("        if seq.num_cached_tokens + seq.num_scheduled_tokens == len(seq):", nil),
        ("            running.append(waiting.popleft())", .nanoRunning),
        ("        scheduled.append(seq)", nil),
        ("    if scheduled: return scheduled, True", .nanoDecode),
        ("    while running and len(scheduled) < max_num_seqs:", nil),
        ("        seq = running.popleft()", nil),
        ("        while not can_append(seq):", .nanoCanAppend),
        ("            if running: preempt(running.pop())", nil),
        ("            else: preempt(seq); break", nil),
        ("        else:", nil),
        ("            may_append(seq)", nil),
        ("            seq.num_scheduled_tokens = 1", .nanoScheduleDecode),
        ("            scheduled.append(seq)", nil),
        ("    running.extendleft(reversed(scheduled))", nil),
        ("    return scheduled, False", nil),
      ]),
    Routine(
      "can_allocate",
      [
        ("def can_allocate(seq):", nil),
        ("    h, cached, need = -1, 0, seq.num_blocks", nil),
        ("    for i in range(seq.num_blocks - 1):", nil),
        ("        h = compute_hash(seq.block(i), h)", nil),
        ("        block_id = hash_to_block_id.get(h, -1)", nil),
        ("        if block_id == -1 or blocks[block_id].token_ids != seq.block(i): break", nil),
        ("        cached += 1", nil),
        ("        if block_id in used_block_ids: need -= 1", nil),
        ("    return cached if len(free_block_ids) >= need else -1", nil),
      ]),
    Routine(
      "allocate",
      allocator: .incRef,
      [
        ("def allocate(seq, cached):", nil),
        ("    for i in range(cached):", nil),
        ("        block_id = hash_to_block_id[hash of block i]", nil),
        ("        if block_id in used_block_ids: blocks[block_id].ref_count += 1", nil),
        ("        else: free_block_ids.remove(block_id); ref_count = 1", .nanoAllocateHit),
        ("        seq.block_table.append(block_id)", nil),
        ("    for i in range(cached, seq.num_blocks):", nil),
        ("        seq.block_table.append(_allocate_block())", .nanoAllocateBlock),
        ("    seq.num_cached_tokens = cached * block_size", nil),
      ]),
    Routine(
      "_allocate_block",
      allocator: .alloc,
      [
        ("def _allocate_block():", nil),
        ("    block_id = free_block_ids.popleft()", nil),
        ("    if hash_to_block_id.get(block.hash) == block_id:", nil),
        ("        del hash_to_block_id[block.hash]", nil),
        ("    block.reset()  # ref_count = 1, hash = -1", nil),
        ("    return block_id", nil),
      ]),
    Routine(
      "may_append",
      [
        ("def can_append(seq):", nil),
        ("    return len(free_block_ids) >= (len(seq) % block_size == 1)", nil),
        ("def may_append(seq):", nil),
        ("    if len(seq) % block_size == 1:", nil),
        ("        seq.block_table.append(_allocate_block())", .nanoMayAppend),
      ]),
    Routine(
      "preempt",
      [
        ("def preempt(seq):", nil),
        ("    seq.status = WAITING", nil),
        ("    deallocate(seq)", nil),
        ("    waiting.appendleft(seq)", .nanoPreempt),
      ]),
    Routine(
      "deallocate",
      allocator: .free,
      [
        ("def deallocate(seq):", nil),
        ("    for block_id in reversed(seq.block_table):", nil),
        ("        blocks[block_id].ref_count -= 1", .nanoDeallocate),
        ("        if ref_count == 0: free_block_ids.append(block_id)", nil),
        ("    seq.num_cached_tokens = 0; seq.block_table.clear()", nil),
      ]),
    Routine(
      "postprocess",
      [
        ("def postprocess(seqs, token_ids, is_prefill):", nil),
        ("    for seq, token_id in zip(seqs, token_ids):", .nanoPostprocess),
        ("        hash_blocks(seq)", nil),
        ("        seq.num_cached_tokens += seq.num_scheduled_tokens", .nanoCached),
        ("        if is_prefill and seq.num_cached_tokens < len(seq): continue", nil),
        ("        seq.append_token(token_id)", nil),
        ("        if seq.num_completion_tokens == seq.max_tokens:", .nanoAppend),
        ("            deallocate(seq); running.remove(seq)", .nanoFinish),
      ]),
    Routine(
      "hash_blocks",
      [
        ("def hash_blocks(seq):", nil),
        ("    start = seq.num_cached_tokens // block_size", nil),
        ("    end = (seq.num_cached_tokens + seq.num_scheduled_tokens) // block_size", nil),
        ("    for i in range(start, end):", nil),
        ("        h = compute_hash(seq.block(i), h)", nil),
        ("        blocks[seq.block_table[i]].update(h, seq.block(i))", nil),
        ("        hash_to_block_id[h] = seq.block_table[i]", .nanoHashBlock),
      ]),
  ])
}

extension PolicyID {
  public static let nanoVLLM = PolicyID("nano-vllm")
}

extension Anchor {
  static let nanoArrivals = Anchor("nano.add")
  static let nanoPrefill = Anchor("nano.schedule.prefill")
  static let nanoCanAllocate = Anchor("nano.schedule.can-allocate")
  static let nanoSchedulePrefill = Anchor("nano.schedule.prefill-tokens")
  static let nanoRunning = Anchor("nano.schedule.running")
  static let nanoDecode = Anchor("nano.schedule.decode")
  static let nanoCanAppend = Anchor("nano.schedule.can-append")
  static let nanoScheduleDecode = Anchor("nano.schedule.decode-token")
  static let nanoAllocateHit = Anchor("nano.allocate.hit")
  static let nanoAllocateBlock = Anchor("nano.allocate.block")
  static let nanoMayAppend = Anchor("nano.may-append")
  static let nanoPreempt = Anchor("nano.preempt")
  static let nanoDeallocate = Anchor("nano.deallocate")
  static let nanoPostprocess = Anchor("nano.postprocess")
  static let nanoCached = Anchor("nano.postprocess.cached")
  static let nanoAppend = Anchor("nano.postprocess.append")
  static let nanoFinish = Anchor("nano.postprocess.finish")
  static let nanoHashBlock = Anchor("nano.hash-blocks")
}
