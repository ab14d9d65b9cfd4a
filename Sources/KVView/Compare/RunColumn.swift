import KVEngine
import KVText

/// One run's column of the compare view, in a box titled with its label (highlighted when focused):
/// the step, iteration and phases; the frames and the rows under them (the free queue or mask, refs,
/// counts) as the live view draws them; the queues; the key figures; the run's last steps.
struct RunColumn: Panel {
  let label: String
  let focused: Bool
  let header: String
  let frames: FramesPanel
  let bitmask: BitmaskPanel
  /// The requests running, waiting and finished, by id, when the column has rows to spare.
  let queues: [String]
  let figures: [(String, TextStyle)]
  let event: [String]
  let g: Glyphs

  /// The column for `timeline`'s current state in a box of `width` x `height`. Rows left under the
  /// frames, the queues and the figures show the run's last steps, the current one at the bottom.
  init(timeline: Timeline, label: String, focused: Bool, g: Glyphs, width: Int, height: Int) {
    let state = timeline.current
    let inner = max(0, width - 2)
    self.label = label
    self.focused = focused
    self.g = g
    header = Self.header(state, totalSteps: timeline.totalSteps, width: inner)
    figures = Self.figures(state)
    let rows = max(0, height - 2)
    let eventMinimum = rows - 1 - figures.count >= 14 ? 2 : 1
    let room = max(0, rows - 1 - figures.count - eventMinimum)
    var view = ViewState()
    view.unicode = g.unicode
    // A short column draws one character per frame: boxes would leave no room under them.
    let framesRows = height < CompareLayout.roomyColumnHeight ? min(3, room - 1) : room - 1
    frames = FramesPanel(state: state, view: view, g: g, width: inner, maxRows: max(1, framesRows))
    let body = frames.layout?.bodyRows ?? 0
    // The queues by name (and a blank row above them) when the rows under the frames have room.
    queues = room - body >= 7 ? Self.queues(state, width: inner, g: g) : []
    let queueRows = queues.isEmpty ? 0 : queues.count + 1
    bitmask = BitmaskPanel(
      state: state, view: view, g: g, layout: frames.layout, width: inner,
      room: max(0, min(Self.maximumBitmaskRows, room - body - queueRows)))
    let eventRows = eventMinimum + max(0, room - body - queueRows - bitmask.lines.count)
    event = Self.events(timeline, rows: eventRows, width: inner, g: g)
  }

  /// Rows under the frames at most: the free queue or mask, refs, counts and the legend.
  static let maximumBitmaskRows = 4

  /// The current step's event in `rows` lines (wrapped, the last one cut) when they are few; with 4
  /// or more, a line for each of the last steps, ending with the current one.
  private static func events(_ timeline: Timeline, rows: Int, width: Int, g: Glyphs) -> [String] {
    let state = timeline.current
    if rows >= 4 {
      return timeline.states(max(0, state.step - rows + 1)...state.step).map {
        Fmt.clip("#\($0.step) " + $0.eventText, width, ellipsis: g.ellipsis)
      }
    }
    let wrapped = Fmt.wrap("#\(state.step) " + state.eventText, width: width, indent: 2)
    var lines = Array(wrapped.prefix(rows))
    if wrapped.count > rows, let last = lines.popLast() {
      lines.append(Fmt.clip(last + " " + wrapped[rows].trimmingSpaces, width, ellipsis: g.ellipsis))
    }
    return lines
  }

  /// `running  C D`, `waiting  F`, `finished A B E`, each cut to `width`.
  private static func queues(_ state: EngineState, width: Int, g: Glyphs) -> [String] {
    let finished = state.requests.indices.filter { state.requests[$0].status == .finished }
    return [("running", state.active), ("waiting", Array(state.waiting)), ("finished", finished)].map {
      label, requests in
      let names = requests.isEmpty ? g.dash : requests.prefix(64).map(state.name).joined(separator: " ")
      return Fmt.clip(Fmt.padded(label, 9) + names, width, ellipsis: g.ellipsis)
    }
  }

  /// `step 40/120  iter 3   cleanup [running] waiting  output`, or the current phase alone when the
  /// phases do not fit.
  private static func header(_ state: EngineState, totalSteps: Int, width: Int) -> String {
    let position =
      "step \(Fmt.grouped(state.step))/\(Fmt.grouped(totalSteps))  iter \(Fmt.grouped(state.iteration))"
    var phases = ""
    for phase in state.policyType.phases {
      phases += state.phase == phase ? "[\(phase.rawValue)]" : " \(phase.rawValue) "
    }
    if state.phase == .done || state.phase == .start { phases += " [\(state.phase.rawValue)]" }
    let whole = position + "  " + phases
    if whole.count <= width { return whole }
    let short = position + "  [\(state.phase.rawValue)]"
    if short.count <= width { return short }
    return
      "\(Fmt.grouped(state.step))/\(Fmt.grouped(totalSteps)) iter \(Fmt.grouped(state.iteration)) \(state.phase.rawValue)"
  }

  /// The counts of the requests, preemptions and prefix hits so far, frames in use, and why the run
  /// ended once it has.
  private static func figures(_ state: EngineState) -> [(String, TextStyle)] {
    let finished = state.requests.lazy.filter { $0.status == .finished }.count
    let stats = state.stats
    let rate = Int((stats.prefixHitRate * 100).rounded())
    let pages = stats.prefixHitPages
    var lines: [(String, TextStyle)] = [
      (
        "running \(state.active.count)  waiting \(state.waiting.count)  finished \(finished) of \(state.requests.count)",
        TextStyle(.normal)
      ),
      (
        "preemptions \(Fmt.grouped(stats.preemptions))  hits \(rate)% (\(Fmt.grouped(pages)) page\(pages == 1 ? "" : "s"))",
        TextStyle(.normal)
      ),
      (
        "frames in use \(Fmt.grouped(state.pool.usedCount)) of \(Fmt.grouped(state.pool.count))",
        TextStyle(.normal)
      ),
    ]
    if let reason = state.endReason {
      lines[2].0 += "  ended: " + Text.endReason(reason)
    }
    return lines
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    guard rect.height >= 3, rect.width >= 4 else { return }
    grid.box(rect, title: Fmt.clip(label, rect.width - 6, ellipsis: g.ellipsis), focused: focused, glyphs: g)
    let inner = rect.inner
    var y = inner.y
    grid.put(
      Fmt.clip(header, inner.width, ellipsis: g.ellipsis), x: inner.x, y: y, in: inner,
      style: TextStyle(.selected, bold: true))
    y += 1
    let body = frames.layout?.bodyRows ?? 0
    frames.drawContents(into: &grid, in: Rect(x: inner.x, y: y, width: inner.width, height: body))
    y += body
    bitmask.draw(into: &grid, in: Rect(x: inner.x, y: y, width: inner.width, height: bitmask.lines.count))
    // The queues, the figures and the event at the bottom of the box.
    let bottom = inner.maxY - figures.count - event.count
    for (i, line) in queues.enumerated() {
      grid.put(line, x: inner.x, y: bottom - queues.count - 1 + i, in: inner, style: TextStyle(.normal))
    }
    for (i, line) in figures.enumerated() {
      grid.put(
        Fmt.clip(line.0, inner.width, ellipsis: g.ellipsis), x: inner.x, y: bottom + i, in: inner,
        style: line.1)
    }
    // The current step's line(s) stand out: all of them when wrapped, the last one in a list of steps.
    let current = event.count >= 4 ? event.count - 1 : 0
    for (i, line) in event.enumerated() {
      grid.put(
        line, x: inner.x, y: bottom + figures.count + i, in: inner,
        style: i >= current ? TextStyle(.accent, bold: true) : TextStyle(.normal))
    }
  }
}
