/// The engine API of token-budget schedulers (vLLM v1, nano-vllm): each step a batch of tokens, a
/// chunk of a prompt or one decode token per request, within `max_batched_tokens`; block hashes over
/// the whole sequence, prompt and generated tokens alike. Each primitive is exactly one step.
extension EngineState {
  /// Plans a scheduling pass. `startsStep` opens a new batch with the whole token budget.
  mutating func planPass(
    _ phase: Phase, candidates: [Int], skipped: Bool = false, startsStep: Bool, at anchor: Anchor
  ) throws(Pause) {
    try begin()
    self.phase = phase
    if startsStep {
      for r in scheduled { requests[r].scheduled = 0 }
      scheduled = []
      tokenBudget = config.maxBatchedTokens
    }
    end(
      .plan(phase, .schedule(budget: tokenBudget, candidates: candidates, skipped: skipped)), anchor: anchor
    )
  }

  /// Plans output processing over this step's batch.
  mutating func planOutput(at anchor: Anchor) throws(Pause) {
    try begin()
    phase = .output
    end(.plan(.output, .output(scheduled: scheduled)), anchor: anchor)
  }

  /// A capacity check: `need` new frames for `tokens` tokens of `r` against the free queue.
  mutating func checkSlots(_ r: Int, tokens: Int, need: Int, at anchor: Anchor) throws(Pause) -> Bool {
    try begin()
    let free = pool.freeCount
    let fits = need <= free
    end(
      .slots(request: r, tokens: tokens, need: need, free: free, fits: fits), request: r, anchor: anchor)
    return fits
  }

  /// The frames that hold the longest cached prefix of `r`'s sequence, capped at `tokens - 1` tokens so
  /// that the last token is always computed. Each hit matches the page's key, its parent's key and its
  /// tokens. Not a step.
  mutating func cachedPrefix(_ r: Int) -> [Int] {
    let maxHits = max(0, requests[r].tokens - 1) / pageSize
    extendBlockKeys(r, to: maxHits)
    let keys = requests[r].blockKeys
    var verified = requests[r].verifiedSources
    var hits: [Int] = []
    for page in 0..<maxHits {
      let frame = pool.lookup(key: keys[page], parent: page == 0 ? 0 : keys[page - 1]) { cached in
        holdsSameTokens(r, page: page, cached, verified: &verified)
      }
      guard let frame else { break }
      hits.append(frame)
    }
    requests[r].verifiedSources = verified
    return hits
  }

  /// The admission check for the waiting head `r`: its prefix hits and the `need` frames it takes from
  /// the free queue. Admitted, `r` starts from its hits: `computed` is the tokens they hold.
  mutating func lookUp(_ r: Int, hits: [Int], need: Int, admitted: Bool, at anchor: Anchor) throws(Pause) {
    try begin()
    let available = pool.freeCount
    if admitted {
      requests[r].cachedPages = hits.count
      requests[r].computed = hits.count * pageSize
      countHits(r, hits.count, queried: requests[r].tokens)
    }
    end(
      .lookup(request: r, hits: hits, need: need, available: available, admitted: admitted), frames: hits,
      request: r, anchor: anchor)
  }

  /// `tokens` tokens of `r` join this step's batch. `advance` counts them as computed at once (vLLM
  /// advances `num_computed_tokens` when it schedules; nano-vllm after the step).
  mutating func schedule(_ r: Int, tokens: Int, advance: Bool, at anchor: Anchor) throws(Pause) {
    try begin()
    let from = requests[r].computed
    // A request joins the batch once a step; `scheduled` is reset for the batch when a step begins.
    if requests[r].scheduled == 0 { scheduled.append(r) }
    requests[r].scheduled = tokens
    tokenBudget -= tokens
    if advance { requests[r].computed += tokens }
    let isDecode = tokens == 1 && from == requests[r].tokens - 1 && requests[r].output > 0
    if !isDecode { stats.prefilledTokens += tokens }
    progressed = true
    let table = requests[r].pageTable
    let pages = (from / pageSize)..<((from + max(tokens, 1) - 1) / pageSize + 1)
    // The pages of the chunk that the table holds.
    let touched = min(pages.upperBound, table.count)
    end(
      .scheduled(request: r, tokens: tokens, from: from),
      frames: table[min(pages.lowerBound, touched)..<touched], request: r, anchor: anchor)
  }

  /// The KV of `r`'s scheduled tokens is written: they count as computed (nano-vllm's
  /// `num_cached_tokens += num_scheduled_tokens` after the step).
  mutating func commitScheduled(_ r: Int, at anchor: Anchor) throws(Pause) {
    try begin()
    let tokens = requests[r].scheduled
    requests[r].computed += tokens
    progressed = true
    end(.computed(request: r, tokens: tokens, to: requests[r].computed), request: r, anchor: anchor)
  }

  /// The waiting head `r` joins the running requests.
  mutating func startRunning(_ r: Int, at anchor: Anchor) throws(Pause) {
    try begin()
    if let position = waiting.firstIndex(of: r) { waiting.remove(at: position) }
    joinRunning(r, at: anchor)
  }

  /// Output processing appends the next token of `r`. Returns true when it was the last one.
  mutating func sample(_ r: Int, at anchor: Anchor) throws(Pause) -> Bool {
    try begin()
    let position = requests[r].tokens
    requests[r].output += 1
    stats.decodedTokens += 1
    progressed = true
    let finished = requests[r].output >= requests[r].spec.output
    end(
      .sampled(request: r, position: position, finished: finished),
      frame: requests[r].pageTable.last, request: r, anchor: anchor)
    return finished
  }

  /// Page `page` of `r`, now full, gets its block hash and is indexed by `rule`.
  mutating func cacheBlock(_ r: Int, page: Int, rule: IndexRule, at anchor: Anchor) throws(Pause) {
    try begin()
    extendBlockKeys(r, to: page + 1)
    let keys = requests[r].blockKeys
    let frame = requests[r].pageTable[page]
    pool.cache(
      frame,
      page: CachedPage(key: keys[page], parent: page == 0 ? 0 : keys[page - 1], request: r, page: page),
      rule: rule)
    requests[r].cachedPages = page + 1
    end(
      .cached(request: r, page: page, frame: frame, indexed: pool.isIndexed(frame)), frame: frame, request: r,
      anchor: anchor)
  }

  /// Computes the keys of `r`'s first `count` full pages, chained from page 0.
  private mutating func extendBlockKeys(_ r: Int, to count: Int) {
    guard requests[r].blockKeys.count < count else { return }
    var keys = requests[r].blockKeys
    requests[r].blockKeys = []
    extendPageKeys(of: r, &keys, to: count)
    requests[r].blockKeys = keys
  }
}
