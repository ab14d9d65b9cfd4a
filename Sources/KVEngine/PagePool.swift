/// The content a cached frame holds, indexed by the prefix cache.
public struct CachedPage: Sendable, Equatable {
  /// The page's key: a hash chained over the parent key and this page's tokens.
  public var key: UInt64
  /// The previous page's key (0 for the first page).
  public var parent: UInt64
  /// Where its tokens come from: page `page` of request `request`'s sequence. Tokens are synthetic and
  /// deterministic, so they are regenerated to compare on a hit rather than stored per frame.
  public var request: Int32
  public var page: Int32

  public init(key: UInt64, parent: UInt64, request: Int, page: Int) {
    self.key = key
    self.parent = parent
    self.request = Int32(truncatingIfNeeded: request)
    self.page = Int32(truncatingIfNeeded: page)
  }
}

/// Allocator misuse, recorded as a finding instead of a crash.
public enum PoolMisuse: Sendable, Equatable {
  /// The frame index is outside the pool.
  case badIndex
  /// A free of a frame that is already free (checked pool: rejected).
  case doubleFree
  /// A free drove the refcount below zero (seed pool: not checked).
  case negativeRefcount
  /// inc_ref of a frame that is not allocated.
  case incRefFreeFrame
}

/// What `alloc()` did, with the values a teacher would show.
public struct AllocTrace: Sendable, Equatable {
  /// The frame handed out, or -1.
  public var frame: Int
  /// The mask word that held the frame (`frame / 64`), and its value before and after.
  public var wordIndex: Int
  public var wordBefore: UInt64
  public var wordAfter: UInt64
  /// `word & -word`: the lowest set bit of the word.
  public var lsb: UInt64
  /// A cached frame evicted from the LRU head because no frame was free, with the key it dropped.
  public var evictedKey: UInt64?
}

/// What `free(idx)` or `inc_ref(idx)` did.
public struct RefTrace: Sendable, Equatable {
  public var frame: Int
  public var refBefore: Int
  public var refAfter: Int
  /// The mask word of the frame before and after.
  public var wordBefore: UInt64
  public var wordAfter: UInt64
  /// The frame went to the LRU tail (free) or left the LRU list (inc_ref of a cached frame); in a queue
  /// pool, it left the free queue (inc_ref).
  public var lru: Bool
  public var misuse: PoolMisuse?
  /// In a queue pool: where a free that dropped the refcount to 0 put the frame in the free queue.
  public var queued: QueuePlace? = nil
}

/// Where a freed frame joins the free queue of a queue pool.
public enum QueuePlace: Sendable, Equatable {
  /// At the head: handed out next (vLLM's blocks without a hash).
  case head
  /// Right after this frame, which went to the head earlier in the same release (vLLM's `prepend_n`).
  case after(Int)
  /// At the tail: handed out last.
  case tail
}

/// How a pool hands frames out.
public enum FreeOrder: Sendable, Equatable {
  /// The lowest free bit of the mask; cached frames wait in an LRU list (AstrAI, `paged`).
  case lowestFirst
  /// One free queue, head first, holding cached and uncached frames alike; a cached frame handed out
  /// loses its content (vLLM's `FreeKVCacheBlockQueue`, nano-vllm's `free_block_ids`).
  case queue
}

/// How a queue pool indexes a key that another frame already holds.
public enum IndexRule: Sendable, Equatable {
  /// Both frames stay indexed; a lookup finds the earliest (vLLM's `BlockHashToBlockMap`).
  case keepAll
  /// The new frame replaces the old one in the index; the old one keeps its content (nano-vllm's
  /// `hash_to_block_id[h] = block_id`).
  case replace
}

/// The pool of page frames: the free bitmask, refcounts, the LRU list of cached frames (or the free
/// queue) and the prefix index. A value type: copying it is a snapshot.
public struct PagePool: Sendable, Equatable {
  /// Number of frames.
  public let count: Int
  /// `true` rejects misuse (the fixed allocator); `false` behaves like the seed (no checks).
  public let checked: Bool
  public let order: FreeOrder
  /// A frame never handed out (vLLM's null block 0), or nil.
  public let reserved: Int?
  /// Bit i set when frame i is free (in a queue pool: in the free queue).
  public private(set) var freeMask: FreeBitmask
  /// Reference count of each frame, kept beside the free bits (`freeMask`).
  @inlinable public var refs: Refcounts { freeMask.refcounts }
  /// Cached frames with refcount 0, least recently used first.
  public private(set) var lru: LRUList
  /// Content of each frame that the prefix cache indexes.
  public private(set) var cached = CachedPages()
  /// Key -> frame (the earliest, when several frames hold the key).
  public private(set) var frameForKey = KeyIndex()
  /// Further frames indexed under a key, in the order they were indexed (`IndexRule.keepAll`).
  private var laterFrames: [UInt64: [Int32]] = [:]
  /// The free queue of a queue pool, head (handed out next) first; empty otherwise.
  public private(set) var freeQueue: LRUList

  public init(count: Int, checked: Bool, order: FreeOrder = .lowestFirst, reserved: Int? = nil) {
    self.count = count
    self.checked = checked
    self.order = order
    self.reserved = reserved.flatMap { $0 >= 0 && $0 < count ? $0 : nil }
    freeMask = FreeBitmask(count: count, allSet: true, refcounts: true)
    // Both lists can answer `contains` for any frame; a pool uses one of them.
    lru = LRUList(capacity: count)
    freeQueue = LRUList(capacity: order == .queue ? count : 0)
    if let reserved = self.reserved { freeMask.remove(reserved) }
    if order == .queue {
      for frame in 0..<count where frame != self.reserved { freeQueue.append(frame) }
    }
  }

  /// Frames in the free mask.
  public var freeCount: Int { freeMask.population }
  /// Frames that an allocation can get: free ones plus cached ones it may evict.
  public var availableCount: Int { freeMask.population + lru.count }
  /// Frames with refcount > 0.
  public var usedCount: Int { count - freeMask.population - lru.count - (reserved == nil ? 0 : 1) }

  /// True when the frame's free bit should be set: refcount 0, not waiting in the LRU list, not reserved.
  /// A queue pool's free queue must then hold it too.
  public func shouldBeFree(_ frame: Int, inLRU: Bool) -> Bool {
    freeMask.refcount(frame) == 0 && !inLRU && frame != reserved
  }

  /// True when a lookup of the frame's key can find it.
  public func isIndexed(_ frame: Int) -> Bool {
    guard let page = cached[Int32(frame)] else { return false }
    return frameForKey[page.key] == Int32(frame) || laterFrames[page.key]?.contains(Int32(frame)) == true
  }

  public func isCached(_ frame: Int) -> Bool { cached.contains(Int32(frame)) }
  public func contains(_ frame: Int) -> Bool { frame >= 0 && frame < count }

  /// Hands out the lowest free frame (`lsb = mask & -mask`); when none is free, evicts the LRU head.
  /// A queue pool hands out the head of its free queue, dropping the content it held.
  @inline(__always)
  public mutating func alloc() -> AllocTrace {
    order == .queue ? popQueue() : allocLowest(inUniqueMask: nil)
  }

  /// `alloc()` in a pool that hands out the lowest free frame, without the check for a snapshot
  /// sharing the mask when the caller passes the mask's storage made unique.
  @inline(__always)
  private mutating func allocLowest(inUniqueMask unique: UniqueStorage?) -> AllocTrace {
    if let (frame, before) = freeMask.allocateLowest(in: unique) {
      return AllocTrace(
        frame: frame, wordIndex: frame >> 6, wordBefore: before, wordAfter: before & (before &- 1),
        lsb: before & (~before &+ 1), evictedKey: nil)
    }
    return evictLRUHead()
  }

  /// No frame is free: the LRU head loses its content and is handed out, or -1 when the list is empty.
  /// Out of line: inlined, it kept `allocFreePairs` from inlining `free`, and a pair took 8 ns, not 3.
  @inline(never)
  private mutating func evictLRUHead() -> AllocTrace {
    if let frame = lru.popHead() {
      prefetchNextEvictions(from: lru)
      let dropped = cached.remove(frame)
      if let key = dropped?.key { frameForKey[key] = nil }
      freeMask.setRefcount(frame, 1)
      let word = freeMask.word(frame >> 6)
      return AllocTrace(
        frame: frame, wordIndex: frame >> 6, wordBefore: word, wordAfter: word, lsb: 0,
        evictedKey: dropped?.key)
    }
    return AllocTrace(frame: -1, wordIndex: 0, wordBefore: 0, wordAfter: 0, lsb: 0, evictedKey: nil)
  }

  /// Asks the processor to bring into its cache what the next two evictions from `list` (the LRU
  /// list, or a queue pool's free queue) read, ahead of them: the index slot of the head's key, and the
  /// links and content of the frame after the head. The head's were asked for at the eviction before,
  /// so that reading them here does not wait on memory while evictions follow each other. Hints only:
  /// the list may change first.
  @inline(__always)
  private func prefetchNextEvictions(from list: LRUList) {
    let next = Int(list.head)
    guard next >= 0 else { return }
    if let page = cached[Int32(next)] { frameForKey.prefetch(page.key) }
    let after = Int(list.next(after: next))
    guard after >= 0 else { return }
    list.prefetch(after)
    cached.prefetch(after)
  }

  /// `pairs` alloc + free pairs; the sum of the frames handed out. The loop of `kvscope bench alloc`,
  /// compiled with the pool as the C reference's loop is compiled with its own (`kvref_pairs`). Nothing
  /// can copy the pool while the loop runs, so it checks for a sharing snapshot once, before the first
  /// pair, and reads the pool's order once (a queue pool runs `allocFreePairsCheckingEach`).
  public mutating func allocFreePairs(_ pairs: Int) -> Int {
    guard order == .lowestFirst else { return allocFreePairsCheckingEach(pairs) }
    let unique = freeMask.uniqueStorage()
    var checksum = 0
    for _ in 0..<pairs {
      let frame = allocLowest(inUniqueMask: unique).frame
      checksum &+= frame
      _ = free(frame, inUniqueMask: unique)
    }
    return checksum
  }

  /// `allocFreePairs`, checking for a sharing snapshot at every call, as the engine's steps do. A loop
  /// of its own: one loop with a flag for both made the other loop about 25% slower.
  public mutating func allocFreePairsCheckingEach(_ pairs: Int) -> Int {
    var checksum = 0
    for _ in 0..<pairs {
      let frame = alloc().frame
      checksum &+= frame
      _ = free(frame)
    }
    return checksum
  }

  /// Drops one reference. At zero the frame goes back to the mask, or to the LRU tail when cached; in a
  /// queue pool it joins the free queue at `place`.
  @inline(__always)
  public mutating func free(_ frame: Int, to place: QueuePlace = .tail) -> RefTrace {
    free(frame, to: place, inUniqueMask: nil)
  }

  /// `free(_:to:)`, without the check for a snapshot sharing the mask when the caller passes the mask's
  /// storage made unique.
  @inline(__always)
  mutating func free(_ frame: Int, to place: QueuePlace = .tail, inUniqueMask unique: UniqueStorage?)
    -> RefTrace
  {
    guard contains(frame) else {
      return RefTrace(
        frame: frame, refBefore: 0, refAfter: 0, wordBefore: 0, wordAfter: 0, lru: false, misuse: .badIndex)
    }
    // One check for a sharing snapshot, before the first read, so that every read and write below goes
    // through the same pointers (in the mask: `frame < count`).
    let mask = unique ?? freeMask.uniqueStorage()
    let wordIndex = frame >> 6
    let wordBefore = mask.words[wordIndex]
    let before = mask.refcounts[frame]
    if checked && before <= 0 {
      return RefTrace(
        frame: frame, refBefore: Int(before), refAfter: Int(before), wordBefore: wordBefore,
        wordAfter: wordBefore, lru: false, misuse: .doubleFree)
    }
    let after = before &- 1
    // At zero the frame is free again, unless the LRU list keeps it for its content (the table is read
    // in place: a call of `isCached` here would copy the whole pool first).
    let toLRU = after == 0 && order == .lowestFirst && cached.contains(Int32(frame))
    freeMask.setRefcount(frame, after, free: after == 0 && !toLRU ? true : nil, in: mask)
    var queued: QueuePlace?
    if after == 0 && order == .queue {
      enqueue(frame, place)
      queued = place
    }
    if toLRU { lru.append(frame) }
    return RefTrace(
      frame: frame, refBefore: Int(before), refAfter: Int(after), wordBefore: wordBefore,
      wordAfter: mask.words[wordIndex], lru: toLRU, misuse: after < 0 ? .negativeRefcount : nil,
      queued: queued)
  }

  /// Adds one reference. A cached frame with refcount 0 leaves the LRU list (a prefix hit).
  public mutating func incRef(_ frame: Int) -> RefTrace {
    guard contains(frame) else {
      return RefTrace(
        frame: frame, refBefore: 0, refAfter: 0, wordBefore: 0, wordAfter: 0, lru: false, misuse: .badIndex)
    }
    let word = freeMask.word(frame >> 6)
    let before = Int(freeMask.refcount(frame))
    if order == .queue {
      if frame == reserved {
        return RefTrace(
          frame: frame, refBefore: before, refAfter: before, wordBefore: word, wordAfter: word, lru: false,
          misuse: .incRefFreeFrame)
      }
      // A touch: a frame with refcount 0 leaves the free queue.
      let leaves = freeQueue.contains(frame)
      if leaves { freeQueue.remove(frame) }
      freeMask.setRefcount(frame, Int32(before + 1), free: leaves ? false : nil)
      return RefTrace(
        frame: frame, refBefore: before, refAfter: before + 1, wordBefore: word,
        wordAfter: freeMask.word(frame >> 6), lru: leaves, misuse: nil)
    }
    let leavesLRU = lru.contains(frame)
    let isFree = freeMask.contains(frame)
    if checked && isFree {
      return RefTrace(
        frame: frame, refBefore: before, refAfter: before, wordBefore: word, wordAfter: word, lru: false,
        misuse: .incRefFreeFrame)
    }
    if leavesLRU { lru.remove(frame) }
    freeMask.setRefcount(frame, Int32(before + 1))
    return RefTrace(
      frame: frame, refBefore: before, refAfter: before + 1, wordBefore: word, wordAfter: word,
      lru: leavesLRU, misuse: isFree ? .incRefFreeFrame : nil)
  }

  /// Indexes `frame` under `page.key`. Returns false (and changes nothing) when the key is already
  /// indexed, or the frame already holds indexed content.
  @discardableResult
  public mutating func record(_ frame: Int, page: CachedPage) -> Bool {
    guard contains(frame), frameForKey[page.key] == nil, !cached.contains(Int32(frame)) else { return false }
    cached.insert(page, at: frame, poolSize: count)
    frameForKey[page.key] = Int32(frame)
    return true
  }

  /// Gives `frame` the content `page` and indexes it under its key by `rule` (a queue pool's
  /// caching of a full block). The frame must hold no content.
  public mutating func cache(_ frame: Int, page: CachedPage, rule: IndexRule) {
    guard contains(frame), !cached.contains(Int32(frame)) else { return }
    cached.insert(page, at: frame, poolSize: count)
    if let first = frameForKey[page.key], rule == .keepAll {
      if first != Int32(frame) { laterFrames[page.key, default: []].append(Int32(frame)) }
    } else {
      frameForKey[page.key] = Int32(frame)
    }
  }

  /// The head of the free queue, handed out: its content is dropped, and its index entry if the
  /// index still points at it.
  private mutating func popQueue() -> AllocTrace {
    guard let frame = freeQueue.popHead() else {
      return AllocTrace(frame: -1, wordIndex: 0, wordBefore: 0, wordAfter: 0, lsb: 0, evictedKey: nil)
    }
    prefetchNextEvictions(from: freeQueue)
    let wordIndex = frame >> 6
    let before = freeMask.word(wordIndex)
    freeMask.setRefcount(frame, 1, free: false)
    let dropped = cached.remove(frame)
    if let key = dropped?.key { unindex(frame, key: key) }
    return AllocTrace(
      frame: frame, wordIndex: wordIndex, wordBefore: before, wordAfter: freeMask.word(wordIndex), lsb: 0,
      evictedKey: dropped?.key)
  }

  /// Puts `frame`, whose free bit is already set, in the free queue at `place`.
  private mutating func enqueue(_ frame: Int, _ place: QueuePlace) {
    switch place {
    case .head: freeQueue.prepend(frame)
    case .after(let previous) where freeQueue.contains(previous): freeQueue.insert(frame, after: previous)
    case .after: freeQueue.prepend(frame)
    case .tail: freeQueue.append(frame)
    }
  }

  /// Removes `frame` from the index under `key`; the next frame indexed under it takes its place.
  private mutating func unindex(_ frame: Int, key: UInt64) {
    let f = Int32(frame)
    if frameForKey[key] == f {
      if var later = laterFrames[key], !later.isEmpty {
        frameForKey[key] = later.removeFirst()
        laterFrames[key] = later.isEmpty ? nil : later
      } else {
        frameForKey[key] = nil
      }
    } else if var later = laterFrames[key], let position = later.firstIndex(of: f) {
      later.remove(at: position)
      laterFrames[key] = later.isEmpty ? nil : later
    }
  }

  /// The frame holding a page with this key and parent whose tokens `matches` accepts, if any: a hash
  /// collision is never taken for a hit.
  public func lookup(key: UInt64, parent: UInt64, matches: (CachedPage) -> Bool) -> Int? {
    guard let frame = frameForKey[key], let page = cached[frame], page.parent == parent, matches(page)
    else { return nil }
    return Int(frame)
  }

}

/// The prefix cache's content per frame, in an array indexed by frame (allocated on first use).
public struct CachedPages: Sendable, Equatable {
  /// By frame; in chunks of 1,024 frames, so that a copy of the state shares those no later step changes.
  private var pages = ChunkedArray<CachedPage?>(chunkShift: 10)
  /// Bit f set when frame f holds content: a test of presence reads this small table, not the large
  /// one, where a frame taken at random misses the processor's cache.
  private var present: [UInt64] = []
  /// Frames holding indexed content.
  public private(set) var count = 0

  public var isEmpty: Bool { count == 0 }

  /// True when `frame` holds content. O(1).
  public func contains(_ frame: Int32) -> Bool {
    let word = Int(frame) >> 6
    return frame >= 0 && word < present.count && present[word] & (1 << UInt64(frame & 63)) != 0
  }

  public subscript(frame: Int32) -> CachedPage? {
    contains(frame) ? pages[Int(frame)] : nil
  }

  /// The frames holding indexed content, in frame order.
  public var keys: [Int32] { pages.indices.filter { pages[$0] != nil }.map { Int32($0) } }

  mutating func insert(_ page: CachedPage, at frame: Int, poolSize: Int) {
    if pages.isEmpty {
      pages = ChunkedArray(repeatElement(nil, count: poolSize), chunkShift: 10)
      present = [UInt64](repeating: 0, count: (poolSize + 63) / 64)
    }
    if !contains(Int32(frame)) {
      count += 1
      present[frame >> 6] |= 1 << UInt64(frame & 63)
    }
    pages[frame] = page
  }

  /// Asks the processor to bring the content of `frame` into its cache ahead of a read (a hint).
  @inline(__always)
  func prefetch(_ frame: Int) { pages.prefetch(frame) }

  mutating func remove(_ frame: Int) -> CachedPage? {
    guard contains(Int32(truncatingIfNeeded: frame)), let page = pages[frame] else { return nil }
    pages[frame] = nil
    present[frame >> 6] &= ~(1 << UInt64(frame & 63))
    count -= 1
    return page
  }
}
