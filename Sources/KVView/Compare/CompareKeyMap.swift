/// What a key asks the compare view to do.
enum CompareAction: CaseIterable, Sendable {
  /// Every run to the start of the next or previous iteration.
  case iterationForward, iterationBack
  /// Every run to its next or previous phase, within the current iteration.
  case phaseForward, phaseBack
  /// The focused run alone, one step.
  case stepForward, stepBack
  case nextRun, previousRun
  case nextDivergence, previousDivergence
  case firstIteration, end
  case redraw
  case openHelp, closeHelp
  case quit
}

/// Keys that perform one action of the compare view.
struct CompareBinding: Sendable {
  let keys: [Key]
  let action: CompareAction

  init(_ keys: [Key], _ action: CompareAction) {
    self.keys = keys
    self.action = action
  }
}

/// One entry of the compare view's key table: its help row, the bindings it documents and the hint it
/// adds to the hint bar.
struct CompareKeyEntry: Sendable {
  /// The keys as the help overlay writes them.
  let keysText: String
  /// What the keys do, as the help overlay writes it.
  let description: String
  let bindings: [CompareBinding]
  let hint: Hint?

  init(_ keysText: String, _ description: String, _ bindings: CompareBinding..., hint: Hint? = nil) {
    self.keysText = keysText
    self.description = description
    self.bindings = bindings
    self.hint = hint
  }
}

/// The compare view's keys, in the order of the help overlay. The key handler, the help overlay and
/// the hint bar all read this table.
enum CompareKeyMap {
  static let entries: [CompareKeyEntry] = [
    CompareKeyEntry(
      "] [ / PgDn PgUp", "next/previous iteration, all runs",
      CompareBinding([.character("]"), .pageDown], .iterationForward),
      CompareBinding([.character("["), .pageUp], .iterationBack), hint: Hint("[/] iter", priority: 1)),
    CompareKeyEntry(
      "↓ ↑ / j k", "next/previous phase, all runs", CompareBinding([.down, .character("j")], .phaseForward),
      CompareBinding([.up, .character("k")], .phaseBack), hint: Hint("j/k phase", priority: 2)),
    CompareKeyEntry(
      "→ ← / l h", "next/previous step, focused run",
      CompareBinding([.right, .character("l")], .stepForward),
      CompareBinding([.left, .character("h")], .stepBack), hint: Hint("←/→ step", priority: 3)),
    CompareKeyEntry(
      "Tab/Shift-Tab", "focus the next/previous run", CompareBinding([.tab], .nextRun),
      CompareBinding([.backTab], .previousRun), hint: Hint("Tab run", priority: 4)),
    CompareKeyEntry(
      "n / N", "next/previous divergence", CompareBinding([.character("n")], .nextDivergence),
      CompareBinding([.character("N")], .previousDivergence), hint: Hint("n/N divergence", priority: 0)),
    CompareKeyEntry(
      "g / Home", "first iteration", CompareBinding([.character("g"), .home], .firstIteration)),
    CompareKeyEntry("G / End", "end of the runs", CompareBinding([.character("G"), .end], .end)),
    CompareKeyEntry("Ctrl-L", "redraw", CompareBinding([.control("l")], .redraw)),
    CompareKeyEntry(
      "?", "help", CompareBinding([.character("?"), .function(1)], .openHelp),
      hint: Hint("? help", priority: 0)),
    CompareKeyEntry("Esc", "close help", CompareBinding([.escape], .closeHelp)),
    CompareKeyEntry(
      "q", "quit", CompareBinding([.character("q"), .control("c")], .quit), hint: Hint("q quit", priority: 0)),
  ]

  static var bindings: [CompareBinding] { entries.flatMap(\.bindings) }

  /// The action of `key`, or nil when the table has none.
  static func action(for key: Key) -> CompareAction? {
    bindings.first { $0.keys.contains(key) }?.action
  }

  /// The hints of the table, in its order.
  static var hints: [Hint] { entries.compactMap(\.hint) }

  /// The help overlay's rows.
  static var helpRows: [(keys: String, action: String)] { entries.map { ($0.keysText, $0.description) } }
}
