/// The prefix cache as the `paged` policy uses it: chained page keys over full prompt pages, hits
/// verified token by token, recording after the prompt is written.
extension EngineState {
  /// The keys of the full pages of a request's prompt, chained from page 0. O(prompt length).
  func promptPageKeys(_ r: Int) -> [UInt64] {
    var keys: [UInt64] = []
    extendPageKeys(of: r, &keys, to: requests[r].spec.prompt.count / pageSize)
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

  /// True when `cached` holds the tokens of page `page` of `r`. A source compared once is remembered
  /// in `verified` by page, since a waiting request is looked up again at every iteration.
  @inline(__always)
  func holdsSameTokens(_ r: Int, page: Int, _ cached: CachedPage, verified: inout [Int64]) -> Bool {
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

  /// The cached frames holding the longest prefix of `r`'s prompt, capped so that the last token is
  /// always computed.
  mutating func prefixHits(_ r: Int) -> [Int] {
    let length = requests[r].admissionLength
    guard config.prefixCache && length > 0 else { return [] }
    let maxHits = min((length - 1) / pageSize, requests[r].spec.prompt.count / pageSize)
    if requests[r].promptKeys.isEmpty { requests[r].promptKeys = promptPageKeys(r) }
    let keys = requests[r].promptKeys
    var verified = requests[r].verifiedSources
    var hits: [Int] = []
    for page in 0..<maxHits {
      let parent = page == 0 ? 0 : keys[page - 1]
      let frame = pool.lookup(key: keys[page], parent: parent) { cached in
        holdsSameTokens(r, page: page, cached, verified: &verified)
      }
      guard let frame else { break }
      hits.append(frame)
    }
    requests[r].verifiedSources = verified
    return hits
  }

  /// The admission decision for the queue head `r`: its prefix hits, the pages it still needs and
  /// whether they fit. Admitting takes it off the queue.
  mutating func decideAdmission(_ r: Int, at anchor: Anchor) throws(Pause) -> (hits: [Int], admitted: Bool) {
    try begin()
    let hits = prefixHits(r)
    let length = requests[r].admissionLength
    let need = pagesFor(length) - hits.count
    let hitsInLRU = hits.filter { pool.lru.contains($0) }.count
    let available = pool.availableCount - hitsInLRU
    let admit = need <= available
    if admit {
      waiting.removeFirst()
      countHits(r, hits.count, queried: length)
    }
    end(
      .lookup(request: r, hits: hits, need: need, available: available, admitted: admit), frames: hits,
      request: r, anchor: anchor)
    return (hits, admit)
  }

  /// An admission of `r` with `hits` cached pages out of `queried` tokens looked up.
  mutating func countHits(_ r: Int, _ hits: Int, queried: Int) {
    requests[r].hitPages = hits
    guard config.prefixCache else { return }
    stats.promptTokensQueried += queried
    stats.prefixHitPages += hits
    stats.prefixHitTokens += hits * pageSize
  }

  /// Records the keys of `r`'s full prompt pages (a partial last page never is).
  mutating func record(_ r: Int, at anchor: Anchor) throws(Pause) {
    try begin()
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
    end(
      .record(request: r, pages: fullPages, recorded: recorded),
      frames: requests[r].pageTable.prefix(fullPages),
      request: r, anchor: anchor)
  }
}
