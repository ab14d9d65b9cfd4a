/// What a key asks the events view to do.
enum EventsAction: CaseIterable, Sendable {
  case nextBatch, previousBatch
  /// To the next or previous batch that stores, removes or clears blocks.
  case nextStore, previousStore
  case nextRemoval, previousRemoval
  case nextClear, previousClear
  case firstBatch, lastBatch
  /// Scroll the prefix tree by a row, or by a page.
  case scrollDown, scrollUp, pageDown, pageUp
  /// Fold or unfold the runs of single-child blocks in the tree.
  case toggleFolding
  case redraw
  case openHelp, closeHelp
  case quit
}

/// One entry of the events view's key table: its help row, its bindings and its hint.
struct EventsKeyEntry: Sendable {
  /// The keys as the help overlay writes them.
  let keysText: String
  /// What the keys do, as the help overlay writes it.
  let description: String
  let bindings: [(keys: [Key], action: EventsAction)]
  let hint: Hint?

  init(
    _ keysText: String, _ description: String, _ bindings: (keys: [Key], action: EventsAction)...,
    hint: Hint? = nil
  ) {
    self.keysText = keysText
    self.description = description
    self.bindings = bindings
    self.hint = hint
  }
}

/// The events view's keys, in the order of the help overlay. The key handler, the help overlay and the
/// hint bar all read this table.
enum EventsKeyMap {
  static let entries: [EventsKeyEntry] = [
    EventsKeyEntry(
      "→ ← / l h", "next/previous batch", ([.right, .character("l")], .nextBatch),
      ([.left, .character("h")], .previousBatch), hint: Hint("←/→ batch", priority: 0)),
    EventsKeyEntry(
      "s / S", "next/previous batch that stores", ([.character("s")], .nextStore),
      ([.character("S")], .previousStore), hint: Hint("s/S store", priority: 1)),
    EventsKeyEntry(
      "r / R", "next/previous batch that removes", ([.character("r")], .nextRemoval),
      ([.character("R")], .previousRemoval), hint: Hint("r/R removal", priority: 1)),
    EventsKeyEntry(
      "c / C", "next/previous AllBlocksCleared", ([.character("c")], .nextClear),
      ([.character("C")], .previousClear), hint: Hint("c/C clear", priority: 3)),
    EventsKeyEntry("g / Home", "first batch", ([.character("g"), .home], .firstBatch)),
    EventsKeyEntry("G / End", "last batch", ([.character("G"), .end], .lastBatch)),
    EventsKeyEntry(
      "↓ ↑ / j k", "scroll the prefix tree", ([.down, .character("j")], .scrollDown),
      ([.up, .character("k")], .scrollUp), hint: Hint("↑/↓ scroll", priority: 2)),
    EventsKeyEntry("PgDn / PgUp", "scroll the tree a page", ([.pageDown], .pageDown), ([.pageUp], .pageUp)),
    EventsKeyEntry(
      "f", "fold/unfold single-child runs", ([.character("f")], .toggleFolding),
      hint: Hint("f fold", priority: 3)),
    EventsKeyEntry("Ctrl-L", "redraw", ([.control("l")], .redraw)),
    EventsKeyEntry(
      "?", "help", ([.character("?"), .function(1)], .openHelp), hint: Hint("? help", priority: 0)),
    EventsKeyEntry("Esc", "close help", ([.escape], .closeHelp)),
    EventsKeyEntry(
      "q", "quit", ([.character("q"), .control("c")], .quit), hint: Hint("q quit", priority: 0)),
  ]

  /// The action of `key`, or nil when the table has none.
  static func action(for key: Key) -> EventsAction? {
    for entry in entries {
      for binding in entry.bindings where binding.keys.contains(key) { return binding.action }
    }
    return nil
  }

  /// The hints of the table, in its order.
  static var hints: [Hint] { entries.compactMap(\.hint) }

  /// The help overlay's rows.
  static var helpRows: [(keys: String, action: String)] { entries.map { ($0.keysText, $0.description) } }
}
