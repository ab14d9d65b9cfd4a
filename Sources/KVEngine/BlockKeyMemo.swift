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
  /// The request whose prompt keys the run asked for last (-1 before the first).
  private let lastAsked = Atomic<Int>(-1)
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

  /// The run asks for the prompt keys of request `request`: warming keeps a few requests ahead of it.
  @inline(__always)
  func noteAsked(_ request: Int) { lastAsked.store(request, ordering: .relaxed) }

  /// Requests that warming hashes ahead of the last one the run asked for, in arrival order: few
  /// enough that their blocks stay stored until the run asks (32 requests of a few hundred blocks at
  /// most, against the 16,384 blocks of a generation).
  static let warmingLead = 32

  /// Starts hashing, on another thread, the whole prompt blocks of `requests` (those with block
  /// prompts whose blocks hold whole pages of `pageSize` tokens), in arrival `order`, at most
  /// `warmingLead` requests ahead of the one the run asked for last. Once per memo; the task ends with
  /// the last request, or soon after the memo is gone. Keys are a pure function of the tokens, so
  /// a run's results are the same whichever thread hashed a block first.
  func warm(_ requests: [RequestSpec], order: [Int], pageSize: Int) {
    guard !warming.load(ordering: .relaxed),
      warming.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
    else { return }
    Task.detached(priority: .utility) { [weak self] in
      var place = [Int](repeating: 0, count: requests.count)
      for (position, r) in order.enumerated() { place[r] = position }
      var asked = -1
      for (position, r) in order.enumerated() {
        guard case .blocks(_, let blockSize, let length) = requests[r].prompt,
          blockSize % pageSize == 0 && length >= blockSize
        else { continue }
        // Wait until the run is near, looking again after 0.2 ms, then less often up to every 20 ms
        // (a paused run, in the live view); skip a request that the run has already asked for.
        var pause = Duration.microseconds(200)
        while true {
          guard let last = self?.lastAsked.load(ordering: .relaxed) else { return }
          if last >= 0 { asked = max(asked, place[last]) }
          if position <= asked + Self.warmingLead { break }
          try? await Task.sleep(for: pause)
          pause = min(pause * 2, .milliseconds(20))
        }
        guard position > asked, let memo = self else { continue }
        var keys: [UInt64] = []
        requests[r].extendPageKeys(
          &keys, to: length / blockSize * (blockSize / pageSize), pageSize: pageSize, memo: memo)
      }
    }
  }
}
