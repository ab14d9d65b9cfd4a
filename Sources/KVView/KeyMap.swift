import KVEngine

/// What a key asks the live view to do.
enum ViewAction: CaseIterable, Sendable {
  case stepForward, stepBack
  case phaseForward, phaseBack
  case iterationForward, iterationBack
  /// Scroll the focused pane by a row.
  case scrollDown, scrollUp
  /// Scroll the focused pane by ten rows.
  case scrollPageDown, scrollPageUp
  case nextPreemption, previousPreemption
  /// To the next / previous step that changed the free mask, queue or LRU list.
  case nextFreeChange, previousFreeChange
  /// To the next / previous event of the kind `:next` or `:prev` chose.
  case nextChosenEvent, previousChosenEvent
  case togglePlay
  case faster, slower
  /// What one play tick advances: step, phase, iteration, in turn.
  case cyclePlayGranularity
  case seekStart, seekEnd
  /// Open the command line on `goto `.
  case goToStep
  case nextFinding, previousFinding
  case nextPane, previousPane
  case openCommandLine
  case zoomOut, zoomIn
  case panRight, panLeft
  case toggleRecording
  case redraw
  case openHelp
  /// Drop the highlighted request and the selected frame (`:find`, `:frame`).
  case clearSelection
  /// Quiz mode on or off (predict-then-reveal).
  case toggleQuiz
  /// In quiz mode: on to the next question.
  case nextQuestion
  case quit
}

/// When a binding applies or a hint shows.
enum KeyCondition: Sendable {
  case always
  case framesFocused
  /// Any pane but the frames.
  case otherPaneFocused
  case runHasPreemptions
  /// The frames panel is zoomed (`z`, `Z`, `:zoom`).
  case zoomed
  /// `:next` or `:prev` chose a kind of event.
  case eventKindChosen
  /// Quiz mode is on: `→` asks the next question.
  case quizzing
  /// Quiz mode is off: `→` steps.
  case notQuizzing

  func holds(_ view: ViewState, _ timeline: Timeline) -> Bool {
    switch self {
    case .always: true
    case .framesFocused: view.focus == .frames
    case .otherPaneFocused: view.focus != .frames
    case .runHasPreemptions: timeline.final.stats.preemptions > 0
    case .zoomed: view.zoom > 0
    case .eventKindChosen: view.eventKind != nil
    case .quizzing: view.quiz?.isOn == true
    case .notQuizzing: view.quiz?.isOn != true
    }
  }
}

/// Keys that perform one action when a condition holds.
struct KeyBinding: Sendable {
  let keys: [Key]
  let action: ViewAction
  let condition: KeyCondition

  init(_ keys: [Key], _ action: ViewAction, when condition: KeyCondition = .always) {
    self.keys = keys
    self.action = action
    self.condition = condition
  }
}

/// A short text for the hint bar. Arrows are written `←→↑↓`; the bar draws them with the screen's glyphs.
struct Hint: Sendable {
  let text: String
  /// Lower numbers are kept first when the bar is too narrow for all.
  let priority: Int
  let condition: KeyCondition
  /// Shown after the other hints, so that a hint that only some runs or zoom levels show does not move
  /// the usual ones.
  let trailing: Bool

  init(_ text: String, priority: Int, when condition: KeyCondition = .always, trailing: Bool = false) {
    self.text = text
    self.priority = priority
    self.condition = condition
    self.trailing = trailing
  }
}

/// One entry of the key map: its line in the help overlay, the bindings it documents and its hints.
struct KeyMapEntry: Sendable {
  /// How the entry shows in the help overlay.
  enum HelpLine: Sendable {
    /// A row of the key table: the keys, what they do.
    case row(keys: String, action: String)
    /// A sentence under the key table.
    case note(String)
  }

  let help: HelpLine
  let bindings: [KeyBinding]
  let hints: [Hint]

  static func row(_ keys: String, _ action: String, _ bindings: KeyBinding..., hints: [Hint] = []) -> Self {
    KeyMapEntry(help: .row(keys: keys, action: action), bindings: bindings, hints: hints)
  }

  static func note(_ text: String, _ bindings: KeyBinding..., hints: [Hint] = []) -> Self {
    KeyMapEntry(help: .note(text), bindings: bindings, hints: hints)
  }
}

/// The live view's keys, in the order of the help overlay. The key handler, the help overlay and the
/// hint bar all read this table.
enum KeyMap {
  static let entries: [KeyMapEntry] = [
    .row(
      "→ / l", "next step", KeyBinding([.right, .character("l")], .stepForward, when: .notQuizzing),
      KeyBinding([.right, .character("l")], .nextQuestion, when: .quizzing),
      hints: [Hint("←/→ step", priority: 0)]),
    .row("← / h", "previous step", KeyBinding([.left, .character("h")], .stepBack)),
    .row(
      "↓ / j", "next phase", KeyBinding([.down], .phaseForward, when: .framesFocused),
      KeyBinding([.character("j")], .phaseForward),
      hints: [
        Hint("↑/↓ phase", priority: 1, when: .framesFocused),
        Hint("j/k phase", priority: 1, when: .otherPaneFocused),
      ]),
    .row(
      "↑ / k", "previous phase", KeyBinding([.up], .phaseBack, when: .framesFocused),
      KeyBinding([.character("k")], .phaseBack)),
    .row(
      "] / PgDn", "next iteration", KeyBinding([.pageDown], .iterationForward, when: .framesFocused),
      KeyBinding([.character("]")], .iterationForward),
      hints: [
        Hint("PgUp/PgDn iter", priority: 2, when: .framesFocused),
        Hint("[/] iter", priority: 2, when: .otherPaneFocused),
      ]),
    .row(
      "[ / PgUp", "previous iteration", KeyBinding([.pageUp], .iterationBack, when: .framesFocused),
      KeyBinding([.character("[")], .iterationBack)),
    .note(
      "↑/↓: phase in the frames pane, scroll in the other panes",
      KeyBinding([.down], .scrollDown, when: .otherPaneFocused),
      KeyBinding([.up], .scrollUp, when: .otherPaneFocused),
      KeyBinding([.pageDown], .scrollPageDown, when: .otherPaneFocused),
      KeyBinding([.pageUp], .scrollPageUp, when: .otherPaneFocused),
      hints: [Hint("↑/↓ scroll", priority: 3, when: .otherPaneFocused)]),
    .row(
      "} / {", "next/prev preemption", KeyBinding([.character("}")], .nextPreemption),
      KeyBinding([.character("{")], .previousPreemption),
      hints: [Hint("{/} preemption", priority: 7, when: .runHasPreemptions, trailing: true)]),
    .row(
      "m / M", "next/prev free change", KeyBinding([.character("m")], .nextFreeChange),
      KeyBinding([.character("M")], .previousFreeChange)),
    .row(
      "e / E", "next/prev :next event", KeyBinding([.character("e")], .nextChosenEvent),
      KeyBinding([.character("E")], .previousChosenEvent),
      hints: [Hint("e/E event", priority: 7, when: .eventKindChosen, trailing: true)]),
    .note("m/M: steps that change the free mask or queue; e/E: the kind :next chose"),
    .row(
      "space", "play / pause", KeyBinding([.character(" ")], .togglePlay),
      hints: [Hint("space play", priority: 1)]),
    .row(
      "+ / -", "faster / slower", KeyBinding([.character("+"), .character("=")], .faster),
      KeyBinding([.character("-"), .character("_")], .slower)),
    .row("p", "play step/phase/iter", KeyBinding([.character("p")], .cyclePlayGranularity)),
    .row("g / Home", "start", KeyBinding([.character("g"), .home], .seekStart)),
    .row("G / End", "end", KeyBinding([.character("G"), .end], .seekEnd)),
    .row("#", "go to step", KeyBinding([.character("#")], .goToStep)),
    .row(
      "n / N", "next/previous finding", KeyBinding([.character("n")], .nextFinding),
      KeyBinding([.character("N")], .previousFinding), hints: [Hint("n next finding", priority: 4)]),
    .row(
      "Tab/Shift-Tab", "next/previous pane", KeyBinding([.tab], .nextPane),
      KeyBinding([.backTab], .previousPane),
      hints: [Hint("Tab pane", priority: 6)]),
    .row(
      ":", "command line", KeyBinding([.character(":")], .openCommandLine),
      hints: [Hint(": command", priority: 5)]),
    .row(
      "z / Z", "zoom out / in", KeyBinding([.character("z")], .zoomOut),
      KeyBinding([.character("Z")], .zoomIn)),
    .row(
      "> / <", "pan frames right/left", KeyBinding([.character(">")], .panRight),
      KeyBinding([.character("<")], .panLeft),
      hints: [Hint("</> pan", priority: 7, when: .zoomed, trailing: true)]),
    .row(
      "Q", "quiz: predict/reveal", KeyBinding([.character("Q")], .toggleQuiz),
      hints: [
        Hint("→ next question", priority: 0, when: .quizzing, trailing: true),
        Hint("Q quiz off", priority: 0, when: .quizzing, trailing: true),
      ]),
    .row("r", "start/stop recording", KeyBinding([.character("r")], .toggleRecording)),
    .row("Ctrl-L", "redraw", KeyBinding([.control("l")], .redraw)),
    .row(
      "?", "help", KeyBinding([.character("?"), .function(1)], .openHelp),
      hints: [Hint("? help", priority: 0)]),
    .row("Esc", "close / deselect", KeyBinding([.escape], .clearSelection)),
    .row(
      "q", "quit", KeyBinding([.character("q"), .control("c")], .quit), hints: [Hint("q quit", priority: 0)]),
  ]

  static var bindings: [KeyBinding] { entries.flatMap(\.bindings) }

  /// The action `key` performs in this view, or nil when no binding of the key applies.
  static func action(for key: Key, view: ViewState, timeline: Timeline) -> ViewAction? {
    for entry in entries {
      for binding in entry.bindings
      where binding.keys.contains(key) && binding.condition.holds(view, timeline) {
        return binding.action
      }
    }
    return nil
  }
}
