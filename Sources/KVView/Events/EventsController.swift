import KVScenario

/// The events view's behaviour: a recorded KV event stream, one batch at a time, with jumps to the
/// batches that store, remove or clear blocks. Pure: no terminal, so tests drive it directly.
public struct EventsController: Sendable {
  public let history: KVEventHistory
  /// The file the stream came from, as named on the command line.
  public let file: String
  /// The batch shown (an index into the stream's batches).
  public private(set) var batch = 0
  /// The first row of the prefix tree shown.
  public private(set) var treeScroll = 0
  /// Whether runs of single-child blocks show as one row.
  public private(set) var folded = true
  public var showHelp = false
  /// The result of the last key.
  public var message: StatusMessage?
  /// Box-drawing and block characters allowed (a UTF-8 locale).
  public var unicode = true

  /// Shows `history` at its first batch.
  public init(history: KVEventHistory, file: String) {
    self.history = history
    self.file = file
  }

  /// The number of batches.
  public var count: Int { history.stream.batches.count }

  /// Shows batch `index` (clamped to the stream), the tree scrolled to its top.
  public mutating func show(batch index: Int) {
    batch = max(0, min(index, count - 1))
    treeScroll = 0
  }

  /// Reacts to one key as the key table says; with the help overlay open, keys only close it (and `q`
  /// still quits).
  public mutating func handle(_ key: Key) -> [ControllerEffect] {
    guard let action = EventsKeyMap.action(for: key) else { return [] }
    if showHelp {
      switch action {
      case .quit: return [.quit]
      case .openHelp, .closeHelp: showHelp = false
      default: break
      }
      return []
    }
    message = nil
    return perform(action)
  }

  private mutating func perform(_ action: EventsAction) -> [ControllerEffect] {
    switch action {
    case .nextBatch: step(forward: true)
    case .previousBatch: step(forward: false)
    case .nextStore: jump(forward: true, to: "stores") { $0.storedBlocks > 0 }
    case .previousStore: jump(forward: false, to: "stores") { $0.storedBlocks > 0 }
    case .nextRemoval: jump(forward: true, to: "removes") { $0.removedBlocks > 0 }
    case .previousRemoval: jump(forward: false, to: "removes") { $0.removedBlocks > 0 }
    case .nextClear: jump(forward: true, to: "clears the cache") { $0.cleared }
    case .previousClear: jump(forward: false, to: "clears the cache") { $0.cleared }
    case .firstBatch: show(batch: 0)
    case .lastBatch: show(batch: count - 1)
    case .scrollDown: scroll(by: 1)
    case .scrollUp: scroll(by: -1)
    case .pageDown: scroll(by: 10)
    case .pageUp: scroll(by: -10)
    case .toggleFolding:
      folded.toggle()
      treeScroll = 0
      message = StatusMessage(folded ? "runs of single-child blocks folded" : "every block on its own row")
    case .redraw: return [.redrawAll]
    case .openHelp: showHelp = true
    case .closeHelp: break
    case .quit: return [.quit]
    }
    return []
  }

  private mutating func step(forward: Bool) {
    let target = batch + (forward ? 1 : -1)
    guard target >= 0, target < count else {
      message = StatusMessage(forward ? "the last batch; g goes to the first" : "the first batch")
      return
    }
    show(batch: target)
  }

  /// To the next (previous) batch whose summary `matches`.
  private mutating func jump(forward: Bool, to what: String, _ matches: (KVEventHistory.BatchSummary) -> Bool)
  {
    let summaries = history.summaries
    let found =
      forward
      ? summaries.indices.first { $0 > batch && matches(summaries[$0]) }
      : summaries.indices.last { $0 < batch && matches(summaries[$0]) }
    guard let found else {
      message = StatusMessage("no batch \(forward ? "after" : "before") this one \(what)")
      return
    }
    show(batch: found)
  }

  /// Scrolls the tree, kept within its rows.
  private mutating func scroll(by rows: Int) {
    let total = PrefixTreeRows(tree: history.tree(after: batch), folded: folded).rows.count
    treeScroll = max(0, min(treeScroll + rows, total - 1))
  }

  /// The screen for the stream and the view.
  public func render(width: Int, height: Int) -> Grid {
    EventsScreen.render(self, width: width, height: height)
  }
}
