import Testing

@testable import KVEngine

struct FreeBitmaskTests {
  @Test func freshMaskIsAllOnesMSBFirst() {
    var mask = FreeBitmask(count: 8, allSet: true)
    #expect(mask.binary() == "11111111")
    #expect(mask.population == 8)
    #expect(mask.lowest == 0)
    mask.remove(0)
    mask.remove(1)
    #expect(mask.binary() == "11111100")
    #expect(mask.lowest == 2)
    #expect(mask.word(0) == 0b1111_1100)
    #expect(mask.binary(frames: 0..<4) == "1100")
  }

  @Test func partialLastWordHasOnlyCountBits() {
    let mask = FreeBitmask(count: 70, allSet: true)
    #expect(mask.wordCount == 2)
    #expect(mask.word(0) == ~0)
    #expect(mask.word(1) == 0b11_1111)
    #expect(mask.population == 70)
    #expect(mask.next(from: 69) == 69)
    #expect(mask.next(from: 70) == nil)
    let empty = FreeBitmask(count: 70, allSet: false)
    #expect(empty.lowest == nil)
    #expect(empty.next(from: 0) == nil)
    #expect(empty.binary() == String(repeating: "0", count: 70))
  }

  @Test func lowestThroughSummariesAtOneMillionBits() {
    var mask = FreeBitmask(count: 1_000_000, allSet: false)
    #expect(mask.lowest == nil)
    mask.insert(999_999)
    #expect(mask.lowest == 999_999)
    #expect(mask.next(from: 0) == 999_999)
    mask.insert(123_456)
    #expect(mask.lowest == 123_456)
    #expect(mask.next(from: 123_457) == 999_999)
    #expect(mask.next(from: 123_456) == 123_456)
    mask.insert(262_144)  // first bit of a new level-2 summary word (64 * 64 * 64)
    #expect(mask.next(from: 123_457) == 262_144)
    mask.remove(123_456)
    #expect(mask.lowest == 262_144)
    mask.remove(262_144)
    #expect(mask.lowest == 999_999)
    #expect(mask.population == 1)
    mask.remove(999_999)
    #expect(mask.lowest == nil)
    #expect(mask.next(from: 0) == nil)
    #expect(mask.population == 0)

    var full = FreeBitmask(count: 1_000_000, allSet: true)
    #expect(full.population == 1_000_000)
    #expect(full.lowest == 0)
    for frame in 0..<300_000 { full.remove(frame) }
    #expect(full.lowest == 300_000)
    #expect(full.next(from: 5) == 300_000)
    #expect(full.next(from: 999_999) == 999_999)
    #expect(full.population == 700_000)
    full.insert(4_097)
    #expect(full.lowest == 4_097)
    #expect(full.next(from: 4_098) == 300_000)
  }

  @Test func insertAndRemoveAreIdempotent() {
    var mask = FreeBitmask(count: 200, allSet: false)
    mask.insert(130)
    mask.insert(130)
    #expect(mask.population == 1)
    #expect(mask.contains(130))
    mask.remove(130)
    mask.remove(130)
    #expect(mask.population == 0)
    #expect(!mask.contains(130))
    #expect(mask.lowest == nil)
  }

  /// `lowest` and `next(from:)` agree with a plain scan on many random sets.
  @Test func agreesWithBruteForce() {
    var rng = SplitMix64(state: 42)
    for _ in 0..<300 {
      let count = Int(rng.next() % 9000) + 1
      var mask = FreeBitmask(count: count, allSet: rng.next() % 2 == 0)
      var model = [Bool](repeating: mask.contains(0), count: count)
      for _ in 0..<Int(rng.next() % 200) {
        let frame = Int(rng.next() % UInt64(count))
        if rng.next() % 2 == 0 {
          mask.insert(frame)
          model[frame] = true
        } else {
          mask.remove(frame)
          model[frame] = false
        }
      }
      // Clear long runs so that next(from:) must cross words and summary levels.
      if rng.next() % 2 == 0 {
        let start = Int(rng.next() % UInt64(count))
        for frame in start..<min(count, start + 5000) {
          mask.remove(frame)
          model[frame] = false
        }
      }
      #expect(mask.population == model.filter { $0 }.count)
      #expect(mask.lowest == model.firstIndex(of: true))
      for _ in 0..<20 {
        let from = Int(rng.next() % UInt64(count))
        #expect(mask.next(from: from) == model[from...].firstIndex(of: true))
      }
    }
  }
}

struct LRUListTests {
  @Test func appendRemovePop() {
    var lru = LRUList(capacity: 8)
    #expect(lru.popHead() == nil)
    for f in [3, 1, 5, 0] { lru.append(f) }
    #expect(lru.frames == [3, 1, 5, 0])
    #expect(lru.count == 4)
    #expect(lru.head == 3 && lru.tail == 0)
    lru.remove(5)
    #expect(lru.frames == [3, 1, 0])
    #expect(!lru.contains(5))
    lru.remove(5)  // absent: no change
    #expect(lru.count == 3)
    lru.remove(3)  // head
    #expect(lru.head == 1)
    lru.remove(0)  // tail
    #expect(lru.tail == 1)
    #expect(lru.popHead() == 1)
    #expect(lru.count == 0 && lru.head == -1 && lru.tail == -1)
    lru.append(7)
    lru.append(2)
    #expect(lru.popHead() == 7)
    #expect(lru.popHead() == 2)
    #expect(lru.popHead() == nil)
  }
}

struct PagePoolTests {
  @Test func allocTakesLowestWithLSBTrace() {
    var pool = PagePool(count: 8, checked: true)
    let a = pool.alloc()
    #expect(a.frame == 0)
    #expect(a.wordIndex == 0 && a.wordBefore == 0xFF && a.lsb == 1 && a.wordAfter == 0xFE)
    #expect(a.evictedKey == nil)
    let b = pool.alloc()
    #expect(b.frame == 1 && b.wordBefore == 0xFE && b.lsb == 0b10 && b.wordAfter == 0xFC)
    #expect(pool.freeMask.binary() == "11111100")
    #expect(pool.refs[0] == 1 && pool.refs[1] == 1)
    let c = pool.alloc()
    #expect(c.frame == 2 && c.lsb == 0b100 && c.wordBefore == 0b1111_1100)
    // A freed low frame wins again.
    _ = pool.free(0)
    #expect(pool.freeMask.binary() == "11111001")
    let d = pool.alloc()
    #expect(d.frame == 0 && d.lsb == 1 && d.wordBefore == 0b1111_1001)
  }

  @Test func allocCrossesWords() {
    var pool = PagePool(count: 130, checked: true)
    for expected in 0..<64 { #expect(pool.alloc().frame == expected) }
    let t = pool.alloc()
    #expect(t.frame == 64 && t.wordIndex == 1 && t.wordBefore == ~0 && t.lsb == 1 && t.wordAfter == ~1)
    for _ in 65..<130 { _ = pool.alloc() }
    let none = pool.alloc()
    #expect(none.frame == -1 && none.lsb == 0)
    #expect(pool.freeCount == 0 && pool.usedCount == 130)
  }

  @Test func freeReturnsToMask() {
    var pool = PagePool(count: 4, checked: true)
    _ = pool.alloc()
    _ = pool.alloc()
    let t = pool.free(1)
    #expect(t.refBefore == 1 && t.refAfter == 0 && t.misuse == nil && !t.lru)
    #expect(t.wordBefore == 0b1100 && t.wordAfter == 0b1110)
    #expect(pool.freeMask.binary() == "1110")
    #expect(pool.freeCount == 3)
  }

  @Test func refcountsNeedAsManyFrees() {
    var pool = PagePool(count: 4, checked: true)
    _ = pool.alloc()
    let inc = pool.incRef(0)
    #expect(inc.refBefore == 1 && inc.refAfter == 2 && inc.misuse == nil)
    let f1 = pool.free(0)
    #expect(f1.refAfter == 1 && !pool.freeMask.contains(0))
    let f2 = pool.free(0)
    #expect(f2.refAfter == 0 && pool.freeMask.contains(0))
  }

  @Test func checkedDoubleFreeIsRejected() {
    var pool = PagePool(count: 4, checked: true)
    _ = pool.alloc()
    _ = pool.free(0)
    let before = pool
    let t = pool.free(0)
    #expect(t.misuse == .doubleFree)
    #expect(t.refBefore == 0 && t.refAfter == 0)
    #expect(pool == before)
    // A never-allocated frame too.
    #expect(pool.free(3).misuse == .doubleFree)
    #expect(pool.refs[3] == 0)
  }

  @Test func uncheckedDoubleFreeGoesNegative() {
    var pool = PagePool(count: 4, checked: false)
    _ = pool.alloc()
    _ = pool.alloc()
    _ = pool.free(1)
    let t = pool.free(1)
    #expect(t.misuse == .negativeRefcount)
    #expect(t.refBefore == 0 && t.refAfter == -1)
    #expect(pool.refs[1] == -1)
    #expect(pool.freeMask.binary() == "1110")  // still free: the next alloc hands it out
    #expect(pool.alloc().frame == 1)
    #expect(pool.refs[1] == 1)
  }

  @Test func incRefOfFreeFrame() {
    var checked = PagePool(count: 4, checked: true)
    let before = checked
    let t = checked.incRef(2)
    #expect(t.misuse == .incRefFreeFrame)
    #expect(checked == before)

    var seed = PagePool(count: 4, checked: false)
    let s = seed.incRef(2)
    #expect(s.misuse == .incRefFreeFrame)
    #expect(seed.refs[2] == 1)
    #expect(seed.freeMask.contains(2))  // the seed does not clear the bit
  }

  @Test func badIndex() {
    for checked in [true, false] {
      var pool = PagePool(count: 4, checked: checked)
      let before = pool
      #expect(pool.free(4).misuse == .badIndex)
      #expect(pool.free(-1).misuse == .badIndex)
      #expect(pool.incRef(99).misuse == .badIndex)
      #expect(pool == before)
      let recorded1 = pool.record(4, page: CachedPage(key: 1, parent: 0, request: 0, page: 0))
      #expect(!recorded1)
    }
  }

  @Test func cachedFramesGoToLRUTailAndAreEvictedLast() {
    var pool = PagePool(count: 4, checked: true)
    for _ in 0..<4 { _ = pool.alloc() }
    let recorded2 = pool.record(0, page: CachedPage(key: 100, parent: 0, request: 0, page: 0))
    #expect(recorded2)
    let recorded3 = pool.record(2, page: CachedPage(key: 102, parent: 100, request: 0, page: 0))
    #expect(recorded3)
    let f2 = pool.free(2)
    #expect(f2.lru && f2.refAfter == 0)
    #expect(!pool.freeMask.contains(2))
    let f0 = pool.free(0)
    #expect(f0.lru)
    #expect(pool.lru.frames == [2, 0])
    _ = pool.free(3)  // not cached: back to the mask
    #expect(pool.freeMask.binary() == "1000")
    #expect(pool.freeCount == 1 && pool.availableCount == 3 && pool.usedCount == 1)
    // The free frame goes first, even though cached frames are lower.
    let a = pool.alloc()
    #expect(a.frame == 3 && a.evictedKey == nil)
    // No frame free: the LRU head (2) is evicted and its key dropped.
    let b = pool.alloc()
    #expect(b.frame == 2 && b.evictedKey == 102 && b.lsb == 0)
    #expect(!pool.isCached(2) && pool.frameForKey[102] == nil)
    #expect(pool.lookup(key: 102, parent: 100, matches: { _ in true }) == nil)
    #expect(pool.refs[2] == 1)
    #expect(pool.lookup(key: 100, parent: 0, matches: { _ in true }) == 0)
    let c = pool.alloc()
    #expect(c.frame == 0 && c.evictedKey == 100)
    #expect(pool.alloc().frame == -1)
    #expect(pool.cached.isEmpty && pool.frameForKey.isEmpty)
  }

  @Test func incRefOfCachedFrameLeavesLRU() {
    var pool = PagePool(count: 2, checked: true)
    _ = pool.alloc()
    pool.record(0, page: CachedPage(key: 7, parent: 0, request: 0, page: 0))
    _ = pool.free(0)
    #expect(pool.lru.contains(0))
    let hit = pool.incRef(0)
    #expect(hit.lru && hit.misuse == nil && hit.refAfter == 1)
    #expect(!pool.lru.contains(0) && !pool.freeMask.contains(0))
    #expect(pool.isCached(0))
    // A checked free of a cached frame at refcount 0 is a double free.
    _ = pool.free(0)
    #expect(pool.free(0).misuse == .doubleFree)
    #expect(pool.lru.frames == [0])
  }

  @Test func lookupComparesParentAndTokens() {
    var pool = PagePool(count: 2, checked: true)
    _ = pool.alloc()
    let recorded4 = pool.record(0, page: CachedPage(key: 55, parent: 11, request: 0, page: 0))
    #expect(recorded4)
    #expect(pool.lookup(key: 55, parent: 11, matches: { _ in true }) == 0)
    #expect(pool.lookup(key: 55, parent: 12, matches: { _ in true }) == nil)  // other prefix
    #expect(pool.lookup(key: 55, parent: 11, matches: { _ in false }) == nil)  // collision: tokens differ
    #expect(pool.lookup(key: 56, parent: 11, matches: { _ in true }) == nil)
    // A key is indexed once, and a frame holds one page.
    _ = pool.alloc()
    let recorded5 = pool.record(1, page: CachedPage(key: 55, parent: 0, request: 0, page: 0))
    #expect(!recorded5)
    let recorded6 = pool.record(0, page: CachedPage(key: 77, parent: 0, request: 0, page: 0))
    #expect(!recorded6)
    let recorded7 = pool.record(1, page: CachedPage(key: 77, parent: 0, request: 0, page: 0))
    #expect(recorded7)
  }

  @Test func pageKeysAreChained() {
    let a = Tokens.pageKey(parent: 0, tokens: [5, 6, 7, 8] as [Int32])
    let b = Tokens.pageKey(parent: 123, tokens: [5, 6, 7, 8] as [Int32])
    let c = Tokens.pageKey(parent: 0, tokens: [5, 6, 7, 9] as [Int32])
    #expect(a != b && a != c && a != 0)
    #expect(a == Tokens.pageKey(parent: 0, tokens: [5, 6, 7, 8] as [Int32]))
  }
}
