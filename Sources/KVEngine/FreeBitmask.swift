/// A set of frame indices stored as 64-bit words, with summary levels so that finding the lowest set
/// bit never scans all words: each summary bit says whether a word of the level below is non-zero.
/// A cursor remembers the lowest word that may hold a set bit, so that taking the lowest bit is one
/// word read while that word has bits left; only when it empties does a walk down the levels find the
/// next one.
///
/// In a pool the mask also carries the frames' refcounts, in the same storage: an allocation or a
/// free changes a bit and a refcount, and checks once that no snapshot shares the storage before it
/// writes (a check costs about as much as the rest of the operation).
public struct FreeBitmask: Sendable {
  /// Number of frames.
  public let count: Int
  /// The words of every level, the level offsets and the refcounts; copied whole on a write after a copy.
  @usableFromInline private(set) var storage: MaskStorage
  /// Number of set bits.
  public private(set) var population: Int
  /// Every frame word below this one is zero: the lowest set bit is in this word or above it.
  private var firstCandidateWord = 0

  /// A mask of `count` bits, all set (`(1 << count) - 1`) or all clear.
  public init(count: Int, allSet: Bool) {
    self.init(count: count, allSet: allSet, refcounts: false)
  }

  /// A mask that also holds a refcount per frame, all 0 (a pool's).
  init(count: Int, allSet: Bool, refcounts: Bool) {
    self.count = count
    var sizes: [Int] = []
    var bits = count
    repeat {
      let size = max(1, (bits + 63) / 64)
      sizes.append(size)
      bits = size
    } while bits > 1
    storage = MaskStorage(levelSizes: sizes, refcounts: refcounts ? count : 0)
    population = allSet ? count : 0
    guard allSet else { return }
    bits = count
    for (level, size) in sizes.enumerated() {
      let words = storage.words + storage.offsets[level]
      words.update(repeating: ~0, count: size)
      if bits % 64 != 0 { words[size - 1] = (UInt64(1) << UInt64(bits % 64)) - 1 }
      if bits == 0 { words[0] = 0 }
      bits = size
    }
  }

  /// Number of 64-bit words holding the frame bits.
  @inlinable public var wordCount: Int { storage.frameWords }

  /// The frame bits of word `index` (frames `64 * index ..< 64 * index + 64`).
  @inlinable public func word(_ index: Int) -> UInt64 {
    precondition(index >= 0 && index < wordCount, "word outside the mask")
    return storage.words[index]
  }

  @inlinable public func contains(_ frame: Int) -> Bool {
    word(frame >> 6) & (UInt64(1) << UInt64(frame & 63)) != 0
  }

  /// The lowest set bit: in the cursor's word when that is non-zero, else found level by level with
  /// trailing-zero counts. O(1) or O(levels).
  public var lowest: Int? {
    guard population > 0 else { return nil }
    let index = storage.words[firstCandidateWord] != 0 ? firstCandidateWord : storage.lowestNonZeroWord()
    return index * 64 + storage.words[index].trailingZeroBitCount
  }

  /// The lowest set bit at or after `frame`, or nil.
  public func next(from frame: Int) -> Int? {
    var position = frame
    while position < count {
      let wordIndex = position >> 6
      let word = word(wordIndex) & (~0 << UInt64(position & 63))
      if word != 0 { return wordIndex * 64 + word.trailingZeroBitCount }
      guard let nextWord = nextNonZeroWord(after: wordIndex) else { return nil }
      position = nextWord * 64
    }
    return nil
  }

  /// Finds the next non-zero level-0 word after `wordIndex` through the summaries.
  private func nextNonZeroWord(after wordIndex: Int) -> Int? {
    let levels = storage.levels
    let words = storage.words
    let offsets = storage.offsets
    guard levels > 1 else { return nil }
    var level = 1
    var index = wordIndex + 1
    // Climb until a summary word has a set bit at or after `index`.
    while true {
      if index >= storage.size(ofLevel: level - 1) { return nil }
      let summary = words[offsets[level] + (index >> 6)] & (~0 << UInt64(index & 63))
      if summary != 0 {
        index = (index >> 6) * 64 + summary.trailingZeroBitCount
        break
      }
      if level + 1 >= levels { return nil }
      index = (index >> 6) + 1
      level += 1
    }
    // Descend to level 0 taking the lowest set bit each time.
    while level > 1 {
      level -= 1
      index = index * 64 + words[offsets[level] + index].trailingZeroBitCount
    }
    return index
  }

  /// Sets bit `frame`, and its summary bits up the levels. O(levels).
  @inline(__always)
  public mutating func insert(_ frame: Int) {
    precondition(frame >= 0 && frame < count, "frame outside the mask")
    setBit(frame, in: uniqueStorage())
  }

  /// Clears bit `frame`, and its summary bits whose words empty. O(levels).
  @inline(__always)
  public mutating func remove(_ frame: Int) {
    precondition(frame >= 0 && frame < count, "frame outside the mask")
    changeBit(frame, to: false, in: uniqueStorage())
  }

  /// The mask as binary text, most significant frame first (frame 0 is the last character).
  public func binary(frames range: Range<Int>? = nil) -> String {
    let range = range ?? 0..<count
    var text = ""
    text.reserveCapacity(range.count)
    for frame in range.reversed() { text.append(contains(frame) ? "1" : "0") }
    return text
  }

  /// The mask as hex text, `0x` and `ceil(count / 4)` digits, most significant frame first.
  public func hex(frames range: Range<Int>? = nil) -> String {
    let range = range ?? 0..<count
    let digits = (range.count + 3) / 4
    var text = "0x"
    for d in stride(from: digits - 1, through: 0, by: -1) {
      var value = 0
      for bit in 0..<4 {
        let frame = range.lowerBound + d * 4 + bit
        if frame < range.upperBound && contains(frame) { value |= 1 << bit }
      }
      text.append(Character(String(value, radix: 16, uppercase: true)))
    }
    return text
  }

  // MARK: The pool's refcounts

  /// The refcounts of the frames, for a mask made with refcounts.
  @usableFromInline var refcounts: Refcounts { Refcounts(storage: storage, count: storage.refcountCount) }

  /// Frame `frame`'s refcount (`0 <= frame < count`).
  @inline(__always)
  func refcount(_ frame: Int) -> Int32 {
    precondition(frame >= 0 && frame < storage.refcountCount, "frame outside the refcounts")
    return storage.refcounts[frame]
  }

  /// Sets frame `frame`'s refcount to `value`, and its free bit when `free` says so (`nil` leaves
  /// the bit). One check for sharing, none when the caller passes the storage it made unique
  /// (`uniqueStorage()`). O(levels).
  @inline(__always)
  mutating func setRefcount(_ frame: Int, _ value: Int32, free: Bool? = nil, in unique: UniqueStorage? = nil)
  {
    precondition(frame >= 0 && frame < storage.refcountCount, "frame outside the refcounts")
    assert(unique == nil || unique?.words == storage.words, "pointers of a storage the mask no longer has")
    let unique = unique ?? uniqueStorage()
    unique.refcounts[frame] = value
    switch free {
    case true?: setBit(frame, in: unique)
    case false?: changeBit(frame, to: false, in: unique)
    case nil: break
    }
  }

  /// Clears the lowest set bit and sets its frame's refcount to 1: an allocation, with one check for
  /// sharing (none when the caller passes the storage it made unique). Returns the frame and the frame
  /// word that held it as it was before. O(1) while the cursor's word has bits left, else O(levels).
  @inline(__always)
  mutating func allocateLowest(in unique: UniqueStorage?) -> (frame: Int, wordBefore: UInt64)? {
    assert(storage.refcountCount == count, "an allocation sets a refcount: a pool's mask has them")
    assert(unique == nil || unique?.words == storage.words, "pointers of a storage the mask no longer has")
    var index = firstCandidateWord
    if (unique?.words ?? storage.words)[index] == 0 {
      guard population > 0 else { return nil }
      index = storage.lowestNonZeroWord()
      firstCandidateWord = index
    }
    let unique = unique ?? uniqueStorage()
    let taken = takeLowest(inWord: index, in: unique)
    // The refcount after the bits: written last, it is the value a free that follows reads (in a
    // register, not from memory).
    unique.refcounts[taken.frame] = 1
    return taken
  }

  // MARK: Storage

  /// Copies the storage when a snapshot shares it, and returns its pointers, read once. They are valid
  /// only until the mask is next copied or its storage replaced, so they are never stored: a caller
  /// holds them through a run of operations that cannot copy the mask, and its writes need no check.
  /// Reads and writes through the same pointers let the compiler keep a value it wrote in a register
  /// (an allocation's refcount for the free that follows); read from the storage object again after a
  /// write, the pointers could have changed as far as it knows, and every value is read from memory
  /// again.
  @inline(__always)
  mutating func uniqueStorage() -> UniqueStorage {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    return UniqueStorage(
      words: storage.words, offsets: storage.offsets, levels: storage.levels, refcounts: storage.refcounts)
  }

  /// Clears the lowest set bit of frame word `index`, the lowest non-zero one, in storage already
  /// unique. A summary bit is cleared only when its word empties. (Not through `changeBit`: reading the
  /// word again there made an alloc + free pair about 10% slower.)
  @inline(__always)
  private mutating func takeLowest(inWord wordIndex: Int, in unique: UniqueStorage) -> (
    frame: Int, wordBefore: UInt64
  ) {
    population &-= 1
    let words = unique.words
    var index = wordIndex
    let before = words[index]
    let frame = index &* 64 &+ before.trailingZeroBitCount
    let offsets = unique.offsets
    var after = before & (before &- 1)
    words[index] = after
    // An emptied word clears its bit in the level above, and so on up.
    var level = 1
    while after == 0 && level < unique.levels {
      let position = offsets[level] &+ index &>> 6
      after = words[position] & ~(UInt64(1) &<< UInt64(index & 63))
      words[position] = after
      index &>>= 6
      level &+= 1
    }
    return (frame, before)
  }

  /// Sets bit `frame` and its summaries, in storage already unique, and moves the cursor down to its
  /// word when it is lower.
  @inline(__always)
  private mutating func setBit(_ frame: Int, in unique: UniqueStorage) {
    changeBit(frame, to: true, in: unique)
    firstCandidateWord = min(firstCandidateWord, frame &>> 6)
  }

  /// Gives bit `frame` the value `set`; a summary bit changes with it only when its word of the level
  /// below goes from empty or to empty. Level 0 begins at word 0, so its word is found without reading
  /// an offset (reading `offsets[0]` made an alloc + free pair about 10% slower).
  @inline(__always)
  private mutating func changeBit(_ frame: Int, to set: Bool, in unique: UniqueStorage) {
    let words = unique.words
    let offsets = unique.offsets
    var index = frame
    var position = index &>> 6
    var level = 0
    while true {
      let bit = UInt64(1) &<< UInt64(index & 63)
      let before = words[position]
      if (before & bit != 0) == set { return }
      let after = set ? before | bit : before & ~bit
      words[position] = after
      if level == 0 { population = set ? population &+ 1 : population &- 1 }
      if (set ? before : after) != 0 { return }
      index &>>= 6
      level &+= 1
      guard level < unique.levels else { return }
      position = offsets[level] &+ index &>> 6
    }
  }
}

extension FreeBitmask: Equatable {
  /// Equal when they hold the same bits (and the same refcounts).
  public static func == (lhs: FreeBitmask, rhs: FreeBitmask) -> Bool {
    lhs.count == rhs.count && lhs.population == rhs.population
      && (lhs.storage === rhs.storage || lhs.storage.hasSameContent(as: rhs.storage))
  }
}

/// A mask's storage made unique, as pointers read once (`FreeBitmask.uniqueStorage()`).
@usableFromInline struct UniqueStorage {
  let words: UnsafeMutablePointer<UInt64>
  let offsets: UnsafeMutablePointer<Int>
  let levels: Int
  let refcounts: UnsafeMutablePointer<Int32>
}

/// A pool's refcounts, read in place in its mask's storage.
public struct Refcounts: RandomAccessCollection, Sendable {
  @usableFromInline let storage: MaskStorage
  public let count: Int

  @usableFromInline init(storage: MaskStorage, count: Int) {
    self.storage = storage
    self.count = count
  }

  public var startIndex: Int { 0 }
  public var endIndex: Int { count }

  @inlinable public subscript(frame: Int) -> Int32 {
    precondition(frame >= 0 && frame < count, "frame outside the refcounts")
    return storage.refcounts[frame]
  }
}

/// The memory of a mask: every level's words in one block (level 0, the frame bits, first), where
/// each level starts, and the refcounts. Written only through a mask that holds the one reference to
/// it, which is what makes sharing it between threads safe.
@usableFromInline final class MaskStorage: @unchecked Sendable {
  let levels: Int
  let offsets: UnsafeMutablePointer<Int>
  let wordTotal: Int
  /// Number of words of level 0 (the frame bits).
  @usableFromInline let frameWords: Int
  @usableFromInline let words: UnsafeMutablePointer<UInt64>
  let refcountCount: Int
  @usableFromInline let refcounts: UnsafeMutablePointer<Int32>

  /// Zeroed storage for levels of these sizes (level 0 first) and `refcounts` refcounts.
  init(levelSizes: [Int], refcounts: Int) {
    levels = levelSizes.count
    offsets = .allocate(capacity: levels)
    var total = 0
    for (level, size) in levelSizes.enumerated() {
      offsets[level] = total
      total += size
    }
    wordTotal = total
    frameWords = levelSizes[0]
    words = .allocate(capacity: total)
    words.initialize(repeating: 0, count: total)
    refcountCount = refcounts
    self.refcounts = .allocate(capacity: refcounts)
    self.refcounts.initialize(repeating: 0, count: refcounts)
  }

  private init(copying other: MaskStorage) {
    levels = other.levels
    offsets = .allocate(capacity: levels)
    offsets.initialize(from: other.offsets, count: levels)
    wordTotal = other.wordTotal
    frameWords = other.frameWords
    words = .allocate(capacity: wordTotal)
    words.initialize(from: other.words, count: wordTotal)
    refcountCount = other.refcountCount
    refcounts = .allocate(capacity: refcountCount)
    refcounts.initialize(from: other.refcounts, count: refcountCount)
  }

  deinit {
    offsets.deallocate()
    words.deallocate()
    refcounts.deallocate()
  }

  /// A copy of everything. O(words + refcounts).
  func copy() -> MaskStorage { MaskStorage(copying: self) }

  /// Number of words in `level`.
  func size(ofLevel level: Int) -> Int {
    (level + 1 < levels ? offsets[level + 1] : wordTotal) - offsets[level]
  }

  /// The index of the lowest non-zero frame word of a non-empty mask, found by one walk down the
  /// summary levels. O(levels).
  ///
  /// Unchecked reads and arithmetic: with a set bit in the mask the top word is non-zero, and each
  /// set summary bit names a non-zero word of the level below, so every index read is in its level.
  func lowestNonZeroWord() -> Int {
    var index = 0
    var level = levels
    while level > 1 {
      level &-= 1
      index = index &* 64 &+ words[offsets[level] &+ index].trailingZeroBitCount
    }
    return index
  }

  func hasSameContent(as other: MaskStorage) -> Bool {
    wordTotal == other.wordTotal && refcountCount == other.refcountCount
      && (0..<wordTotal).allSatisfy { words[$0] == other.words[$0] }
      && (0..<refcountCount).allSatisfy { refcounts[$0] == other.refcounts[$0] }
  }
}
