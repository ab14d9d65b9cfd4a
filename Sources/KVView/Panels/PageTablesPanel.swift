import KVEngine

/// The page tables: `A: [0, 1, 4]  180 tokens, 3 pages -> can hold 192 tokens` per request that holds
/// pages, with logical and physical rows under each table when there is room.
struct PageTablesPanel: Panel {
  let state: EngineState
  let view: ViewState
  let g: Glyphs
  /// The lines of the panel; only the first ones that can show are formatted, the rest are blank.
  private(set) var lines: [(String, TextStyle)] = []
  /// The first line of each request (by index) in `lines`.
  private(set) var starts: [Int: Int] = [:]

  /// The lines for `width` columns, detailed when they fit in `rows`; at least the first `needed` are
  /// formatted.
  init(state: EngineState, view: ViewState, g: Glyphs, width: Int, rows: Int, needed: Int) {
    self.state = state
    self.view = view
    self.g = g
    (lines, starts) = tableLines(width: width, rows: rows, needed: needed)
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    ScrolledLinesBox(
      title: "page tables", lines: lines, focused: view.focus == .tables, scroll: view.scroll[.tables] ?? 0,
      g: g
    ).draw(into: &grid, in: rect)
  }

  /// How a request that is ending reads instead of its capacity: `finished: releasing, 2 pages left`.
  static func ending(_ request: RequestState, pages: Int) -> String? {
    guard request.releasing || request.isTerminal else { return nil }
    let how =
      request.isTerminal
      ? request.status.rawValue
      : request.abortRequested ? "aborted" : request.output >= request.spec.output ? "finished" : "preempted"
    let left = "\(pages) page\(pages == 1 ? "" : "s") left"
    return pages > 0 || request.releasing ? "\(how): releasing, \(left)" : "\(how): holds no pages"
  }

  /// Page tables: `A: [0, 1, 4]  180 tokens, 3 pages -> can hold 192 tokens`, the summary on a line of
  /// its own when narrow, and logical and physical rows under each table when there is room.
  /// Only the first `needed` lines are formatted once the detailed form is ruled out; the rest are
  /// counted (blank placeholders), so the cost follows the screen, not the number of requests.
  private func tableLines(width: Int, rows: Int, needed: Int) -> ([(String, TextStyle)], [Int: Int]) {
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
      let summary = Self.ending(request, pages: pages) ?? held + ", " + capacity
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

  /// The length of `[a, b, c]`, or more than `limit` (counting stops there).
  private func listLength(_ values: [Int], limit: Int) -> Int {
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

  /// A page table as a list, `[0, 1, 4]`, or `[0, 1, …, 99]` when longer than `room`; a released entry
  /// (the rest of the table is being freed) shows as `-`. Linear in what is shown, not in the table's
  /// length.
  private func listText(_ values: [Int], room: Int) -> String {
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
}
