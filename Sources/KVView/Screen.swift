import KVEngine

/// The renderer: a pure function from the timeline's current state and the view to a grid of cells.
/// No curses, no I/O; the live view and `kvscope frame` both draw with it, so the text is exact and
/// deterministic.
public enum Screen {
  public static let minimumWidth = 80, minimumHeight = 24

  /// Draws the whole screen for the timeline's current state.
  /// `recent`: the states of the last few steps, oldest first, ending with the current one (for the
  /// event log); the caller gets them with `timeline.states((step-N)...step)`.
  public static func render(
    timeline: Timeline, view: ViewState, recent: [EngineState], width: Int, height: Int
  )
    -> Grid
  {
    guard fits(width: width, height: height) else { return tooSmall(width: width, height: height) }
    return render(
      timeline: timeline, view: view, log: recent.map(LogEntry.init), width: width, height: height)
  }

  /// Draws the whole screen with the event log given as entries (cheaper to gather than whole states).
  /// `narration`: the scenario's notes resolved against the run, when the caller keeps them; resolved
  /// here otherwise.
  static func render(
    timeline: Timeline, view: ViewState, log: [LogEntry], width: Int, height: Int, narration: Narration? = nil
  ) -> Grid {
    let narration = narration ?? (timeline.scenario.notes.isEmpty ? nil : Narration(timeline: timeline))
    guard fits(width: width, height: height) else { return tooSmall(width: width, height: height) }
    let layout = ScreenLayout(
      timeline: timeline, view: view, log: log, width: width, height: height, narration: narration)
    var grid = Grid(width: width, height: height)
    layout.draw(into: &grid)
    return grid
  }

  /// The layout the renderer would use, or nil when the screen is too small to draw panels.
  static func layout(
    timeline: Timeline, view: ViewState, log: [LogEntry] = [], width: Int, height: Int
  ) -> ScreenLayout? {
    guard fits(width: width, height: height) else { return nil }
    return ScreenLayout(timeline: timeline, view: view, log: log, width: width, height: height)
  }

  private static func fits(width: Int, height: Int) -> Bool {
    width >= minimumWidth && height >= minimumHeight
  }

  private static func tooSmall(width: Int, height: Int) -> Grid {
    var grid = Grid(width: width, height: height)
    TooSmallNotice(minimumWidth: minimumWidth, minimumHeight: minimumHeight)
      .draw(into: &grid, in: Rect(x: 0, y: 0, width: grid.width, height: grid.height))
    return grid
  }
}

/// Where each panel goes on a screen of a given size, with the panels built for the timeline's current
/// state and the view. Drawing asks each panel to draw into its rectangle; the controller reads the
/// layout for keys that depend on it (paging the frames, scrolling the page tables to a request).
struct ScreenLayout {
  /// The panels under the frames and the run strip: page tables and scheduler on the left, code and
  /// event log on the right.
  struct Middle {
    var tables: PageTablesPanel
    var tablesRect: Rect
    var scheduler: SchedulerPanel
    var schedulerRect: Rect
    var code: CodePanel
    var codeRect: Rect
    var log: EventLogPanel
    var logRect: Rect
  }

  let width: Int
  let height: Int
  var status: StatusLine
  var commandRow: CommandRow
  var hints: HintBar
  /// The frames box; the bitmask rows are drawn inside it, under the frames.
  var frames: FramesPanel
  var framesRect: Rect
  var bitmask: BitmaskPanel
  var bitmaskRect: Rect
  /// The sparklines of the whole run, when the screen is tall enough.
  var run: (panel: RunStripPanel, rect: Rect)?
  /// Nil when the middle of the screen has fewer than 3 rows.
  var middle: Middle?
  var help: HelpOverlay?
  /// The row of the scenario's notes: present when it has notes; the panel is built when the notes are
  /// resolved.
  var captionRect: Rect?
  var caption: CaptionLine?
  /// The quiz's question or verdict, over the command row (and the hints).
  var quiz: QuizPanel?

  /// Lays the screen out: the frames take the rows their drawing needs, at most a third of the screen
  /// (7 at least); the run strip takes its rows when the middle keeps 16; the page tables take the rows
  /// they need, at most half the middle; the code takes its rows, leaving a third to the event log.
  init(
    timeline: Timeline, view: ViewState, log: [LogEntry], width: Int, height: Int, narration: Narration? = nil
  ) {
    let state = timeline.current
    let g = Glyphs(unicode: view.unicode)
    self.width = width
    self.height = height
    status = StatusLine(timeline: timeline, state: state, view: view, g: g)
    commandRow = CommandRow(commandLine: view.commandLine, message: view.message, g: g)
    hints = HintBar(view: view, timeline: timeline, g: g)
    help = view.showHelp ? HelpOverlay(description: timeline.scenario.description, g: g) : nil
    quiz = view.quiz.map { QuizPanel(quiz: $0, g: g) }

    let contentTop = 1
    let captionRows = timeline.scenario.notes.isEmpty ? 0 : 1
    let contentHeight = height - 3 - captionRows
    if captionRows > 0 {
      captionRect = Rect(x: 0, y: height - 3, width: width, height: 1)
      caption = narration.map { CaptionLine(narration: $0, step: state.step, g: g) }
    }
    let maxFrames = max(7, contentHeight / 3)
    let innerWidth = width - 2
    frames = FramesPanel(state: state, view: view, g: g, width: innerWidth, maxRows: maxFrames - 3)
    let body = frames.layout?.bodyRows ?? 0
    bitmask = BitmaskPanel(
      state: state, view: view, g: g, layout: frames.layout, ownerKey: frames.ownerKey, width: innerWidth,
      room: max(0, maxFrames - 2 - body))
    let bitmaskRows = bitmask.lines.count
    framesRect = Rect(x: 0, y: contentTop, width: width, height: 2 + body + bitmaskRows)
    bitmaskRect = Rect(x: 1, y: contentTop + 1 + body, width: innerWidth, height: bitmaskRows)

    var middleTop = framesRect.maxY
    var middleHeight = contentTop + contentHeight - middleTop
    let runHeight = RunStripPanel.height(timeline)
    if runHeight > 2, middleHeight - runHeight >= 16 {
      run = (
        RunStripPanel(timeline: timeline, step: state.step, iteration: state.iteration, g: g),
        Rect(x: 0, y: middleTop, width: width, height: runHeight)
      )
      middleTop += runHeight
      middleHeight -= runHeight
    }
    guard middleHeight >= 3 else { return }

    let leftWidth = width / 2
    let rightWidth = width - leftWidth
    let tablesMaximum = max(3, middleHeight / 2, middleHeight - 10)
    let tables = PageTablesPanel(
      state: state, view: view, g: g, width: leftWidth - 2, rows: max(1, middleHeight / 2 - 2),
      needed: max(0, view.scroll[.tables] ?? 0) + tablesMaximum)
    let tablesHeight = min(max(3, tables.lines.count + 2), tablesMaximum)
    let code = CodePanel(state: state, view: view, g: g, width: rightWidth - 2)
    let logMinimum = max(4, middleHeight / 3)
    let codeHeight = min(code.wantedHeight, max(3, middleHeight - logMinimum))
    middle = Middle(
      tables: tables,
      tablesRect: Rect(x: 0, y: middleTop, width: leftWidth, height: tablesHeight),
      scheduler: SchedulerPanel(
        state: state, added: timeline.actions, view: view, g: g, width: leftWidth - 2),
      schedulerRect: Rect(
        x: 0, y: middleTop + tablesHeight, width: leftWidth, height: middleHeight - tablesHeight),
      code: code,
      codeRect: Rect(x: leftWidth, y: middleTop, width: rightWidth, height: codeHeight),
      log: EventLogPanel(state: state, recent: log, view: view, g: g),
      logRect: Rect(
        x: leftWidth, y: middleTop + codeHeight, width: rightWidth, height: middleHeight - codeHeight))
  }

  /// Every panel with its rectangle, in drawing order; the help overlay last, over the others.
  var placed: [(panel: any Panel, rect: Rect)] {
    var placed: [(panel: any Panel, rect: Rect)] = [
      (status, Rect(x: 0, y: 0, width: width, height: 1)),
      (commandRow, Rect(x: 0, y: height - 2, width: width, height: 1)),
      (hints, Rect(x: 0, y: height - 1, width: width, height: 1)),
      (frames, framesRect),
      (bitmask, bitmaskRect),
    ]
    if let run { placed.append((run.panel, run.rect)) }
    if let middle {
      placed += [
        (middle.tables, middle.tablesRect), (middle.scheduler, middle.schedulerRect),
        (middle.code, middle.codeRect), (middle.log, middle.logRect),
      ]
    }
    if let caption, let captionRect { placed.append((caption, captionRect)) }
    if let quiz, quiz.rows > 0 {
      placed.append((quiz, Rect(x: 0, y: height - 2, width: width, height: quiz.rows)))
    }
    if let help { placed.append((help, Rect(x: 0, y: 0, width: width, height: height))) }
    return placed
  }

  func draw(into grid: inout Grid) {
    for (panel, rect) in placed { panel.draw(into: &grid, in: rect) }
  }
}
