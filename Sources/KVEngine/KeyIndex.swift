/// The prefix cache's index from page key to frame: an open-addressing hash table with linear probing.
/// Page keys are already well-mixed 64-bit hashes (and never 0), so a key's low bits pick its slot
/// directly, with none of the general dictionary's hashing per probe.
public struct KeyIndex: Sendable, Sequence {
  /// 0 marks an empty slot.
  private var keys: [UInt64] = []
  private var values: [Int32] = []
  /// Number of keys.
  public private(set) var count = 0

  public init() {}

  public var isEmpty: Bool { count == 0 }

  private var mask: Int { keys.count - 1 }

  /// The slot of `key`, or of the empty slot where it would go.
  private func slot(of key: UInt64) -> Int {
    var index = Int(truncatingIfNeeded: key) & mask
    while keys[index] != 0 && keys[index] != key { index = (index + 1) & mask }
    return index
  }

  /// The frame indexed under `key`; setting nil removes it.
  public subscript(key: UInt64) -> Int32? {
    get {
      guard count > 0, key != 0 else { return nil }
      let index = slot(of: key)
      return keys[index] == key ? values[index] : nil
    }
    set {
      precondition(key != 0, "page keys are never 0")
      if let value = newValue { insert(key, value) } else { remove(key) }
    }
  }

  private mutating func insert(_ key: UInt64, _ value: Int32) {
    if (count + 1) * 2 > keys.count { grow() }
    let index = slot(of: key)
    if keys[index] != key {
      keys[index] = key
      count += 1
    }
    values[index] = value
  }

  /// Removes `key` and shifts back the keys after it that probed past its slot (no tombstones).
  private mutating func remove(_ key: UInt64) {
    guard count > 0 else { return }
    var hole = slot(of: key)
    guard keys[hole] == key else { return }
    keys[hole] = 0
    count -= 1
    var index = (hole + 1) & mask
    while keys[index] != 0 {
      let home = Int(truncatingIfNeeded: keys[index]) & mask
      // Move the key into the hole when its home slot is not between the hole and where it sits.
      let distanceFromHome = (index - home) & mask
      let distanceFromHole = (index - hole) & mask
      if distanceFromHome >= distanceFromHole {
        keys[hole] = keys[index]
        values[hole] = values[index]
        keys[index] = 0
        hole = index
      }
      index = (index + 1) & mask
    }
  }

  private mutating func grow() {
    let oldKeys = keys
    let oldValues = values
    let capacity = Swift.max(16, keys.count * 2)
    keys = [UInt64](repeating: 0, count: capacity)
    values = [Int32](repeating: 0, count: capacity)
    count = 0
    for index in oldKeys.indices where oldKeys[index] != 0 { insert(oldKeys[index], oldValues[index]) }
  }

  /// The (key, frame) pairs, in no particular order.
  public func makeIterator() -> some IteratorProtocol<(key: UInt64, value: Int32)> {
    zip(keys, values).lazy.filter { $0.0 != 0 }.map { (key: $0.0, value: $0.1) }.makeIterator()
  }
}

extension KeyIndex: Equatable {
  /// Equal when they index the same keys to the same frames, whatever their layout.
  public static func == (lhs: KeyIndex, rhs: KeyIndex) -> Bool {
    lhs.count == rhs.count && lhs.allSatisfy { rhs[$0.key] == $0.value }
  }
}
