/// A doubly linked list of frame indices kept in arrays: O(1) append, remove and pop from the head.
public struct LRUList: Sendable, Equatable {
  /// The link of a frame outside the list.
  @usableFromInline static let absent: Int32 = -2
  /// Each frame's link toward the head (-1 at the head), or `absent`.
  @usableFromInline private(set) var previous: [Int32]
  private var following: [Int32]
  /// The least recently used frame, evicted first.
  public private(set) var head: Int32 = -1
  public private(set) var tail: Int32 = -1
  public private(set) var count = 0

  public init(capacity: Int) {
    previous = [Int32](repeating: LRUList.absent, count: capacity)
    following = [Int32](repeating: LRUList.absent, count: capacity)
  }

  /// True when `frame` is in the list. O(1); inlined into callers, such as the view's overview of a
  /// million frames, which asks for every frame.
  @inlinable public func contains(_ frame: Int) -> Bool { previous[frame] != LRUList.absent }

  /// Appends at the tail (most recently used).
  public mutating func append(_ frame: Int) {
    precondition(!contains(frame))
    let f = Int32(frame)
    previous[frame] = tail
    following[frame] = -1
    if tail >= 0 { following[Int(tail)] = f } else { head = f }
    tail = f
    count += 1
  }

  /// Inserts at the head (handed out or evicted first).
  public mutating func prepend(_ frame: Int) {
    precondition(!contains(frame))
    let f = Int32(frame)
    previous[frame] = -1
    following[frame] = head
    if head >= 0 { previous[Int(head)] = f } else { tail = f }
    head = f
    count += 1
  }

  /// Inserts right after `other`, which must be in the list.
  public mutating func insert(_ frame: Int, after other: Int) {
    precondition(!contains(frame) && contains(other))
    let f = Int32(frame)
    let next = following[other]
    previous[frame] = Int32(other)
    following[frame] = next
    following[other] = f
    if next >= 0 { previous[Int(next)] = f } else { tail = f }
    count += 1
  }

  public mutating func remove(_ frame: Int) {
    guard contains(frame) else { return }
    let p = previous[frame]
    let n = following[frame]
    if p >= 0 { following[Int(p)] = n } else { head = n }
    if n >= 0 { previous[Int(n)] = p } else { tail = p }
    previous[frame] = LRUList.absent
    following[frame] = LRUList.absent
    count -= 1
  }

  /// The frame after `frame` (toward the tail), or -1.
  public func next(after frame: Int) -> Int32 { contains(frame) ? following[frame] : -1 }

  /// Asks the processor to bring the links of `frame` into its cache (a hint).
  @inline(__always)
  func prefetch(_ frame: Int) {
    previous.prefetch(frame)
    following.prefetch(frame)
  }

  /// Removes and returns the head, or nil when empty.
  public mutating func popHead() -> Int? {
    guard head >= 0 else { return nil }
    let frame = Int(head)
    remove(frame)
    return frame
  }

  /// The frames from head (evicted first) to tail.
  public var frames: [Int] {
    var result: [Int] = []
    result.reserveCapacity(count)
    var cursor = head
    while cursor >= 0 {
      result.append(Int(cursor))
      cursor = following[Int(cursor)]
    }
    return result
  }
}
