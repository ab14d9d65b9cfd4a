/// AstraiSeed: AstrAI's seed design, defects included (`shared/reference/allocator-semantics.md`).
///
/// Each iteration: cleanup frees finished tasks front to back; refill pops `max_batch - active` tasks
/// and admits them in order with `alloc_n`, dropping the rest of the popped list when one fails;
/// prefill rewrites the prompt of every task with no output yet; decode writes the largest group of
/// tasks at the same position and grows each after the write, ignoring a failed `alloc()`.
public enum AstraiSeed: SchedulingPolicy {
  public static let id = PolicyID.astraiSeed
  public static let summary = "AstrAI's seed scheduler and allocator, defects included"
  public static let keys: [SchedulerKey] = [.maxBatch, .decode]
  public static let defaults = SchedulerDefaults(decode: .largestGroup)
  public static let capabilities: PolicyCapabilities = [.aborts]
  public static let freeOrder = FreeOrder.lowestFirst
  public static let reservedFrame: Int? = nil
  public static let limits = PolicyLimits()
  public static let phases: [Phase] = [.cleanup, .refill, .prefill, .decode]

  public static func run(_ phase: Phase, _ e: inout EngineState) throws(Pause) {
    switch phase {
    case .cleanup: try e.cleanUp(at: .seedCleanup, retireAt: .seedCleanupRemove)
    case .refill: try refill(&e)
    case .prefill: try prefill(&e)
    default: try decode(&e)
    }
  }

  public static func release(_ r: Int, reason: ReleaseReason, _ e: inout EngineState) throws(Pause) {
    // By count, not by the table's `indices`: a loop that kept the table alive would copy it at every free.
    for slot in 0..<e.requests[r].pageTable.count {
      try e.releasePage(r, slot: slot, reason: reason, at: .seedCleanupFree)
    }
  }

  static func refill(_ e: inout EngineState) throws(Pause) {
    let available = max(0, e.config.maxBatch - e.active.count)
    let popped = try e.popWaiting(available, at: .seedRefillPop)
    for (i, r) in popped.enumerated() {
      let rest = Array(popped[(i + 1)...])
      let need = e.pagesFor(e.requests[r].admissionLength)
      guard need > 0 else {
        // alloc_n(0) returns [], which refill reads as failure.
        return try e.refillFailed(r, lost: rest, emptyPrompt: true, at: .seedRefillFailed)
      }
      for have in 0..<need {
        let frame = try e.allocPage(
          to: r, for: .admit(request: r, need: need, have: have), at: .seedRefillAllocN)
        if frame < 0 {
          try release(r, reason: .rollback, &e)
          return try e.refillFailed(r, lost: rest, emptyPrompt: false, at: .seedRefillFailed)
        }
      }
      try e.admit(r, at: .seedRefillAdmit)
    }
  }

  static func prefill(_ e: inout EngineState) throws(Pause) {
    // Every task with no output yet has its whole prompt written again, grouped by prompt length.
    let fresh = e.active.filter { e.requests[$0].output == 0 }
    var lengths: [Int] = []
    for r in fresh where !lengths.contains(e.requests[r].admissionLength) {
      lengths.append(e.requests[r].admissionLength)
    }
    let chosen = lengths.flatMap { length in fresh.filter { e.requests[$0].admissionLength == length } }
    try e.plan(.prefill, .prefill(chosen), at: .seedPrefillFresh)
    for r in chosen { try e.prefill(r, from: 0, at: .seedPrefillWrite) }
  }

  static func decode(_ e: inout EngineState) throws(Pause) {
    let candidates = e.active.filter {
      e.requests[$0].output < e.requests[$0].spec.output && !e.requests[$0].abortRequested
    }
    let plan = DecodeCandidates(candidates) {
      e.requests[$0].spec.prompt.count + e.requests[$0].output
    }
    let chosen = e.config.decode == .all ? candidates : plan.largestGroup
    try e.plan(.decode, .decode(plan, chosen: chosen), at: .seedDecodeBatch)
    for r in chosen {
      // Write first; a missing page's -1 index is padded into the last frame of the pool.
      let position = e.requests[r].spec.prompt.count + e.requests[r].output
      let pages = e.requests[r].pageTable.count
      let next = position + 1
      let needed = e.pagesFor(next + 1)
      try e.write(
        r, position: position, outOfBounds: position / e.pageSize >= pages ? e.pool.count - 1 : nil,
        growthNeeded: needed, at: .seedDecodeWrite)
      // maybe_alloc_page(task, pos + 1): a failed alloc() is ignored.
      while e.requests[r].pageTable.count < needed {
        let frame = try e.growPage(r, position: next, needed: needed, orElse: .ignored, at: .seedGrowAlloc)
        if frame == nil { break }
      }
    }
  }

  public static let listing = PolicyListing(
    [
      Routine(
        "cleanup",
        [
          ("def cleanup():", nil),
          ("    for task in list(active):", .seedCleanup),
          ("        if task.done or task.aborted:", nil),
          ("            for p in task.page_table: free(p)", .seedCleanupFree),
          ("            task.page_table = []; active.remove(task)", .seedCleanupRemove),
        ]),
      Routine(
        "refill",
        [
          ("def refill():", nil),
          ("    available = max_batch - len(active)", nil),
          ("    popped = pop(waiting, available)", .seedRefillPop),
          ("    for task in popped:", nil),
          ("        n = pages_for(task.prompt_len)", nil),
          ("        pages = alloc_n(n)", .seedRefillAllocN),
          ("        if not pages: waiting.appendleft(task); break", .seedRefillFailed),
          ("        task.page_table = pages", nil),
          ("        active.append(task)", .seedRefillAdmit),
        ]),
      Routine(
        "prefill",
        [
          ("def prefill_phase():", nil),
          ("    fresh = [t for t in active if t.output == 0]", .seedPrefillFresh),
          ("    for group in group_by(fresh, prompt_len):", nil),
          ("        write_kv(task.page_table, 0 .. prompt_len)", .seedPrefillWrite),
        ]),
      Routine(
        "decode",
        [
          ("def decode():", nil),
          ("    groups = group_by(active, key=next_pos)", nil),
          ("    batch = max(groups, key=len)", .seedDecodeBatch),
          ("    for task in batch:", nil),
          ("        write_kv(task.page_table, pos)", .seedDecodeWrite),
          ("        task.output += 1", nil),
          ("        maybe_alloc_page(task, pos + 1)", nil),
        ]),
      Routine(
        "maybe_alloc_page",
        [
          ("def maybe_alloc_page(task, pos):", nil),
          ("    needed = pages_for(pos + 1)", nil),
          ("    while len(task.page_table) < needed:", nil),
          ("        p = alloc()", .seedGrowAlloc),
          ("        if p < 0: break", nil),
          ("        task.page_table.append(p)", nil),
        ]),
    ] + AllocatorListing.unchecked)
}

extension PolicyID {
  public static let astraiSeed = PolicyID("astrai-seed")
}

extension Anchor {
  static let seedCleanup = Anchor("seed.cleanup")
  static let seedCleanupFree = Anchor("seed.cleanup.free")
  static let seedCleanupRemove = Anchor("seed.cleanup.remove")
  static let seedRefillPop = Anchor("seed.refill.pop")
  static let seedRefillAllocN = Anchor("seed.refill.alloc-n")
  static let seedRefillFailed = Anchor("seed.refill.failed")
  static let seedRefillAdmit = Anchor("seed.refill.admit")
  static let seedPrefillFresh = Anchor("seed.prefill.fresh")
  static let seedPrefillWrite = Anchor("seed.prefill.write")
  static let seedDecodeBatch = Anchor("seed.decode.batch")
  static let seedDecodeWrite = Anchor("seed.decode.write")
  static let seedGrowAlloc = Anchor("seed.grow.alloc")
}
