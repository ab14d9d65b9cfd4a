/// A set of frame indices stored as 64-bit words, with summary levels so that finding the lowest set
/// bit never scans all words: each summary bit says whether a word of the level below is non-zero.
public struct FreeBitmask: Sendable, Equatable {
  /// Number of frames.
  public let count: Int
  /// All levels in one array: level 0 (the frame bits) first, then each summary level, in which bit j is
  /// set when word j of the level below is non-zero. One flat array keeps every update to one buffer.
  private var words: [UInt64]
  /// Where each level starts in `words`, and how many words it has.
  private let offsets: [Int]
  private let sizes: [Int]
  /// Number of set bits.
  public private(set) var population: Int

  /// A mask of `count` bits, all set (`(1 << count) - 1`) or all clear.
  public init(count: Int, allSet: Bool) {
    self.count = count
    var words: [UInt64] = []
    var offsets: [Int] = []
    var sizes: [Int] = []
    var bits = count
    repeat {
      let size = max(1, (bits + 63) / 64)
      var level = [UInt64](repeating: allSet ? ~0 : 0, count: size)
      if allSet, bits % 64 != 0 { level[size - 1] = (UInt64(1) << UInt64(bits % 64)) - 1 }
      if allSet, bits == 0 { level[0] = 0 }
      offsets.append(words.count)
      sizes.append(size)
      words += level
      bits = size
    } while bits > 1
    self.words = words
    self.offsets = offsets
    self.sizes = sizes
    population = allSet ? count : 0
  }

  /// Number of 64-bit words holding the frame bits.
  public var wordCount: Int { sizes[0] }

  /// The frame bits of word `index` (frames `64 * index ..< 64 * index + 64`).
  @inlinable public func word(_ index: Int) -> UInt64 { wordAt(index) }

  @usableFromInline func wordAt(_ index: Int) -> UInt64 { words[index] }

  public func contains(_ frame: Int) -> Bool {
    words[frame >> 6] & (UInt64(1) << UInt64(frame & 63)) != 0
  }

  /// The lowest set bit, found level by level with trailing-zero counts.
  ///
  /// Unchecked reads and arithmetic: with a set bit in the mask the top word is non-zero, and each
  /// set summary bit names a non-zero word of the level below, so every index read is in its level.
  @inline(__always)
  public var lowest: Int? {
    guard population > 0 else { return nil }
    return words.withUnsafeBufferPointer { words in
      offsets.withUnsafeBufferPointer { offsets in
        var index = 0
        var level = offsets.count
        while level > 0 {
          level &-= 1
          index = index &* 64 &+ words[offsets[level] &+ index].trailingZeroBitCount
        }
        return index
      }
    }
  }

  /// Clears the lowest set bit and returns it, with the frame word that held it as it was before.
  /// One walk down the levels finds the bit and clears it; a summary bit is cleared only when its word
  /// empties. O(levels).
  @inline(__always)
  public mutating func removeLowest() -> (frame: Int, wordBefore: UInt64)? {
    guard population > 0 else { return nil }
    population &-= 1
    let offsets = offsets
    return words.withUnsafeMutableBufferPointer { words in
      offsets.withUnsafeBufferPointer { offsets in
        var index = 0
        var level = offsets.count
        while level > 1 {
          level &-= 1
          index = index &* 64 &+ words[offsets[level] &+ index].trailingZeroBitCount
        }
        let before = words[index]
        let frame = index &* 64 &+ before.trailingZeroBitCount
        var after = before & (before &- 1)
        words[index] = after
        // An emptied word clears its bit in the level above, and so on up.
        level = 1
        while after == 0 && level < offsets.count {
          let position = offsets[level] &+ index &>> 6
          after = words[position] & ~(UInt64(1) &<< UInt64(index & 63))
          words[position] = after
          index &>>= 6
          level &+= 1
        }
        return (frame, before)
      }
    }
  }

  /// The lowest set bit at or after `frame`, or nil.
  public func next(from frame: Int) -> Int? {
    var position = frame
    while position < count {
      let wordIndex = position >> 6
      let word = words[wordIndex] & (~0 << UInt64(position & 63))
      if word != 0 { return wordIndex * 64 + word.trailingZeroBitCount }
      guard let nextWord = nextNonZeroWord(after: wordIndex) else { return nil }
      position = nextWord * 64
    }
    return nil
  }

  /// Finds the next non-zero level-0 word after `wordIndex` through the summaries.
  private func nextNonZeroWord(after wordIndex: Int) -> Int? {
    guard offsets.count > 1 else { return nil }
    var level = 1
    var index = wordIndex + 1
    // Climb until a summary word has a set bit at or after `index`.
    while true {
      if index >= sizes[level - 1] { return nil }
      let summary = words[offsets[level] + (index >> 6)] & (~0 << UInt64(index & 63))
      if summary != 0 {
        index = (index >> 6) * 64 + summary.trailingZeroBitCount
        break
      }
      if level + 1 >= offsets.count { return nil }
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

  @inline(__always)
  public mutating func insert(_ frame: Int) {
    var index = frame
    for level in offsets.indices {
      let position = offsets[level] + (index >> 6)
      let bit = UInt64(1) << UInt64(index & 63)
      let before = words[position]
      if before & bit != 0 { return }
      words[position] = before | bit
      if level == 0 { population += 1 }
      if before != 0 { return }
      index >>= 6
    }
  }

  @inline(__always)
  public mutating func remove(_ frame: Int) {
    var index = frame
    for level in offsets.indices {
      let position = offsets[level] + (index >> 6)
      let bit = UInt64(1) << UInt64(index & 63)
      let before = words[position]
      if before & bit == 0 { return }
      let after = before & ~bit
      words[position] = after
      if level == 0 { population -= 1 }
      if after != 0 { return }
      index >>= 6
    }
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
}
