/// What a recorded event stream tells about an engine's prefix cache over time: after each batch,
/// the blocks resident (stored and not yet removed) with their parent links and token counts, and how
/// each store relates to what was cached. Pure values, computed from the stream alone.
///
/// Events name blocks by hash only: they carry no physical block ids, no refcounts and no request
/// ids. So the history knows which blocks are cached, not where they sit, who uses them, or which
/// request stored them; a prefix hit shows only where it can be inferred (``StoreContext``).
public struct KVEventHistory: Sendable {
  /// What is known of a block from the stores that named it (the latest store wins).
  public struct BlockFacts: Equatable, Sendable {
    public var parent: String?
    public var tokens: Int
    /// The first few token ids, when the events carry them.
    public var tokenIDs: [Int]
    /// Blocks from the start of its sequence to this one, and their tokens, as far as the stream
    /// shows the chain (`complete` is false when an ancestor was never stored in the stream).
    public var depth: Int
    public var cumulativeTokens: Int
    public var complete: Bool
    /// The batch (index) that first stored it.
    public var firstStored: Int
  }

  /// A block in the cache: how many copies are resident (vLLM keeps equal blocks apart) and the
  /// batch that stored it last.
  public struct Resident: Equatable, Sendable {
    public var copies: Int
    public var storedAt: Int
    /// The parent its first resident copy was stored under.
    public var parent: String?
  }

  /// The resident blocks at one moment, with the number of resident children of each parent.
  public struct CacheState: Equatable, Sendable {
    public var blocks: [String: Resident] = [:]
    public var children: [String: Int] = [:]
    /// Resident copies in all.
    public var copies = 0
  }

  /// How a store's chain met the cache, as far as events show it.
  public enum StoreContext: Equatable, Sendable {
    /// No parent: the chain starts a sequence.
    case root
    /// The parent chain (`blocks` blocks, `tokens` tokens) was resident: the storing request either
    /// found it cached (a prefix hit) or wrote it itself in an earlier step; events do not say which.
    case extends(blocks: Int, tokens: Int)
    /// The parent already had a resident child (another block, or a copy of the first one stored): at
    /// least two sequences share the parent chain of `blocks` blocks, so the storing request found it
    /// cached (a prefix hit).
    case branches(blocks: Int, tokens: Int)
    /// The parent is not resident: evicted earlier, or stored before the recording began.
    case detached(parent: String)
  }

  /// Counts of one batch, for the timeline.
  public struct BatchSummary: Equatable, Sendable {
    public var storedBlocks = 0
    public var removedBlocks = 0
    /// Removed hashes that were not resident (stored before the recording began, or a stream that
    /// disagrees with itself).
    public var unknownRemovals = 0
    public var cleared = false
    /// TensorRT-LLM's `created` and `updated` events.
    public var otherEvents = 0
    /// Resident copies after the batch.
    public var resident = 0
    /// Stores that extended or branched off a resident chain.
    public var extended = 0
    public var branched = 0
  }

  public let stream: KVEventStream
  public let summaries: [BatchSummary]
  /// Every block the stream stored.
  public let blocks: [String: BlockFacts]
  /// The state after every `checkpointInterval`-th batch, to rebuild any batch's state quickly.
  private let checkpoints: [CacheState]
  private static let checkpointInterval = 32

  /// Replays the whole stream once. Cost: O(events), and a copy of the state every 32 batches.
  public init(_ stream: KVEventStream) {
    self.stream = stream
    var facts: [String: BlockFacts] = [:]
    var state = CacheState()
    var summaries: [BatchSummary] = []
    var checkpoints: [CacheState] = []
    for (index, batch) in stream.batches.enumerated() {
      if index % Self.checkpointInterval == 0 { checkpoints.append(state) }
      var summary = BatchSummary()
      for event in batch.events {
        if case .stored(let stored) = event { Self.learn(stored, batch: index, into: &facts) }
        let applied = Self.apply(event, batch: index, to: &state, facts: facts)
        summary.unknownRemovals += applied.missing
        switch applied.context {
        case .branches?: summary.branched += 1
        case .extends?: summary.extended += 1
        default: break
        }
        switch event {
        case .stored(let s): summary.storedBlocks += s.hashes.count
        case .removed(let hashes, _): summary.removedBlocks += hashes.count
        case .cleared: summary.cleared = true
        case .created, .updated: summary.otherEvents += 1
        }
      }
      summary.resident = state.copies
      summaries.append(summary)
    }
    self.summaries = summaries
    self.blocks = facts
    self.checkpoints = checkpoints
  }

  /// Records what a store says of its blocks.
  private static func learn(_ stored: KVStoredBlocks, batch: Int, into facts: inout [String: BlockFacts]) {
    var parent = stored.parent
    for (i, hash) in stored.hashes.enumerated() {
      let tokens = stored.tokenCounts[i]
      let above = parent.flatMap { facts[$0] }
      let known = BlockFacts(
        parent: parent, tokens: tokens, tokenIDs: Array(stored.tokens[i].prefix(16)),
        depth: (above?.depth ?? 0) + 1, cumulativeTokens: (above?.cumulativeTokens ?? 0) + tokens,
        complete: parent == nil || (above?.complete ?? false), firstStored: facts[hash]?.firstStored ?? batch)
      facts[hash] = known
      parent = hash
    }
  }

  /// What applying an event found: how a store's chain met the cache, and removed hashes that were
  /// not resident.
  struct Applied {
    var context: StoreContext?
    var missing = 0
  }

  /// Applies one event to `state`.
  @discardableResult
  static func apply(_ event: KVEvent, batch: Int, to state: inout CacheState, facts: [String: BlockFacts])
    -> Applied
  {
    switch event {
    case .stored(let stored):
      let context = self.context(of: stored, in: state, facts: facts)
      var parent = stored.parent
      for hash in stored.hashes {
        var block = state.blocks[hash] ?? Resident(copies: 0, storedAt: batch, parent: parent)
        if block.copies == 0, let parent { state.children[parent, default: 0] += 1 }
        block.copies += 1
        block.storedAt = batch
        state.blocks[hash] = block
        state.copies += 1
        parent = hash
      }
      return Applied(context: context)
    case .removed(let hashes, _):
      return Applied(missing: hashes.filter { !remove($0, from: &state) }.count)
    case .cleared: state = CacheState()
    case .created, .updated: break
    }
    return Applied()
  }

  /// Removes one copy of `hash`; false when it was not resident.
  private static func remove(_ hash: String, from state: inout CacheState) -> Bool {
    guard var block = state.blocks[hash] else { return false }
    block.copies -= 1
    state.copies -= 1
    if block.copies > 0 {
      state.blocks[hash] = block
      return true
    }
    state.blocks[hash] = nil
    if let parent = block.parent {
      state.children[parent, default: 0] -= 1
      if state.children[parent] == 0 { state.children[parent] = nil }
    }
    return true
  }

  /// How `stored`'s chain meets the cache `state` (before the store).
  static func context(of stored: KVStoredBlocks, in state: CacheState, facts: [String: BlockFacts])
    -> StoreContext
  {
    guard let parent = stored.parent else { return .root }
    guard state.blocks[parent] != nil else { return .detached(parent: parent) }
    let above = facts[parent]
    let blocks = above?.depth ?? 1
    let tokens = above?.cumulativeTokens ?? 0
    // Another resident child, or a copy of the first block already resident: another sequence holds
    // the parent chain (one sequence never stores a block twice).
    let others = state.children[parent] ?? 0
    return others > 0 ? .branches(blocks: blocks, tokens: tokens) : .extends(blocks: blocks, tokens: tokens)
  }

  // MARK: Any batch

  /// The state after batch `index` (before the first batch for -1).
  public func state(after index: Int) -> CacheState {
    guard index >= 0, !stream.batches.isEmpty else { return CacheState() }
    let last = min(index, stream.batches.count - 1)
    let checkpoint = last / Self.checkpointInterval
    var state = checkpoints[checkpoint]
    for b in (checkpoint * Self.checkpointInterval)...last {
      for event in stream.batches[b].events { Self.apply(event, batch: b, to: &state, facts: blocks) }
    }
    return state
  }

  /// The resident hashes after batch `index`, with their copies.
  public func residentCounts(after index: Int) -> [String: Int] {
    state(after: index).blocks.mapValues(\.copies)
  }

  /// Each store of batch `index` with how its chain met the cache, in the batch's order.
  public func storeContexts(of index: Int) -> [StoreContext] {
    var state = self.state(after: index - 1)
    var contexts: [StoreContext] = []
    for event in stream.batches[index].events {
      if let context = Self.apply(event, batch: index, to: &state, facts: blocks).context {
        contexts.append(context)
      }
    }
    return contexts
  }

  /// The prefix tree after batch `index`: the resident blocks and those the batch removed (a copy of), each under
  /// its parent, children in the order they were first stored.
  public func tree(after index: Int) -> PrefixTree {
    PrefixTree(history: self, batch: index)
  }

  /// The deepest resident chain after batch `index`: blocks and tokens (0, 0 when the cache is empty).
  public func deepestChain(after index: Int) -> (blocks: Int, tokens: Int) {
    let state = self.state(after: index)
    var deepest = (blocks: 0, tokens: 0)
    for hash in state.blocks.keys {
      guard let facts = blocks[hash] else { continue }
      if facts.depth > deepest.blocks { deepest = (facts.depth, facts.cumulativeTokens) }
    }
    return deepest
  }
}

/// The cached blocks of one batch as a forest: each block under its parent, in pre-order.
public struct PrefixTree: Equatable, Sendable {
  /// One block of the tree.
  public struct Node: Equatable, Sendable {
    public var hash: String
    /// Levels below a root: 0 for a root.
    public var level: Int
    public var tokens: Int
    /// Tokens from the start of the sequence to the end of this block, as far as the stream shows.
    public var cumulativeTokens: Int
    /// Resident copies (0 for a block this batch removed and left with none).
    public var copies: Int
    public var children: Int
    public var storedNow: Bool
    public var removedNow: Bool
    /// A block whose parent is neither resident nor removed in this batch (nil parent: a root).
    public var detached: Bool
  }

  /// The nodes in pre-order.
  public var nodes: [Node]

  init(history: KVEventHistory, batch: Int) {
    let state = history.state(after: batch)
    var removed: Set<String> = []
    var stored: Set<String> = []
    if batch >= 0, batch < history.stream.batches.count {
      removed = Set(history.stream.batches[batch].removed.filter { history.blocks[$0] != nil })
      stored = Set(history.stream.batches[batch].stored)
    }
    let present = Set(state.blocks.keys).union(removed)
    var children: [String: [String]] = [:]
    var roots: [String] = []
    for hash in present {
      if let parent = history.blocks[hash]?.parent, present.contains(parent) {
        children[parent, default: []].append(hash)
      } else {
        roots.append(hash)
      }
    }
    func order(_ hashes: [String]) -> [String] {
      hashes.sorted {
        let a = history.blocks[$0]?.firstStored ?? 0
        let b = history.blocks[$1]?.firstStored ?? 0
        return a != b ? a < b : $0 < $1
      }
    }
    var nodes: [Node] = []
    var stack: [(String, Int)] = order(roots).reversed().map { ($0, 0) }
    while let (hash, level) = stack.popLast() {
      let facts = history.blocks[hash]
      let kids = order(children[hash] ?? [])
      nodes.append(
        Node(
          hash: hash, level: level, tokens: facts?.tokens ?? 0,
          cumulativeTokens: facts?.cumulativeTokens ?? 0,
          copies: state.blocks[hash]?.copies ?? 0, children: kids.count, storedNow: stored.contains(hash),
          removedNow: removed.contains(hash), detached: level == 0 && facts?.parent != nil))
      stack += kids.reversed().map { ($0, level + 1) }
    }
    self.nodes = nodes
  }
}
