import KVEngine
import KVText

/// What the run loop must do after a key.
public enum ControllerEffect: Equatable, Sendable {
  case quit
  /// Repaint the whole terminal (Ctrl-L).
  case redrawAll
  /// A user action ran as step `step + 1`; a recorder writes it down.
  case applied(step: Int, action: UserAction)
  /// Start or stop recording.
  case toggleRecording
}

/// The live view's behaviour: keys and `:` commands move the timeline and change the view. Pure: no
/// terminal, no files, so tests drive it directly.
public struct LiveController: Sendable {
  public internal(set) var timeline: Timeline
  public var view: ViewState
  /// The size of the last screen rendered, for keys that move by a screenful (120x40 before the first).
  private let screen = ScreenSize()
  /// The event log of the last screen.
  private let recentLogCache = RecentLogCache()
  /// The scenario's notes resolved against the run (nil without notes).
  private var narration: Narration?

  public init(timeline: Timeline, view: ViewState = ViewState()) {
    self.timeline = timeline
    self.view = view
    narration = timeline.scenario.notes.isEmpty ? nil : Narration(timeline: timeline)
  }

  /// The event log's entries for the last `count` steps, ending with the current one. They are kept
  /// from the last screen: a redraw, or one step forward (as play makes), reuses them; otherwise they
  /// are gathered in one run (as `Timeline` does), so no copy of the pool is kept per step.
  func recentLog(count: Int) -> [LogEntry] {
    let step = timeline.current.step
    let needed = min(count, step + 1)
    if let kept = recentLogCache.entries(endingAt: step, count: needed, actions: timeline.actions) {
      return kept
    }
    if let kept = recentLogCache.entries(endingAt: step - 1, count: needed - 1, actions: timeline.actions) {
      let log = Array((kept + [LogEntry(timeline.current)]).suffix(needed))
      recentLogCache.keep(log, actions: timeline.actions)
      return log
    }
    var state = timeline.state(at: max(0, step - count + 1))
    var log = [LogEntry(state)]
    log.reserveCapacity(count)
    Timeline.run(&state, to: step, actions: timeline.actions, observe: { log.append(LogEntry($0)) })
    recentLogCache.keep(log, actions: timeline.actions)
    return log
  }

  /// Reacts to one key: the command line and the help overlay take keys of their own; otherwise the key
  /// map says what the key does.
  public mutating func handle(_ key: Key) -> [ControllerEffect] {
    let step = timeline.current.step
    let effects = dispatch(key)
    // The event log follows the run: a move brings its newest line, the current step, back into view.
    if timeline.current.step != step { view.scroll[.log] = nil }
    return effects
  }

  private mutating func dispatch(_ key: Key) -> [ControllerEffect] {
    if view.commandLine != nil { return editCommandLine(key) }
    if view.quiz?.question != nil { return answerQuiz(key) }
    if view.showHelp { return handleInHelp(key) }
    view.message = nil
    if key == .tick {
      advancePlay()
      return []
    }
    guard let action = KeyMap.action(for: key, view: view, timeline: timeline) else { return [] }
    return perform(action)
  }

  /// Keys while the help overlay is open: it closes, play goes on, `q` quits.
  private mutating func handleInHelp(_ key: Key) -> [ControllerEffect] {
    switch key {
    case .escape, .character("?"), .character("q"), .function(1): view.showHelp = false
    case .tick: advancePlay()
    default: break
    }
    return key == .character("q") ? [.quit] : []
  }

  /// Does what the key map's action says.
  private mutating func perform(_ action: ViewAction) -> [ControllerEffect] {
    switch action {
    case .stepForward: move(.step, forward: true)
    case .stepBack: move(.step, forward: false)
    case .phaseForward: move(.phase, forward: true)
    case .phaseBack: move(.phase, forward: false)
    case .iterationForward: move(.iteration, forward: true)
    case .iterationBack: move(.iteration, forward: false)
    case .scrollDown: scroll(1)
    case .scrollUp: scroll(-1)
    case .scrollPageDown: scroll(10)
    case .scrollPageUp: scroll(-10)
    case .nextPreemption: jump(.event(.preempt), forward: true)
    case .previousPreemption: jump(.event(.preempt), forward: false)
    case .nextFreeChange: jump(.freeChange, forward: true)
    case .previousFreeChange: jump(.freeChange, forward: false)
    case .nextChosenEvent, .previousChosenEvent:
      guard let kind = view.eventKind else {
        view.message = StatusMessage("choose a kind first: \(CommandParser.nextUsage)")
        return []
      }
      jump(.event(kind), forward: action == .nextChosenEvent)
    case .togglePlay:
      view.playing.toggle()
      if view.playing && timeline.current.step >= timeline.totalSteps { timeline.seek(to: 0) }
    case .faster: view.speed = min(view.speed * 2, 512)
    case .slower: view.speed = max(view.speed / 2, 1)
    case .cyclePlayGranularity:
      let all = Granularity.allCases
      view.playGranularity = all[(all.firstIndex(of: view.playGranularity)! + 1) % all.count]
      view.message = StatusMessage("play moves one \(view.playGranularity.rawValue) per tick")
    case .seekStart: seek(0)
    case .seekEnd: seek(timeline.totalSteps)
    case .goToStep: view.commandLine = "goto "
    case .nextFinding: jumpToFinding(forward: true)
    case .previousFinding: jumpToFinding(forward: false)
    case .nextPane: cycleFocus(1)
    case .previousPane: cycleFocus(-1)
    case .openCommandLine: view.commandLine = ""
    case .zoomOut: zoom(out: true)
    case .zoomIn: zoom(out: false)
    case .panRight: pageFrames(forward: true)
    case .panLeft: pageFrames(forward: false)
    case .toggleRecording: return [.toggleRecording]
    case .redraw: return [.redrawAll]
    case .openHelp: view.showHelp = true
    case .clearSelection: clearSelection()
    case .toggleQuiz: toggleQuiz()
    case .nextQuestion: askNextQuestion()
    case .quit: return [.quit]
    }
    return []
  }

  // MARK: Moving

  private mutating func move(_ granularity: Granularity, forward: Bool) {
    view.playing = false
    timeline.move(granularity, forward: forward)
  }

  private mutating func seek(_ step: Int) {
    view.playing = false
    timeline.seek(to: step)
  }

  /// One play tick: move forward by the play granularity; stop at the end.
  private mutating func advancePlay() {
    guard view.playing else { return }
    // In quiz mode play runs to the next question and stops there.
    if view.quiz?.isOn == true { return askNextQuestion() }
    timeline.move(view.playGranularity, forward: true)
    if timeline.current.step >= timeline.totalSteps { view.playing = false }
  }

  private mutating func jumpToFinding(forward: Bool) {
    let step = timeline.current.step
    let finding =
      forward
      ? timeline.findings.first { $0.step > step } : timeline.findings.last { $0.step < step }
    guard let finding else {
      view.message = StatusMessage(
        forward ? "no finding after step \(step)" : "no finding before step \(step)")
      return
    }
    seek(finding.step)
    view.message = StatusMessage(
      "step \(finding.step): \(timeline.current.describe(finding))", isError: true)
  }

  /// To the next (previous) step with the jump's mark, saying what is there.
  private mutating func jump(_ jump: Jump, forward: Bool) {
    let step = timeline.current.step
    guard let target = jump.target(in: timeline, from: step, forward: forward) else {
      view.message = StatusMessage(jump.missing(from: step, forward: forward, in: timeline))
      return
    }
    seek(target)
    view.message = StatusMessage(jump.arrived(at: timeline.current))
  }

  /// Drops the highlighted request and the selected frame.
  private mutating func clearSelection() {
    view.selectedRequest = nil
    view.selectedFrame = nil
  }

  private mutating func cycleFocus(_ delta: Int) {
    let panes = Pane.allCases
    let index = panes.firstIndex(of: view.focus)!
    view.focus = panes[(index + delta + panes.count) % panes.count]
  }

  /// Scrolls the focused pane down (`delta` > 0) or up. The event log counts rows back from its newest
  /// line, so down brings it nearer the current step.
  private mutating func scroll(_ delta: Int) {
    let rows = view.focus == .log ? -delta : delta
    view.scroll[view.focus] = max(0, (view.scroll[view.focus] ?? 0) + rows)
  }

  /// The frames panel's layout on the last screen size, for `view`.
  private func framesLayout(_ view: ViewState) -> FramesLayout? {
    Screen.layout(timeline: timeline, view: view, width: screen.width, height: screen.height)?.frames.layout
  }

  /// Halves (in) or doubles (out) the frames per cell, from what the panel shows now, keeping the
  /// selected frame (or the middle of the view) in the middle. Zooming out to the whole pool returns to
  /// the automatic layout.
  private mutating func zoom(out: Bool) {
    let frames = timeline.scenario.cache.pages
    guard frames > 0 else { return }
    let shown = framesLayout(view)
    let current = max(1, view.zoom > 0 ? view.zoom : shown?.framesPerCell ?? 1)
    let center = view.selectedFrame ?? shown.map { ($0.start + $0.end) / 2 } ?? 0
    if out {
      var whole = view
      whole.zoom = 0
      let automatic = framesLayout(whole)?.framesPerCell ?? frames
      if current * 2 >= automatic || current >= frames {
        view.zoom = 0
        view.viewportStart = 0
        view.message = StatusMessage("whole pool: 1 cell = \(automatic) frame\(automatic == 1 ? "" : "s")")
        return
      }
      view.zoom = current * 2
    } else {
      view.zoom = max(1, current / 2)
      if let layout = framesLayout(view), layout.start == 0, layout.end >= frames {
        // The whole pool still shows: nothing to pan, so the layout stays automatic.
        view.zoom = 0
        view.viewportStart = 0
        view.message = StatusMessage(
          "the whole pool shows at 1 cell = \(layout.framesPerCell) frame\(layout.framesPerCell == 1 ? "" : "s")"
        )
        return
      }
    }
    centerViewport(on: center)
    view.message = StatusMessage("1 cell = \(view.zoom) frame\(view.zoom == 1 ? "" : "s")")
  }

  /// Moves the frames panel by one screenful (clamped to the pool).
  private mutating func pageFrames(forward: Bool) {
    let n = timeline.scenario.cache.pages
    guard let layout = framesLayout(view), n > 0 else { return }
    if layout.start == 0 && layout.end >= n {
      view.message = StatusMessage("the whole pool is shown; Z zooms in")
      return
    }
    let span = max(1, layout.end - layout.start)
    if forward {
      guard layout.end < n else {
        view.message = StatusMessage("already at the last frame (\(Fmt.grouped(n - 1)))")
        return
      }
      view.viewportStart = min(layout.start + span, n - 1)
    } else {
      guard layout.start > 0 else {
        view.message = StatusMessage("already at frame 0")
        return
      }
      view.viewportStart = max(0, layout.start - span)
    }
    if view.zoom == 0 { view.zoom = layout.framesPerCell }
    if let moved = framesLayout(view) {
      view.message = StatusMessage(
        "frames \(Fmt.grouped(moved.start))-\(Fmt.grouped(max(moved.start, moved.end - 1))) of \(Fmt.grouped(n))"
      )
    }
  }

  // MARK: Command line

  /// The most characters the `:` command line holds; a character past it is refused with a message.
  public static let commandLineLimit = 4_096

  private mutating func editCommandLine(_ key: Key) -> [ControllerEffect] {
    guard var text = view.commandLine else { return [] }
    if key != .tick { view.message = nil }
    switch key {
    case .escape, .control("c"):
      view.commandLine = nil
    case .enter:
      view.commandLine = nil
      return run(command: text)
    case .backspace:
      if text.isEmpty {
        view.commandLine = nil
      } else {
        text.removeLast()
        view.commandLine = text
      }
    case .character(let c):
      guard text.count < Self.commandLineLimit else {
        view.message = StatusMessage(
          "the command line is full (\(Self.commandLineLimit) characters): Enter runs it, Esc drops it",
          isError: true)
        break
      }
      view.commandLine = text + String(c)
    case .tick:
      advancePlay()
    default:
      break
    }
    return []
  }

  /// Runs a `:` command. Errors are shown on the command row, never thrown.
  public mutating func run(command text: String) -> [ControllerEffect] {
    let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    guard let verb = words.first?.lowercased() else { return [] }
    let arguments = Array(words.dropFirst())
    switch CommandParser.parse(verb: verb, arguments: arguments, state: timeline.current) {
    case .failure(let error):
      view.message = StatusMessage("\(text): \(error.message)", isError: true)
      return []
    case .success(let command):
      return execute(command)
    }
  }

  private mutating func execute(_ command: Command) -> [ControllerEffect] {
    switch command {
    case .action(let action):
      let step = timeline.current.step
      view.playing = false
      // An action runs between two operations: given inside one, it waits for the end of it.
      let at = timeline.apply(action)
      if narration != nil { narration = Narration(timeline: timeline) }
      let wait = at > step ? "after the operation under way (step \(at)): " : ""
      view.message = StatusMessage(wait + timeline.current.eventText)
      return [.applied(step: at, action: action)]
    case .find(let r):
      view.selectedRequest = r
      let table = timeline.current.requests[r].pageTable
      if let first = table.first {
        view.selectedFrame = first
        centerViewport(on: first)
      } else {
        view.selectedFrame = nil
      }
      // Scroll the page tables to the request.
      if let layout = Screen.layout(
        timeline: timeline, view: view, width: screen.width, height: screen.height),
        let middle = layout.middle, let row = middle.tables.starts[r]
      {
        let room = max(0, middle.tablesRect.height - 2)
        view.scroll[.tables] = min(row, max(0, middle.tables.lines.count - room))
      }
      let count = table.count
      view.message = StatusMessage(
        "\(timeline.current.requests[r].id) holds \(Fmt.grouped(count)) frame\(count == 1 ? "" : "s")")
    case .clearSelection:
      clearSelection()
      view.message = StatusMessage("selection cleared")
    case .frame(let frame):
      view.selectedFrame = frame
      centerViewport(on: frame)
    case .zoom(let cells):
      view.zoom = cells
      centerViewport(on: view.selectedFrame ?? view.viewportStart)
    case .goto(let step):
      seek(step)
    case .iteration(let iteration):
      let samples = timeline.samples
      guard let first = samples.first, let last = samples.last else {
        view.message = StatusMessage("iter \(iteration): this run has no iterations", isError: true)
        return []
      }
      guard iteration >= first.iteration, iteration <= last.iteration,
        let sample = samples.first(where: { $0.iteration == iteration })
      else {
        view.message = StatusMessage(
          "iter \(iteration): iteration must be in \(first.iteration)...\(last.iteration)", isError: true)
        return []
      }
      seek(sample.step)
      view.message = StatusMessage(
        "iteration \(Fmt.grouped(iteration)) starts at step \(Fmt.grouped(sample.step))")
    case .jump(let kind, let forward):
      view.eventKind = kind
      jump(.event(kind), forward: forward)
    case .quit:
      return [.quit]
    }
    return []
  }

  /// Puts `frame` in the middle of the frames panel as it is laid out on the last screen size: half a
  /// screenful of the current zoom before it.
  private mutating func centerViewport(on frame: Int) {
    let n = timeline.scenario.cache.pages
    var probe = view
    probe.viewportStart = 0
    guard n > 0, let layout = framesLayout(probe) else {
      view.viewportStart = max(0, frame)
      return
    }
    let rowSpan = max(1, layout.perRow * layout.framesPerCell)
    let rows = max(1, (layout.end - layout.start + rowSpan - 1) / rowSpan)
    // The middle row (the upper one of two), the middle column.
    let before = (rows - 1) / 2 * rowSpan + layout.perRow / 2 * layout.framesPerCell
    view.viewportStart = min(max(0, frame - before), n - 1)
    if case .compact = layout.kind {
      // Rows start at multiples of the row length: keep the frame's row in the middle.
      let row = frame / layout.perRow
      view.viewportStart = max(0, (row - (rows - 1) / 2) * layout.perRow)
    }
  }
}

/// The last screen size, shared by copies of a controller (one terminal, one thread).
final class ScreenSize: @unchecked Sendable {
  var width = 120
  var height = 40
}

/// The event log's entries of the last screen, and the user actions of the run they come from (the
/// scenario and the actions determine every step).
final class RecentLogCache: @unchecked Sendable {
  private var log: [LogEntry] = []
  private var actions: [Int: UserAction] = [:]

  /// The last `count` entries ending at `step`, if they are kept for this run. O(count + actions).
  func entries(endingAt step: Int, count: Int, actions: [Int: UserAction]) -> [LogEntry]? {
    guard count >= 0, let last = log.last, last.step == step, log.count >= count, actions == self.actions
    else { return nil }
    return Array(log.suffix(count))
  }

  func keep(_ log: [LogEntry], actions: [Int: UserAction]) {
    self.log = log
    self.actions = actions
  }
}

/// A parsed `:` command.
enum Command: Equatable {
  case action(UserAction)
  case find(Int)
  case frame(Int)
  /// `:find` or `:frame` alone: no request highlighted, no frame selected.
  case clearSelection
  case zoom(Int)
  case goto(Int)
  case iteration(Int)
  /// `:next KIND`, `:prev KIND`.
  case jump(EventKind, forward: Bool)
  case quit
}

struct CommandError: Error, Equatable {
  var message: String
}

/// Parses `:` commands against the current state, so that every error is caught before the engine
/// sees the action.
enum CommandParser {
  static let usage =
    "commands: add ID PROMPT OUTPUT, abort ID, alloc, free N, alloc_n N, inc_ref N, find [ID], frame [N], zoom N, goto N, iter N, next/prev KIND"
  /// The kinds `:next` and `:prev` take.
  static let nextUsage = ":next \(EventKind.allCases.map(\.rawValue).joined(separator: "|"))"

  static func parse(verb: String, arguments: [String], state: EngineState) -> Result<Command, CommandError> {
    func fail(_ message: String) -> Result<Command, CommandError> { .failure(CommandError(message: message)) }
    func number(_ index: Int, _ name: String, range: ClosedRange<Int>) -> Result<Int, CommandError> {
      guard index < arguments.count else { return .failure(CommandError(message: "missing \(name)")) }
      guard let value = Int(arguments[index]), range.contains(value) else {
        return .failure(
          CommandError(
            message:
              "\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound), got '\(arguments[index])'"
          ))
      }
      return .success(value)
    }
    func expect(_ count: Int) -> CommandError? {
      arguments.count == count
        ? nil
        : CommandError(
          message: "\(verb) takes \(count) argument\(count == 1 ? "" : "s"), got \(arguments.count)")
    }
    let pool = state.scenario.cache.pages
    let poolVerbs = ["alloc", "free", "alloc_n", "inc_ref"]
    if poolVerbs.contains(verb) && !state.scenario.isAllocatorOnly {
      return fail("allocator commands work only in allocator-only scenarios (with `ops`)")
    }
    switch verb {
    case "alloc":
      if let error = expect(0) { return .failure(error) }
      return .success(.action(.pool(.alloc)))
    case "free", "inc_ref", "alloc_n":
      if let error = expect(1) { return .failure(error) }
      return number(0, verb == "alloc_n" ? "N" : "frame", range: 0...Scenario.maxPages).map {
        .action(.pool(verb == "free" ? .free($0) : verb == "inc_ref" ? .incRef($0) : .allocN($0)))
      }
    case "add":
      if state.scenario.isAllocatorOnly {
        return fail("add works only in scheduler scenarios (with `requests`)")
      }
      if let error = expect(3) { return .failure(error) }
      let id = arguments[0]
      if state.requestIndex(id: id) != nil { return fail("a request named \(id) exists already") }
      let prompt: Prompt
      if let length = Int(arguments[1]) {
        guard length >= 0 else { return fail("PROMPT must be a length >= 0 or tokens like 1,2,3") }
        prompt = .length(length)
      } else {
        let tokens = arguments[1].split(separator: ",").map { Int($0) }
        guard !tokens.isEmpty, tokens.allSatisfy({ $0 != nil && $0! >= 0 && $0! <= Int(Int32.max) }) else {
          return fail("PROMPT must be a length >= 0 or tokens like 1,2,3, got '\(arguments[1])'")
        }
        prompt = .tokens(tokens.map { $0! })
      }
      if prompt.count > pool * state.pageSize {
        return fail(
          "a prompt of \(prompt.count) tokens is longer than the whole pool (\(pool * state.pageSize))")
      }
      let output: Int
      switch number(2, "OUTPUT", range: 0...1_000_000) {
      case .success(let value): output = value
      case .failure(let error): return .failure(error)
      }
      let spec = RequestSpec(id: id, arrive: state.iteration, prompt: prompt, output: output)
      let usable = state.policyType.usablePages(pool)
      if let violation = state.policyType.limits.violation(
        of: spec, usablePages: usable, pageSize: state.pageSize)
      {
        let message = violation.message(for: spec, policy: state.policyType)
        if case .outputTooSmall = violation { return fail("OUTPUT " + message) }
        return fail(message)
      }
      return .success(.action(.addRequest(spec)))
    case "abort":
      if let error = expect(1) { return .failure(error) }
      if !state.policyType.capabilities.contains(.aborts) {
        return fail("policy \(state.policy) has no abort (its engine cannot abort a request)")
      }
      guard let r = state.requestIndex(id: arguments[0]) else {
        return fail("no request named \(arguments[0])")
      }
      if state.requests[r].isTerminal {
        return fail("\(arguments[0]) has already ended (\(state.requests[r].status.rawValue))")
      }
      return .success(.action(.abort(arguments[0])))
    case "find" where arguments.isEmpty, "frame" where arguments.isEmpty:
      return .success(.clearSelection)
    case "find":
      if let error = expect(1) { return .failure(error) }
      guard let r = state.requestIndex(id: arguments[0]) else {
        return fail("no request named \(arguments[0])")
      }
      return .success(.find(r))
    case "frame":
      if let error = expect(1) { return .failure(error) }
      return number(0, "frame", range: 0...(pool - 1)).map { .frame($0) }
    case "zoom":
      if let error = expect(1) { return .failure(error) }
      return number(0, "frames per cell", range: 1...max(1, pool)).map { .zoom($0) }
    case "goto", "step":
      if let error = expect(1) { return .failure(error) }
      return number(0, "step", range: 0...Int(Int32.max)).map { .goto($0) }
    case "iter", "iteration":
      if let error = expect(1) { return .failure(error) }
      return number(0, "iteration", range: 0...Int(Int32.max)).map { .iteration($0) }
    case "next", "prev":
      guard arguments.count == 1, let kind = EventKind(rawValue: arguments[0].lowercased()) else {
        return fail(
          "\(verb) takes one kind: \(verb) \(EventKind.allCases.map(\.rawValue).joined(separator: "|"))")
      }
      return .success(.jump(kind, forward: verb == "next"))
    case "q", "quit":
      return .success(.quit)
    default:
      return fail("unknown command '\(verb)'; \(usage)")
    }
  }
}

extension LiveController {
  /// The screen for the current state and view.
  public func render(width: Int, height: Int) -> Grid {
    if width >= Screen.minimumWidth && height >= Screen.minimumHeight {
      screen.width = width
      screen.height = height
    }
    return Screen.render(
      timeline: timeline, view: view, log: recentLog(count: max(1, height)), width: width, height: height,
      narration: narration)
  }
}
