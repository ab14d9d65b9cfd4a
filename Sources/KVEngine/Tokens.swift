/// Synthetic, deterministic tokens and page keys. No model runs: a token is a hash of where it is.
public enum Tokens {
  /// SplitMix64's finalizer: a cheap, well-mixed 64-bit hash.
  @inlinable
  public static func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A stable 64-bit hash of a string (FNV-1a), independent of the process (unlike `hashValue`).
  public static func seed(of text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
      hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    return hash
  }

  /// Vocabulary of synthetic tokens.
  public static let vocabulary: UInt64 = 50_000

  /// A token drawn from `seed` at `position`.
  @inlinable
  public static func synthetic(seed: UInt64, position: Int) -> Int32 {
    synthetic(seed: seed, positionHash: mix(UInt64(truncatingIfNeeded: position)))
  }

  /// A token drawn from `seed` at the position whose `mix` is `positionHash`.
  @inlinable
  public static func synthetic(seed: UInt64, positionHash: UInt64) -> Int32 {
    Int32(truncatingIfNeeded: mix(seed ^ positionHash) % vocabulary)
  }

  /// The seed of the tokens of prompt block `id` (equal ids, equal tokens).
  static func blockSeed(_ id: Int) -> UInt64 { mix(UInt64(truncatingIfNeeded: id) ^ 0xB10C) }

  /// The key of a page: a hash chained over the parent page's key and this page's tokens, so that the
  /// same tokens under another prefix or at another position give another key. Never 0.
  public static func pageKey(parent: UInt64, tokens: some Sequence<Int32>) -> UInt64 {
    var hash = pageKeyStart(parent: parent)
    for token in tokens { hash = pageKeyStep(hash, token) }
    return pageKeyEnd(hash)
  }

  /// `pageKey` one token at a time: the start from the parent's key, ...
  static func pageKeyStart(parent: UInt64) -> UInt64 { mix(parent ^ 0x5EED_0F_BA5E) }

  /// ... one step per token, ...
  static func pageKeyStep(_ hash: UInt64, _ token: Int32) -> UInt64 {
    mix(hash ^ UInt64(UInt32(bitPattern: token)))
  }

  /// ... and the key (never 0).
  static func pageKeyEnd(_ hash: UInt64) -> UInt64 { hash == 0 ? 1 : hash }
}

extension RequestSpec {
  /// The seed of this request's own synthetic tokens.
  public var tokenSeed: UInt64 { Tokens.seed(of: id) }

  /// Token at `position`: a prompt token below the prompt length, a generated token after it.
  public func token(at position: Int) -> Int32 {
    switch prompt {
    case .length(let n) where position < n:
      return Tokens.synthetic(seed: tokenSeed, position: position)
    case .tokens(let tokens) where position < tokens.count:
      return Int32(truncatingIfNeeded: tokens[position])
    case .blocks(let ids, let blockSize, let length) where position < length:
      return Tokens.synthetic(
        seed: Tokens.blockSeed(ids[position / blockSize]), position: position % blockSize)
    default:
      return Tokens.synthetic(seed: ~tokenSeed, position: position)
    }
  }

  /// Tokens `range` of the sequence.
  public func tokens(_ range: Range<Int>) -> [Int32] { range.map { token(at: $0) } }

  /// Extends `keys`, the keys of the sequence's first full pages, to the first `count`: each page's key
  /// is `Tokens.pageKey` chained on the one before, over the tokens `token(at:)` gives.
  ///
  /// With a `memo`, the keys of a whole prompt block that another request's prefix already had are
  /// taken from it rather than hashed again.
  ///
  /// - Complexity: O(tokens hashed): the seeds are computed once per call (and once per prompt block),
  ///   not at every token.
  public func extendPageKeys(_ keys: inout [UInt64], to count: Int, pageSize: Int, memo: BlockKeyMemo? = nil)
  {
    guard keys.count < count else { return }
    // Reserved only for a first call: a reservation grows the array to exactly `count`, so reserving
    // at every extension by a page would copy the whole array each time.
    if keys.isEmpty { keys.reserveCapacity(count) }
    let generatedSeed = ~tokenSeed
    switch prompt {
    case .length(let length):
      let seed = tokenSeed
      Tokens.chainPageKeys(&keys, to: count, pageSize: pageSize) { position in
        Tokens.synthetic(seed: position < length ? seed : generatedSeed, position: position)
      }
    case .tokens(let tokens):
      Tokens.chainPageKeys(&keys, to: count, pageSize: pageSize) { position in
        position < tokens.count
          ? Int32(truncatingIfNeeded: tokens[position])
          : Tokens.synthetic(seed: generatedSeed, position: position)
      }
    case .blocks(let ids, let blockSize, let length):
      var block = -1
      var seed: UInt64 = 0
      func token(_ position: Int) -> Int32 {
        guard position < length else { return Tokens.synthetic(seed: generatedSeed, position: position) }
        if position / blockSize != block {
          block = position / blockSize
          seed = Tokens.blockSeed(ids[block])
        }
        return Tokens.synthetic(seed: seed, position: position % blockSize)
      }
      // Whole blocks of the prompt go through the memo: their keys depend only on the key before them
      // and the block's id. The rest of a block begun by an earlier call is hashed first.
      if let memo, blockSize % pageSize == 0 {
        let pagesPerBlock = blockSize / pageSize
        while true {
          let index = keys.count / pagesPerBlock
          let end = (index + 1) * pagesPerBlock
          guard end <= count && (index + 1) * blockSize <= length else { break }
          let from = keys.count
          guard from == index * pagesPerBlock else {
            Tokens.chainPageKeys(&keys, to: end, pageSize: pageSize, token: token)
            continue
          }
          let key = BlockKeyMemo.Key(
            parent: keys.last ?? 0, block: ids[index], blockSize: blockSize, pageSize: pageSize)
          if let known = memo[key] {
            keys += known
          } else {
            Tokens.chainPageKeys(&keys, to: end, pageSize: pageSize, token: token)
            memo[key] = Array(keys[from...])
          }
        }
      }
      Tokens.chainPageKeys(&keys, to: count, pageSize: pageSize, token: token)
    }
  }
}

extension Tokens {
  /// Appends to `keys` the chained keys of the pages after those it holds, up to `count`, reading each
  /// token from `token`.
  @inline(__always)
  static func chainPageKeys(
    _ keys: inout [UInt64], to count: Int, pageSize: Int, token: (Int) -> Int32
  ) {
    var parent = keys.last ?? 0
    while keys.count < count {
      let start = keys.count * pageSize
      var hash = pageKeyStart(parent: parent)
      for position in start..<(start + pageSize) { hash = pageKeyStep(hash, token(position)) }
      parent = pageKeyEnd(hash)
      keys.append(parent)
    }
  }
}

/// SplitMix64: the same numbers from the same seed on every run and platform, for seeded benchmarks and
/// tests. Each number is `Tokens.mix` of the state, which then advances by SplitMix's constant.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  public var state: UInt64

  public init(state: UInt64) { self.state = state }

  public mutating func next() -> UInt64 {
    defer { state &+= 0x9E37_79B9_7F4A_7C15 }
    return Tokens.mix(state)
  }
}
