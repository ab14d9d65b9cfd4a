/// The prefix cache's index from page key to frame: an open-addressing hash table with linear probing.
/// Page keys are already well-mixed 64-bit hashes (and never 0), so a key's low bits pick its slot
/// directly, with none of the general dictionary's hashing per probe. A slot holds its key and frame
/// side by side, so that a probe of a large table waits on one cache line, not two.
public struct KeyIndex: Sendable, Sequence {
  struct Slot: Sendable {
    /// 0 marks an empty slot.
    var key: UInt64
    var value: Int32
  }

  private var slots: [Slot] = []
  /// Number of keys.
  public private(set) var count = 0

  public init() {}

  public var isEmpty: Bool { count == 0 }

  private var mask: Int { slots.count - 1 }

  /// The slot of `key`, or of the empty slot where it would go.
  private func slot(of key: UInt64) -> Int {
    var index = Int(truncatingIfNeeded: key) & mask
    while slots[index].key != 0 && slots[index].key != key { index = (index + 1) & mask }
    return index
  }

  /// The frame indexed under `key`; setting nil removes it.
  public subscript(key: UInt64) -> Int32? {
    get {
      guard count > 0, key != 0 else { return nil }
      let index = slot(of: key)
      return slots[index].key == key ? slots[index].value : nil
    }
    set {
      precondition(key != 0, "page keys are never 0")
      if let value = newValue { insert(key, value) } else { remove(key) }
    }
  }

  /// Asks the processor to bring the home slot of `key` into its cache ahead of a lookup (a hint).
  @inline(__always)
  func prefetch(_ key: UInt64) {
    if !slots.isEmpty { slots.prefetch(Int(truncatingIfNeeded: key) & mask) }
  }

  private mutating func insert(_ key: UInt64, _ value: Int32) {
    if (count + 1) * 2 > slots.count { grow() }
    let index = slot(of: key)
    if slots[index].key != key {
      slots[index].key = key
      count += 1
    }
    slots[index].value = value
  }

  /// Removes `key` and shifts back the keys after it that probed past its slot (no tombstones).
  private mutating func remove(_ key: UInt64) {
    guard count > 0 else { return }
    var hole = slot(of: key)
    guard slots[hole].key == key else { return }
    slots[hole].key = 0
    count -= 1
    var index = (hole + 1) & mask
    while slots[index].key != 0 {
      let home = Int(truncatingIfNeeded: slots[index].key) & mask
      // Move the key into the hole when its home slot is not between the hole and where it sits.
      let distanceFromHome = (index - home) & mask
      let distanceFromHole = (index - hole) & mask
      if distanceFromHome >= distanceFromHole {
        slots[hole] = slots[index]
        slots[index].key = 0
        hole = index
      }
      index = (index + 1) & mask
    }
  }

  private mutating func grow() {
    let old = slots
    slots = [Slot](repeating: Slot(key: 0, value: 0), count: Swift.max(16, slots.count * 2))
    count = 0
    for slot in old where slot.key != 0 { insert(slot.key, slot.value) }
  }

  /// The (key, frame) pairs, in no particular order.
  public func makeIterator() -> some IteratorProtocol<(key: UInt64, value: Int32)> {
    slots.lazy.filter { $0.key != 0 }.map { (key: $0.key, value: $0.value) }.makeIterator()
  }
}

extension KeyIndex: Equatable {
  /// Equal when they index the same keys to the same frames, whatever their layout.
  public static func == (lhs: KeyIndex, rhs: KeyIndex) -> Bool {
    lhs.count == rhs.count && lhs.allSatisfy { rhs[$0.key] == $0.value }
  }
}
