import Synchronization

/// The page keys of whole prompt blocks, by the key of the page before the block and the block's id:
/// requests that share a prefix of blocks share these keys, so such a block is hashed once. A cache of
/// a pure function, shared by the copies of a run's state and safe to use from several threads; it
/// keeps the last 16,384 to 32,768 blocks stored (on the Mooncake trace with pages of 16 tokens, 16 to
/// 19 MB more at a run's peak).
///
/// In a long run it is also filled ahead of the run, on another thread (`warm`): the blocks of the
/// requests about to be admitted are hashed there while the run steps here.
public final class BlockKeyMemo: Sendable {
  struct Key: Hashable, Sendable {
    var parent: UInt64
    var block: Int
    var blockSize: Int
    var pageSize: Int
  }

  /// Two generations: a full current one becomes the previous one, and the previous one is dropped.
  private let generations = Mutex<(current: [Key: [UInt64]], previous: [Key: [UInt64]])>(([:], [:]))
  private static let generationSize = 16_384
  /// The furthest place in arrival order of a request whose prompt keys the run asked for (-1 before
  /// the first; `Int.max` once the run is over).
  private let askedPlace = Atomic<Int>(-1)
  /// True once a warming task has started.
  private let warming = Atomic<Bool>(false)

  public init() {}

  /// The keys stored under `key`, or nil; storing a key's keys keeps them for a while.
  subscript(key: Key) -> [UInt64]? {
    get {
      generations.withLock { generations in
        if let keys = generations.current[key] { return keys }
        guard let keys = generations.previous[key] else { return nil }
        generations.current[key] = keys
        return keys
      }
    }
    set {
      generations.withLock { generations in
        if generations.current.count >= Self.generationSize {
          generations.previous = generations.current
          generations.current = [:]
        }
        generations.current[key] = newValue
      }
    }
  }

  /// The run asks for the prompt keys of the request at `place` in arrival order: warming keeps up to
  /// `warmingLead` requests ahead of the furthest one.
  @inline(__always)
  func noteAsked(place: Int) {
    if place > askedPlace.load(ordering: .relaxed) { askedPlace.max(place, ordering: .relaxed) }
  }

  /// The run is over: warming stops.
  func noteRunOver() { askedPlace.store(.max, ordering: .relaxed) }

  /// Requests that warming hashes ahead of the furthest one the run asked for, in arrival order: few
  /// enough that their blocks stay stored until the run asks (32 requests of a few hundred blocks at
  /// most, against the 16,384 blocks of a generation).
  static let warmingLead = 32

  /// Starts hashing, on another thread, the whole prompt blocks of `requests` (those with block
  /// prompts whose blocks hold whole pages of `pageSize` tokens), in arrival `order`, up to
  /// `warmingLead` requests ahead of the furthest one the run asked for, skipping those it has passed.
  /// Once per memo; the task ends with the last request, when the run is over, or soon after the memo
  /// is gone. Keys are a pure function of the tokens, so a run's results are the same whichever thread
  /// hashed a block first.
  func warm(_ requests: [RequestSpec], order: [Int], pageSize: Int) {
    guard !warming.load(ordering: .relaxed),
      warming.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
    else { return }
    Task.detached(priority: .utility) { [weak self] in
      for (place, r) in order.enumerated() {
        guard case .blocks(_, let blockSize, let length) = requests[r].prompt,
          blockSize % pageSize == 0 && length >= blockSize
        else { continue }
        // Wait until the run is near, looking again after 0.2 ms, then less often up to every 20 ms
        // (a paused run, in the live view).
        var pause = Duration.microseconds(200)
        var asked = -1
        while true {
          guard let memo = self else { return }
          asked = memo.askedPlace.load(ordering: .relaxed)
          if place - Self.warmingLead <= asked { break }
          try? await Task.sleep(for: pause)
          pause = min(pause * 2, .milliseconds(20))
        }
        if asked == .max { return }
        guard place > asked, let memo = self else { continue }
        var keys: [UInt64] = []
        requests[r].extendPageKeys(
          &keys, to: length / blockSize * (blockSize / pageSize), pageSize: pageSize, memo: memo)
      }
    }
  }
}
