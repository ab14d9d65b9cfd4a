import KVEngine
import KVText

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
    var grid = Grid(width: width, height: height)
    let g = Glyphs(unicode: view.unicode)
    guard width >= minimumWidth, height >= minimumHeight else {
      drawTooSmall(&grid, g)
      return grid
    }
    return render(
      timeline: timeline, view: view, log: recent.map(LogEntry.init), width: width, height: height)
  }

  /// Draws the whole screen with the event log given as entries (cheaper to gather than whole states).
  static func render(timeline: Timeline, view: ViewState, log: [LogEntry], width: Int, height: Int) -> Grid {
    var grid = Grid(width: width, height: height)
    let g = Glyphs(unicode: view.unicode)
    guard width >= minimumWidth, height >= minimumHeight else {
      drawTooSmall(&grid, g)
      return grid
    }
    let state = timeline.current
    var screen = ScreenBuilder(timeline: timeline, state: state, view: view, recent: log, g: g)
    screen.draw(&grid)
    return grid
  }

  /// The layout the renderer would use, or nil when the screen is too small to draw panels.
  static func plan(timeline: Timeline, view: ViewState, width: Int, height: Int) -> ScreenBuilder.Plan? {
    guard width >= minimumWidth, height >= minimumHeight else { return nil }
    let builder = ScreenBuilder(
      timeline: timeline, state: timeline.current, view: view, recent: [], g: Glyphs(unicode: view.unicode))
    return builder.plan(width: width, height: height)
  }

  static func drawTooSmall(_ grid: inout Grid, _ g: Glyphs) {
    let w = grid.width
    let h = grid.height
    guard w > 0, h > 0 else { return }
    let lines = [
      "terminal too small: \(w)x\(h), need at least \(minimumWidth)x\(minimumHeight)",
      "q quits",
    ]
    var wrapped: [String] = []
    for line in lines { wrapped += Fmt.wrap(line, width: w) }
    let top = max(0, (h - wrapped.count) / 2)
    for (i, line) in wrapped.enumerated() where top + i < h {
      let x = max(0, (w - line.count) / 2)
      grid.put(
        line, x: x, y: top + i, style: TextStyle(i == wrapped.count - 1 ? .hint : .finding, bold: i == 0))
    }
  }
}

/// One step of the event log: what the step did and what it found.
struct LogEntry {
  var step: Int
  var text: String
  /// The step's findings as sentences.
  var findings: [String]

  init(_ state: EngineState) {
    step = state.step
    text = state.eventText
    findings = state.findings.map(state.describe)
  }
}

/// Lays the panels out and draws them.
struct ScreenBuilder {
  let timeline: Timeline
  let state: EngineState
  let view: ViewState
  /// The event log's last steps, oldest first.
  let recent: [LogEntry]
  let g: Glyphs

  /// Where the panels go, computed once for drawing and for keys that depend on the layout (paging the
  /// frames panel, scrolling the page tables to a request).
  struct Plan {
    var frames: FramesPanel
    var framesLayout: FramesLayout?
    var info: [(String, TextStyle)]
    var framesRect: Rect
    /// The sparklines of the whole run, when the screen is tall enough.
    var runRect: Rect?
    var middleTop: Int
    var middleHeight: Int
    var leftWidth: Int
    var tables: [(String, TextStyle)] = []
    /// The first line of each request in `tables`.
    var tableStarts: [Int: Int] = [:]
    var tablesRect = Rect(x: 0, y: 0, width: 0, height: 0)
  }

  /// Lays the screen out (without drawing).
  func plan(width: Int, height: Int) -> Plan {
    let contentTop = 1
    let contentHeight = height - 3
    // Frames panel: as many rows as its drawing needs, at most a third of the screen (8 at least).
    let own = Ownership(state)
    let frames = FramesPanel(state: state, view: view, g: g, own: own)
    let maxFrames = max(7, contentHeight / 3)
    let innerWidth = width - 2
    let layout = frames.layout(width: innerWidth, maxRows: maxFrames - 3)
    let body = layout?.bodyRows ?? 0
    var info = frames.infoLines(width: innerWidth, layout: layout)
    let infoRoom = max(0, maxFrames - 2 - body)
    if info.count > infoRoom, let m = info.firstIndex(where: { $0.0.hasPrefix("free_mask") }),
      m + 1 < info.count, info[m + 1].0.hasPrefix("refs")
    {
      // Mask and refs share a row when rows are scarce.
      let mask = info[m].0.replacingOccurrences("  (1 = free, 0 = alloc)", "")
      if mask.count + 3 + info[m + 1].0.count <= innerWidth {
        info[m].0 = mask + "   " + info[m + 1].0
        info.remove(at: m + 1)
      }
    } else if info.count < infoRoom, let legend = frames.legend(width: innerWidth, layout: layout) {
      info.append((legend, TextStyle(.dim)))
    }
    let infoRows = min(info.count, infoRoom)
    let framesRect = Rect(x: 0, y: contentTop, width: width, height: 2 + body + infoRows)
    var middleTop = framesRect.maxY
    var middleHeight = contentTop + contentHeight - middleTop
    // The run's sparklines, full width under the frames, when the middle keeps enough rows.
    var runRect: Rect?
    let runHeight = RunStrip.rows(timeline) + 2
    if runHeight > 2, middleHeight - runHeight >= 16 {
      runRect = Rect(x: 0, y: middleTop, width: width, height: runHeight)
      middleTop += runHeight
      middleHeight -= runHeight
    }
    let leftWidth = width / 2
    var plan = Plan(
      frames: frames, framesLayout: layout, info: Array(info.prefix(infoRows)), framesRect: framesRect,
      runRect: runRect, middleTop: middleTop, middleHeight: middleHeight, leftWidth: leftWidth)
    guard middleHeight >= 3 else { return plan }
    let tablesMaximum = max(3, middleHeight / 2, middleHeight - 10)
    let (tables, starts) = tableLines(
      width: leftWidth - 2, rows: max(1, middleHeight / 2 - 2),
      needed: max(0, view.scroll[.tables] ?? 0) + tablesMaximum)
    let tablesHeight = min(max(3, tables.count + 2), tablesMaximum)
    plan.tables = tables
    plan.tableStarts = starts
    plan.tablesRect = Rect(x: 0, y: middleTop, width: leftWidth, height: tablesHeight)
    return plan
  }

  mutating func draw(_ grid: inout Grid) {
    let width = grid.width
    let height = grid.height
    drawStatus(&grid, y: 0)
    drawCommandRow(&grid, y: height - 2)
    drawHints(&grid, y: height - 1)

    let plan = plan(width: width, height: height)
    drawFrames(&grid, plan.framesRect, frames: plan.frames, layout: plan.framesLayout, info: plan.info)
    if let runRect = plan.runRect { drawRun(&grid, runRect) }

    // Middle: page tables and scheduler on the left, code and event log on the right.
    let middleTop = plan.middleTop
    let middleHeight = plan.middleHeight
    guard middleHeight >= 3 else { return }
    let leftWidth = plan.leftWidth
    let rightWidth = width - leftWidth
    let tablesHeight = plan.tablesRect.height
    drawPanel(&grid, plan.tablesRect, title: "page tables", pane: .tables, lines: plan.tables)
    let schedulerRect = Rect(
      x: 0, y: middleTop + tablesHeight, width: leftWidth, height: middleHeight - tablesHeight)
    drawPanel(
      &grid, schedulerRect, title: "scheduler", pane: .queues, lines: schedulerLines(width: leftWidth - 2))

    let listing = CodePanel.listing(state)
    let code = codeLines(listing, width: rightWidth - 2)
    let logMinimum = max(4, middleHeight / 3)
    let codeHeight = min(code.lines.count + 2, max(3, middleHeight - logMinimum))
    let codeRect = Rect(x: leftWidth, y: middleTop, width: rightWidth, height: codeHeight)
    drawCode(&grid, codeRect, listing: listing, code: code)
    let logRect = Rect(
      x: leftWidth, y: middleTop + codeHeight, width: rightWidth, height: middleHeight - codeHeight)
    drawLog(&grid, logRect)

    if view.showHelp { drawHelp(&grid) }
  }

  // MARK: Status, command row, hints

  func drawStatus(_ grid: inout Grid, y: Int) {
    let width = grid.width
    grid.fill(x: 0, y: y, width: width, height: 1, with: Cell(" ", role: .title, reverse: true))
    let bar = TextStyle(.title, bold: true, reverse: true)
    let name = view.sourceLabel ?? timeline.scenario.name
    let seen = timeline.findings.prefix { $0.step <= state.step }.count
    let total = timeline.findings.count
    var parts: [(String, TextStyle)] = [
      (timeline.scenario.scheduler.policy.rawValue, bar),
      ("step \(Fmt.grouped(state.step))/\(Fmt.grouped(timeline.totalSteps))", bar),
      ("iter \(Fmt.grouped(state.iteration))", bar),
      (state.phase.rawValue, bar),
    ]
    let narrow = width < 100
    var play = view.playing ? "playing" : "paused"
    if !narrow { play = (view.playing ? (g.unicode ? "▶ " : "> ") : (g.unicode ? "❚❚ " : "|| ")) + play }
    play += " \(view.speed)/s"
    if view.playGranularity != .step { play += " by \(view.playGranularity.rawValue)" }
    parts.append((play, bar))
    if view.recording { parts.append(("REC", TextStyle(.finding, bold: true, reverse: true))) }
    parts.append(
      (
        "findings \(seen)/\(total)", total > 0 ? TextStyle(.finding, bold: true, reverse: true) : bar
      ))
    let separator = narrow ? "  " : g.separator
    let rest = parts.map(\.0).joined(separator: separator)
    let room = width - 1 - rest.count - separator.count
    let title = room >= 4 ? Fmt.clip(name, room, ellipsis: g.ellipsis) : ""
    var x = 1
    if !title.isEmpty {
      x = grid.put(title, x: x, y: y, style: bar)
      x = grid.put(separator, x: x, y: y, style: TextStyle(.title, reverse: true))
    }
    for (i, part) in parts.enumerated() {
      if i > 0 { x = grid.put(separator, x: x, y: y, style: TextStyle(.title, reverse: true)) }
      x = grid.put(part.0, x: x, y: y, style: part.1)
    }
  }

  func drawCommandRow(_ grid: inout Grid, y: Int) {
    if let command = view.commandLine {
      let room = grid.width - 2
      let shown = command.count > room ? String(command.suffix(room)) : command
      let x = grid.put(":" + shown, x: 0, y: y, style: TextStyle(.accent, bold: true))
      grid.set(g.cursor, x: x, y: y, style: TextStyle(.accent))
    } else if let message = view.message {
      grid.put(
        Fmt.clip(message.text, grid.width, ellipsis: g.ellipsis), x: 0, y: y,
        style: TextStyle(message.isError ? .finding : .accent, bold: message.isError))
    }
  }

  /// The key-hint bar: the most useful keys that fit, in a fixed order.
  func drawHints(_ grid: inout Grid, y: Int) {
    let framesFocused = view.focus == .frames
    let l = g.left
    let r = g.right
    let u = g.up
    let d = g.down
    // (text, priority): lower priority numbers are kept first.
    var hints: [(String, Int)] = [("\(l)/\(r) step", 0)]
    if framesFocused {
      hints += [("\(u)/\(d) phase", 1), ("PgUp/PgDn iter", 2)]
    } else {
      hints += [("j/k phase", 1), ("[/] iter", 2), ("\(u)/\(d) scroll", 3)]
    }
    hints += [
      ("space play", 1), ("n next finding", 4), ("Tab pane", 6), (": command", 5), ("? help", 0),
      ("q quit", 0),
    ]
    if timeline.final.stats.preemptions > 0 { hints.append(("{/} preemption", 7)) }
    if view.zoom > 0 { hints.append(("</> pan", 7)) }
    let sep = "  "
    var kept = Array(repeating: false, count: hints.count)
    var used = 0
    for priority in 0...7 {
      for (i, hint) in hints.enumerated() where hint.1 == priority {
        let cost = hint.0.count + (used == 0 ? 0 : sep.count)
        if used + cost <= grid.width {
          kept[i] = true
          used += cost
        }
      }
    }
    let text = hints.indices.filter { kept[$0] }.map { hints[$0].0 }.joined(separator: sep)
    grid.put(text, x: 0, y: y, style: TextStyle(.hint))
  }

  // MARK: Panels

  func drawPanel(_ grid: inout Grid, _ rect: Rect, title: String, pane: Pane, lines: [(String, TextStyle)]) {
    guard !rect.isEmpty else { return }
    grid.box(rect, title: title, focused: view.focus == pane, glyphs: g)
    let inner = rect.inner
    let offset = min(max(0, view.scroll[pane] ?? 0), max(0, lines.count - inner.height))
    for row in 0..<inner.height where offset + row < lines.count {
      let (text, style) = lines[offset + row]
      grid.put(
        Fmt.clip(text, inner.width, ellipsis: g.ellipsis), x: inner.x, y: inner.y + row, in: inner,
        style: style)
    }
    if offset > 0 {
      grid.put(g.up, x: rect.maxX - 1 - g.up.count, y: rect.y, in: rect, style: TextStyle(.dim))
    }
    if offset + inner.height < lines.count {
      grid.put(g.down, x: rect.maxX - 1 - g.down.count, y: rect.maxY - 1, in: rect, style: TextStyle(.dim))
    }
  }

  func drawFrames(
    _ grid: inout Grid, _ rect: Rect, frames: FramesPanel, layout: FramesLayout?, info: [(String, TextStyle)]
  ) {
    let n = state.pool.count
    var title = "page frames: \(Fmt.grouped(n)) x \(state.pageSize) slots"
    if let layout, layout.framesPerCell > 1 { title += ", overview" }
    grid.box(rect, title: title, focused: view.focus == .frames, glyphs: g)
    let inner = rect.inner
    if let layout { frames.draw(&grid, in: inner, layout: layout) }
    let top = inner.y + (layout?.bodyRows ?? 0)
    for (i, line) in info.enumerated() {
      grid.put(
        Fmt.clip(line.0, inner.width, ellipsis: g.ellipsis), x: inner.x, y: top + i, in: inner, style: line.1)
    }
  }

  /// Page tables: `A: [0, 1, 4]  180 tokens, 3 pages -> can hold 192 tokens`, the summary on a line of
  /// its own when narrow, and logical and physical rows under each table when there is room.
  /// Only the first `needed` lines are formatted once the detailed form is ruled out; the rest are
  /// counted (blank placeholders), so the cost follows the screen, not the number of requests.
  func tableLines(width: Int, rows: Int, needed: Int = .max) -> ([(String, TextStyle)], [Int: Int]) {
    let ps = state.pageSize
    var shown: [Int] = []
    for (r, request) in state.requests.enumerated()
    where !request.pageTable.isEmpty || request.status == .running || r == view.selectedRequest {
      shown.append(r)
      if shown.count > 400 { break }
    }
    // The selected request is always listed, even past the first 400.
    if let r = view.selectedRequest, r >= 0, r < state.requests.count, !shown.contains(r) { shown.append(r) }
    if shown.isEmpty { return ([("no request holds pages", TextStyle(.dim))], [:]) }
    var plain: [(String, TextStyle)] = []
    var detailed: [(String, TextStyle)] = []
    var plainStarts: [Int: Int] = [:]
    var detailedStarts: [Int: Int] = [:]
    for r in shown {
      plainStarts[r] = plain.count
      detailedStarts[r] = detailed.count
      let request = state.requests[r]
      let table = request.pageTable
      let pages = table.lazy.filter { $0 != RequestState.releasedEntry }.count
      let held = "\(Fmt.grouped(request.computed)) tokens"
      let capacity = "\(pages) page\(pages == 1 ? "" : "s") -> can hold \(Fmt.grouped(pages * ps)) tokens"
      let summary = held + ", " + capacity
      let mark = r == view.selectedRequest ? g.marker : ""
      let style = TextStyle(.owner(r), bold: true, reverse: r == view.selectedRequest)
      let head = mark + "\(request.id): "
      if detailed.count > rows && plain.count >= needed {
        // Off screen: the number of lines only (one when the whole list and summary fit).
        let room = width - head.count - 2 - summary.count
        let fits = pages <= 64 && listLength(table, limit: room) <= room
        plain.append(("", TextStyle()))
        if !fits { plain.append(("", TextStyle())) }
        continue
      }
      let whole = head + listText(table, room: width - head.count) + "  " + summary
      var entry: [(String, TextStyle)] = []
      if whole.count <= width {
        entry.append((whole, style))
      } else {
        let list = listText(table, room: width - head.count)
        let short = head + list + "  " + held
        entry.append((short.count <= width ? short : head + list, style))
        entry.append(("   " + (short.count <= width ? capacity : summary), TextStyle(.owner(r))))
      }
      plain += entry
      detailed += entry
      if !table.isEmpty {
        // Only the cells that can fit on the row set the column width.
        let cellWidth = String(table.prefix(max(1, width / 2)).max() ?? 0).count
        var logical = "   logical "
        var physical = "   physical"
        var shownCells = 0
        var length = physical.count
        for (page, frame) in table.enumerated() {
          if length + cellWidth + 1 + (page < table.count - 1 ? 2 : 0) > width { break }
          length += cellWidth + 1
          logical += " " + Fmt.rightAligned(String(page), cellWidth)
          physical += " " + Fmt.rightAligned(String(frame), cellWidth)
          shownCells += 1
        }
        if shownCells < table.count {
          logical += " " + g.ellipsis
          physical += " " + g.ellipsis
        }
        detailed.append((logical, TextStyle(.owner(r))))
        detailed.append((physical, TextStyle(.owner(r), bold: true)))
      }
    }
    return detailed.count <= rows ? (detailed, detailedStarts) : (plain, plainStarts)
  }

  /// `[0, 1, 4]`, or `[0, 1, …, 99]` when longer than `room`.
  /// The length of `[a, b, c]`, or more than `limit` (counting stops there).
  func listLength(_ values: [Int], limit: Int) -> Int {
    var length = 2
    for (i, v) in values.enumerated() {
      var digits = v < 0 ? 2 : 1
      var rest = abs(v)
      while rest >= 10 {
        rest /= 10
        digits += 1
      }
      length += digits + (i > 0 ? 2 : 0)
      if length > limit { return length }
    }
    return length
  }

  /// Linear in what is shown, not in the table's length.
  /// A page table as a list; a released entry (the rest of the table is being freed) shows as `-`.
  func listText(_ values: [Int], room: Int) -> String {
    func entry(_ v: Int) -> String { v == RequestState.releasedEntry ? "-" : String(v) }
    if values.count <= 64 {
      let whole = "[" + values.map(entry).joined(separator: ", ") + "]"
      if whole.count <= room { return whole }
    }
    let tail = values.last.map(entry) ?? ""
    // "[" + head items joined by ", " + ", …, tail]" (or "[…, tail]" with no head item).
    let closing = 2 + g.ellipsis.count + 2 + tail.count + 1
    var text = "["
    var length = 1
    for v in values.dropLast() {
      let item = entry(v)
      let added = (length == 1 ? 0 : 2) + item.count
      if length + added + closing > room { break }
      if length > 1 { text += ", " }
      text += item
      length += added
    }
    return text + (length == 1 ? "" : ", ") + g.ellipsis + ", " + tail + "]"
  }

  func schedulerLines(width: Int) -> [(String, TextStyle)] {
    var lines: [(String, TextStyle)] = []
    let s = state
    if s.scenario.isAllocatorOnly {
      let ops = s.scenario.ops ?? []
      lines.append(("allocator-only: \(ops.count) operation\(ops.count == 1 ? "" : "s")", TextStyle(.title)))
      let list = ops.map(\.text).joined(separator: "; ")
      for line in Fmt.wrap(list, width: width) { lines.append((line, TextStyle(.normal))) }
      return lines
    }
    // Phases, the current one in brackets.
    var phases = ""
    for phase in [Phase.cleanup, .refill, .prefill, .decode] {
      phases += s.phase == phase ? "[\(phase.rawValue)]" : " \(phase.rawValue) "
    }
    if s.phase == .done { phases += "  [done]" }
    lines.append((phases, TextStyle(.selected, bold: true)))
    let maxBatch = s.scenario.scheduler.maxBatch
    lines.append(
      (
        "iter \(Fmt.grouped(s.iteration))  active \(s.active.count)/\(maxBatch)  waiting \(Fmt.grouped(s.waiting.count))",
        TextStyle(.dim)
      ))
    func names(_ indices: some Sequence<Int>, limit: Int) -> [String] {
      var out: [String] = []
      for r in indices {
        if out.count >= limit { break }
        out.append(r < s.requests.count ? s.requests[r].id : "#\(r)")
      }
      return out
    }
    // Lines of `label items`, wrapped; long lists stop after a screenful.
    func add(_ label: String, _ indices: [Int], role: (Int) -> StyleRole, empty: String? = g.dash) {
      if indices.isEmpty {
        if let empty { lines.append((Fmt.padded(label, 10) + empty, TextStyle(.dim))) }
        return
      }
      let limit = 400
      let shown = Array(indices.prefix(limit))
      var first = true
      let lineStart = lines.count
      var current = Fmt.padded(label, 10)
      for r in shown {
        let name = r < s.requests.count ? s.requests[r].id : "#\(r)"
        let piece = (first ? "" : " ") + name
        if current.count + piece.count > width && !first {
          lines.append((current, TextStyle(.normal)))
          current = String(repeating: " ", count: 10) + name
        } else {
          current += piece
        }
        first = false
      }
      if indices.count > limit { current += " +\(Fmt.grouped(indices.count - limit)) more" }
      lines.append((current, TextStyle(.normal)))
      // Color single-line lists by their first owner; the colors of each name are in the tables.
      if lines.count - lineStart == 1, shown.count == 1 {
        lines[lineStart].1 = TextStyle(role(shown[0]), bold: true)
      }
    }
    add("waiting", Array(s.waiting), role: { .owner($0) })
    add("active", s.active, role: { .owner($0) })
    var finished: [Int] = []
    var aborted: [Int] = []
    var preempted: [Int] = []
    var lost: [Int] = []
    var pending: [Int] = []
    for (r, request) in s.requests.enumerated() {
      switch request.status {
      case .finished: finished.append(r)
      case .aborted: aborted.append(r)
      case .lost: lost.append(r)
      case .pending: pending.append(r)
      default: break
      }
      if request.preemptions > 0 { preempted.append(r) }
    }
    add("finished", finished, role: { .owner($0) })
    add("aborted", aborted, role: { _ in .finding }, empty: nil)
    add("preempted", preempted, role: { _ in .finding }, empty: nil)
    if !lost.isEmpty {
      add("lost", lost, role: { _ in .finding })
      lines[lines.count - 1].1 = TextStyle(.finding, bold: true)
    }
    if !pending.isEmpty {
      let text = pending.prefix(40).map { "\(s.requests[$0].id)@\(s.requests[$0].spec.arrive)" }.joined(
        separator: " ")
      lines.append(
        (Fmt.padded("arriving", 10) + text + (pending.count > 40 ? " \(g.ellipsis)" : ""), TextStyle(.dim)))
    }
    let st = s.stats
    var items = [
      "decoded \(Fmt.grouped(st.decodedTokens))", "admitted \(st.admissions)",
      "peak \(st.peakFramesInUse) frames",
    ]
    if s.policyType.capabilities.contains(.preemption) {
      items += ["evictions \(st.evictions)", "preemptions \(st.preemptions)"]
      if s.scenario.scheduler.prefixCache { items.append("prefix hits \(st.prefixHitPages) pages") }
    }
    var statsLine = ""
    for item in items {
      if !statsLine.isEmpty && statsLine.count + 2 + item.count > width {
        lines.append((statsLine, TextStyle(.dim)))
        statsLine = ""
      }
      statsLine += (statsLine.isEmpty ? "" : "  ") + item
    }
    if !statsLine.isEmpty { lines.append((statsLine, TextStyle(.dim))) }
    if let reason = s.endReason {
      lines.append(("ended: \(Text.endReason(reason))", TextStyle(.accent, bold: true)))
    }
    // One row per request that has arrived.
    let arrived = s.requests.indices.filter { s.requests[$0].status != .pending }.prefix(500)
    if !arrived.isEmpty && width >= 40 {
      let idWidth = min(8, max(2, arrived.map { s.requests[$0].id.count }.max() ?? 2))
      lines.append(("", TextStyle()))
      lines.append((Fmt.padded("id", idWidth) + "  status     prompt  output      pages", TextStyle(.title)))
      for r in arrived {
        let request = s.requests[r]
        let row =
          Fmt.padded(String(request.id.prefix(idWidth)), idWidth) + "  "
          + Fmt.padded(request.status.rawValue, 9)
          + Fmt.rightAligned(Fmt.grouped(request.spec.prompt.count), 8)
          + Fmt.rightAligned("\(Fmt.grouped(request.output))/\(Fmt.grouped(request.spec.output))", 10)
          + Fmt.rightAligned(Fmt.grouped(request.pageTable.count), 9)
          + (request.preemptions > 0 ? "  preempted x\(request.preemptions)" : "")
        let role: StyleRole = request.status == .lost || request.status == .aborted ? .finding : .owner(r)
        lines.append((row, TextStyle(role, bold: request.status == .running)))
      }
    }
    return lines
  }

  // MARK: Code

  struct CodeLines {
    var lines: [(String, TextStyle)]
    /// The row of the marked line (and of its value when that is on the next row).
    var currentRows: ClosedRange<Int>?
    var listingRows: Int
  }

  func codeLines(_ listing: CodeListing, width: Int) -> CodeLines {
    var lines: [(String, TextStyle)] = []
    var currentRows: ClosedRange<Int>?
    let codeWidth = listing.lines.map { $0.code.count }.max() ?? 0
    let aligned = listing.lines.allSatisfy { line in
      guard let value = line.value else { return true }
      return g.marker.count + 1 + codeWidth + 4 + value.count <= width
    }
    let blank = String(repeating: " ", count: g.marker.count + 1)
    for (i, line) in listing.lines.enumerated() {
      let isCurrent = listing.current == i
      let prefix = isCurrent ? g.marker + " " : blank
      let style = isCurrent ? TextStyle(.currentLine, bold: true, reverse: true) : TextStyle(.normal)
      let start = lines.count
      if let value = line.value {
        let comment = "# " + value
        if aligned {
          lines.append((prefix + Fmt.padded(line.code, codeWidth) + "  " + comment, style))
        } else if prefix.count + line.code.count + 2 + comment.count <= width {
          lines.append((prefix + line.code + "  " + comment, style))
        } else {
          lines.append((prefix + line.code, style))
          let indent = line.code.prefix { $0 == " " }.count + 4
          let pad = blank + String(repeating: " ", count: indent)
          for piece in Fmt.wrap(comment, width: max(8, width - pad.count)) {
            lines.append((pad + piece, isCurrent ? TextStyle(.currentLine, bold: true) : TextStyle(.accent)))
          }
        }
      } else {
        lines.append((prefix + line.code, style))
      }
      if isCurrent { currentRows = start...(lines.count - 1) }
    }
    let listingRows = lines.count
    if !listing.notes.isEmpty {
      for note in listing.notes {
        for piece in Fmt.wrap(note, width: width, indent: 2) { lines.append((piece, TextStyle(.accent))) }
      }
    }
    return CodeLines(lines: lines, currentRows: currentRows, listingRows: listingRows)
  }

  func drawCode(_ grid: inout Grid, _ rect: Rect, listing: CodeListing, code: CodeLines) {
    guard !rect.isEmpty else { return }
    var title = "code: " + listing.title
    if title.count + state.policy.rawValue.count + 8 <= rect.width { title += " [\(state.policy.rawValue)]" }
    grid.box(rect, title: title, focused: view.focus == .code, glyphs: g)
    let inner = rect.inner
    guard inner.height > 0 else { return }
    // Notes (live values) take up to half the rows; the listing shows a window around the marked line.
    let notes = Array(code.lines[code.listingRows...])
    let listing = Array(code.lines[..<code.listingRows])
    var rows: [(String, TextStyle)]
    if listing.count + notes.count <= inner.height {
      rows = listing + notes
    } else {
      let noteRows = min(notes.count, inner.height / 2)
      let listingRows = inner.height - noteRows
      var start = 0
      if let current = code.currentRows {
        start = max(
          0,
          min(
            current.upperBound - listingRows + 1 + (listingRows > current.count + 1 ? 1 : 0),
            current.lowerBound))
        start = min(start, max(0, listing.count - listingRows))
      }
      rows = Array(listing[start..<min(listing.count, start + listingRows)]) + Array(notes.prefix(noteRows))
    }
    let offset = min(max(0, view.scroll[.code] ?? 0), max(0, rows.count - 1))
    for (i, row) in rows.dropFirst(offset).prefix(inner.height).enumerated() {
      var style = row.1
      let text = Fmt.clip(row.0, inner.width, ellipsis: g.ellipsis)
      if style.role == .currentLine && style.reverse {
        // The marked line is highlighted across the whole panel width.
        grid.put(Fmt.padded(text, inner.width), x: inner.x, y: inner.y + i, in: inner, style: style)
        style.reverse = false
      } else {
        grid.put(text, x: inner.x, y: inner.y + i, in: inner, style: style)
      }
    }
  }

  // MARK: Event log

  func drawLog(_ grid: inout Grid, _ rect: Rect) {
    guard !rect.isEmpty else { return }
    grid.box(rect, title: "event log", focused: view.focus == .log, glyphs: g)
    let inner = rect.inner
    guard inner.height > 0, inner.width > 0 else { return }
    var lines: [(String, TextStyle)] = []
    let states = recent.isEmpty ? [LogEntry(state)] : recent
    // Only the entries that can show are formatted.
    let needed = inner.height + max(0, view.scroll[.log] ?? 0)
    var entries: [[(String, TextStyle)]] = []
    var count = 0
    for s in states.reversed() {
      if count >= needed { break }
      var entry: [(String, TextStyle)] = []
      let isCurrent = s.step == state.step
      let text = "#\(s.step) " + s.text
      entry.append(
        (
          Fmt.clip(text, inner.width, ellipsis: g.ellipsis),
          isCurrent ? TextStyle(.accent, bold: true) : TextStyle(.normal)
        ))
      for finding in s.findings {
        for piece in Fmt.wrap("! " + finding, width: inner.width, indent: 4) {
          entry.append((piece, TextStyle(.finding, bold: true)))
        }
      }
      count += entry.count
      entries.append(entry)
    }
    for entry in entries.reversed() { lines += entry }
    let offset = min(max(0, view.scroll[.log] ?? 0), max(0, lines.count - inner.height))
    let end = lines.count - offset
    let start = max(0, end - inner.height)
    for (i, line) in lines[start..<end].enumerated() {
      grid.put(line.0, x: inner.x, y: inner.y + i, in: inner, style: line.1)
    }
    if offset > 0 {
      grid.put(
        "\(g.down) \(offset) newer", x: rect.maxX - 2 - "\(g.down) \(offset) newer".count, y: rect.maxY - 1,
        in: rect, style: TextStyle(.dim))
    }
  }

  // MARK: Help

  static let keyTable: [(String, String)] = [
    ("→ / l", "next step"),
    ("← / h", "previous step"),
    ("↓ / j", "next phase"),
    ("↑ / k", "previous phase"),
    ("] / PgDn", "next iteration"),
    ("[ / PgUp", "previous iteration"),
    ("} / {", "next/prev preemption"),
    ("space", "play / pause"),
    ("+ / -", "faster / slower"),
    ("p", "play step/phase/iter"),
    ("g / Home", "start"),
    ("G / End", "end"),
    ("#", "go to step"),
    ("n / N", "next/previous finding"),
    ("Tab/Shift-Tab", "next/previous pane"),
    (":", "command line"),
    ("z / Z", "zoom out / in"),
    ("> / <", "pan frames right/left"),
    ("r", "start/stop recording"),
    ("Ctrl-L", "redraw"),
    ("?", "help"),
    ("Esc", "close overlay"),
    ("q", "quit"),
  ]

  static let commandHelp = CommandParser.usage

  func asciiKeys(_ text: String) -> String {
    guard !g.unicode else { return text }
    return text.replacingOccurrences("→", "Right").replacingOccurrences("←", "Left")
      .replacingOccurrences("↑", "Up").replacingOccurrences("↓", "Down")
  }

  func drawHelp(_ grid: inout Grid) {
    let width = grid.width
    let height = grid.height
    let boxWidth = min(width - 2, 96)
    let innerWidth = boxWidth - 4
    let entries = Self.keyTable.map { (asciiKeys($0.0), asciiKeys($0.1)) }
    let keyWidth = entries.map { $0.0.count }.max() ?? 0
    let columnWidth = keyWidth + 2 + (entries.map { $0.1.count }.max() ?? 0)
    let columns = innerWidth >= columnWidth * 2 + 2 ? 2 : 1
    let gap = max(2, min(6, innerWidth - columnWidth * 2))
    let perColumn = (entries.count + columns - 1) / columns
    var body: [(String, TextStyle)] = []
    for row in 0..<perColumn {
      var text = ""
      for column in 0..<columns {
        let index = column * perColumn + row
        guard index < entries.count else { continue }
        let (key, action) = entries[index]
        let cell = Fmt.padded(key, keyWidth) + "  " + action
        text += column == 0 && columns > 1 ? Fmt.padded(cell, columnWidth + gap) : cell
      }
      body.append((text, TextStyle(.normal)))
    }
    body.append((asciiKeys("↑/↓: phase in the frames pane, scroll in the other panes"), TextStyle(.dim)))
    body.append(("", TextStyle()))
    for line in Fmt.wrap(Self.commandHelp, width: innerWidth, indent: 2) {
      body.append((line, TextStyle(.accent)))
    }
    let description = timeline.scenario.description.trimmingSpaces
    if !description.isEmpty {
      body.append(("", TextStyle()))
      for line in Fmt.wrap(description, width: innerWidth) { body.append((line, TextStyle(.dim))) }
    }
    let boxHeight = min(height - 2, body.count + 3)
    let rect = Rect(
      x: (width - boxWidth) / 2, y: max(1, (height - boxHeight) / 2), width: boxWidth, height: boxHeight)
    grid.fill(x: rect.x, y: rect.y, width: rect.width, height: rect.height)
    grid.box(rect, title: "help: keys", focused: true, glyphs: g)
    let inner = Rect(x: rect.x + 2, y: rect.y + 1, width: innerWidth, height: max(0, boxHeight - 3))
    for (i, line) in body.prefix(inner.height).enumerated() {
      grid.put(line.0, x: inner.x, y: inner.y + i, in: inner, style: line.1)
    }
    grid.put(" Esc closes ", x: rect.maxX - 14, y: rect.maxY - 1, in: rect, style: TextStyle(.hint))
  }
}

extension String {
  fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
    guard !target.isEmpty else { return self }
    var result = ""
    var rest = Substring(self)
    while let range = rest.firstRange(of: target) {
      result += rest[..<range.lowerBound]
      result += replacement
      rest = rest[range.upperBound...]
    }
    return result + rest
  }

  fileprivate var trimmingSpaces: String {
    var s = Substring(self)
    while let c = s.first, c.isWhitespace { s = s.dropFirst() }
    while let c = s.last, c.isWhitespace { s = s.dropLast() }
    return String(s)
  }
}
