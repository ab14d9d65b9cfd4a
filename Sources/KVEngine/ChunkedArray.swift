/// An array kept in chunks of a fixed power-of-two size, each copied on its own write: a copy of the
/// array shares every chunk, and a write after a copy copies the one chunk it touches (and the short
/// table of chunks). This is what makes a snapshot of a large state cheap when a step changes only a
/// few of its elements. Read, write and append: O(1).
public struct ChunkedArray<Element>: RandomAccessCollection, MutableCollection {
  private var chunks: [[Element]] = []
  /// log2 of the elements a chunk holds.
  private let shift: Int
  public private(set) var count = 0

  /// An empty array whose chunks hold `1 << chunkShift` elements.
  public init(chunkShift: Int = 6) {
    shift = chunkShift
  }

  /// The elements of `elements`, in order. O(n).
  public init<S: Sequence>(_ elements: S, chunkShift: Int = 6) where S.Element == Element {
    self.init(chunkShift: chunkShift)
    for element in elements { append(element) }
  }

  public var startIndex: Int { 0 }
  public var endIndex: Int { count }

  public subscript(index: Int) -> Element {
    _read { yield chunks[index >> shift][index & (1 << shift - 1)] }
    _modify { yield &chunks[index >> shift][index & (1 << shift - 1)] }
  }

  /// Asks the processor to bring element `index` into its cache (a hint; nothing outside the array).
  @inline(__always)
  func prefetch(_ index: Int) {
    guard index >= 0 && index < count else { return }
    chunks[index >> shift].prefetch(index & (1 << shift - 1))
  }

  /// Adds `element` at the end. O(1).
  public mutating func append(_ element: Element) {
    if count & (1 << shift - 1) == 0 {
      chunks.append([])
      chunks[chunks.count - 1].reserveCapacity(1 << shift)
    }
    chunks[chunks.count - 1].append(element)
    count += 1
  }
}

extension ChunkedArray: Sendable where Element: Sendable {}

extension ChunkedArray: Equatable where Element: Equatable {
  public static func == (lhs: ChunkedArray, rhs: ChunkedArray) -> Bool {
    lhs.elementsEqual(rhs)
  }
}
