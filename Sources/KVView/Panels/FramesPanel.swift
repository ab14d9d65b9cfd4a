import KVEngine
import KVText

/// How the frames panel shows the pool.
struct FramesLayout: Equatable {
  enum Kind: Equatable {
    /// One small box per frame: index, owner label, refcount, free bit under it.
    case detailed(inner: Int, cell: Int)
    /// One character per frame, with a ruler and the free bits.
    case compact
    /// One character per run of frames, shaded by how many are in use.
    case overview(perCell: Int)
  }

  var kind: Kind
  /// Width of the row labels on the left.
  var labelWidth: Int
  /// Cells per row.
  var perRow: Int
  /// First frame shown, and the frame after the last one shown.
  var start: Int
  var end: Int
  /// Rows the drawing takes.
  var bodyRows: Int

  var framesPerCell: Int {
    if case .overview(let n) = kind { return n }
    return 1
  }
}

/// The page frames box: one small box per frame, a character per frame, or an overview of runs of frames,
/// whichever is the densest readable one that fits. The rows under the drawing are `BitmaskPanel`'s.
struct FramesPanel: Panel {
  let state: EngineState
  let view: ViewState
  let g: Glyphs
  let own: Ownership
  /// How the pool is drawn, or nil when there is no pool or no room.
  private(set) var layout: FramesLayout?
  /// The owners' characters in the compact layout.
  private(set) var ownerKey: OwnerKey?

  var pool: PagePool { state.pool }

  /// The panel for a drawing at most `width` x `maxRows` (inside the box).
  init(state: EngineState, view: ViewState, g: Glyphs, width: Int, maxRows: Int) {
    self.state = state
    self.view = view
    self.g = g
    own = Ownership(state)
    layout = nil
    ownerKey = nil
    layout = chooseLayout(width: width, maxRows: maxRows)
    if let layout, case .compact = layout.kind {
      ownerKey = OwnerKey(
        state: state, own: own, range: layout.start..<layout.end, selected: view.selectedRequest)
    } else if let layout, case .overview(1) = layout.kind {
      ownerKey = OwnerKey(
        state: state, own: own, range: layout.start..<layout.end, selected: view.selectedRequest)
    }
  }

  // MARK: Layout

  /// Chooses the densest readable layout that fits `width` x `maxRows`.
  private func chooseLayout(width: Int, maxRows: Int) -> FramesLayout? {
    let n = pool.count
    guard n > 0, width >= 4, maxRows >= 1 else { return nil }
    let zoom = max(0, view.zoom)
    let viewStart = min(max(0, view.viewportStart), n - 1)
    if zoom <= 1 {
      let labelWidth = width >= 50 ? 6 : 0
      let usable = width - labelWidth
      // Detailed boxes: the whole pool (zoom 0) or a window from the viewport (zoom 1).
      if n <= 2048 {
        let start = zoom == 1 ? viewStart : 0
        let inner = detailedInnerWidth(start..<min(n, start + 512))
        for gap in [1, 0] {
          let cell = inner + 2 + gap
          let perRow = usable / cell
          guard perRow > 0 else { continue }
          let fitBands = maxRows / 4
          let needBands = (n - start + perRow - 1) / perRow
          if needBands <= fitBands || (zoom == 1 && fitBands > 0 && gap == 0) {
            let bands = min(needBands, fitBands)
            let end = min(n, start + bands * perRow)
            return FramesLayout(
              kind: .detailed(inner: inner, cell: cell), labelWidth: labelWidth, perRow: perRow, start: start,
              end: end, bodyRows: bands * 4)
          }
        }
      }
      // One character per frame.
      let perRow = usable
      if perRow > 0 && maxRows >= 3 {
        let start = zoom == 1 ? (viewStart / perRow) * perRow : 0
        let needBands = (n - start + perRow - 1) / perRow
        let fitBands = maxRows / 3
        if needBands <= fitBands || zoom == 1 {
          let bands = min(needBands, fitBands)
          return FramesLayout(
            kind: .compact, labelWidth: labelWidth, perRow: perRow, start: start,
            end: min(n, start + bands * perRow), bodyRows: bands * 3)
        }
      }
    }
    // Overview: a header row, then rows of cells with the first frame of each row on the left.
    let labelWidth = Fmt.grouped(n - 1).count + 1
    let perRow = width - labelWidth
    // Leave two more rows for the mask window and the selection.
    let rows = maxRows - 1 - (maxRows >= 6 ? 2 : 0)
    guard perRow > 0, rows > 0 else { return nil }
    let perCell: Int
    if zoom > 1 {
      perCell = zoom
    } else {
      let need = (n + perRow * rows - 1) / (perRow * rows)
      var p = 1
      while p < need { p *= 2 }
      perCell = p
    }
    let span = perCell * perRow
    var start = zoom > 1 ? (viewStart / perCell) * perCell : 0
    // Keep the last screenful full when the viewport runs past the end.
    let shownRows = min(rows, (n + span - 1) / span)
    if start + shownRows * span > n {
      start = max(0, ((n - shownRows * span + perCell - 1) / perCell) * perCell)
    }
    if start >= n { start = 0 }
    let usedRows = min(rows, (n - start + span - 1) / span)
    return FramesLayout(
      kind: .overview(perCell: perCell), labelWidth: labelWidth, perRow: perRow, start: start,
      end: min(n, start + usedRows * span), bodyRows: 1 + usedRows)
  }

  private func detailedInnerWidth(_ range: Range<Int>) -> Int {
    var inner = 4
    for f in range { inner = max(inner, label(f).count, String(f).count) }
    return min(inner, 6)
  }

  // MARK: One frame

  /// `A:0`, `free`, `lru`, `used`; in a queue pool `hash` for a free frame holding a hash and `null`
  /// for the reserved frame.
  func label(_ f: Int) -> String {
    let holders = own.holders[f]
    if holders > 0 {
      let r = Int(own.owner[f])
      let id = r < state.requests.count ? state.requests[r].id : "?"
      let page = f < own.logical.count ? String(own.logical[f]) : "?"
      return "\(id):\(page)" + (holders > 1 ? "+" : "")
    }
    if f == pool.reserved { return "null" }
    if pool.lru.contains(f) { return "lru" }
    if pool.freeMask.contains(f) { return pool.order == .queue && pool.isCached(f) ? "hash" : "free" }
    return "used"
  }

  /// The role of a frame's box or glyph, ignoring the last step.
  func role(_ f: Int) -> StyleRole {
    let holders = own.holders[f]
    if holders > 1 || pool.refs[f] > 1 { return .shared }
    if holders > 0 { return .owner(Int(own.owner[f])) }
    if f == pool.reserved { return .dim }
    if pool.lru.contains(f) { return .cached }
    if pool.freeMask.contains(f) { return pool.order == .queue && pool.isCached(f) ? .cached : .free }
    return .normal
  }

  /// What the marks of the dense layouts mean, for the help.
  static func marks(_ g: Glyphs) -> String {
    let free = g.unicode ? String(g.emptyCell) : "."
    return
      "dense frames: letter owner (key below), \(g.sharedCell) shared, \(g.cachedCell) cached, \(free) free, \(g.shades[3]) all used, \(g.shades[1]) some"
  }

  // MARK: Drawing

  /// Draws the box on `rect` and the frames in the top of it.
  func draw(into grid: inout Grid, in rect: Rect) {
    var title = "page frames: \(Fmt.grouped(pool.count)) x \(state.pageSize) slots"
    if let layout, layout.framesPerCell > 1 { title += ", overview" }
    grid.box(rect, title: title, focused: view.focus == .frames, glyphs: g)
    drawContents(into: &grid, in: rect.inner)
  }

  /// Draws the frames without the box, in the top of `rect` (the compare view's columns).
  func drawContents(into grid: inout Grid, in rect: Rect) {
    if let layout { drawFrames(&grid, in: rect, layout: layout) }
  }

  private func drawFrames(_ grid: inout Grid, in rect: Rect, layout: FramesLayout) {
    let touched = Set(state.event.frames)
    var table: [Int] = []
    if let r = view.selectedRequest, r >= 0, r < state.requests.count { table = state.requests[r].pageTable }
    // Only the selected frames on screen go in a set; the overview walks the table itself.
    var selected = Set<Int>()
    if case .overview = layout.kind {
    } else {
      for f in table where f >= layout.start && f < layout.end { selected.insert(f) }
    }
    switch layout.kind {
    case .detailed(let inner, let cell):
      drawDetailed(&grid, rect, layout, inner: inner, cell: cell, touched: touched, selected: selected)
    case .compact:
      drawCompact(&grid, rect, layout, touched: touched, selected: selected)
    case .overview(let perCell):
      drawOverview(&grid, rect, layout, perCell: perCell, selected: table)
    }
  }

  private func drawRowLabels(
    _ grid: inout Grid, _ rect: Rect, _ y: Int, _ layout: FramesLayout, _ labels: [String]
  ) {
    guard layout.labelWidth > 0 else { return }
    for (i, text) in labels.enumerated() where !text.isEmpty {
      grid.put(Fmt.padded(text, layout.labelWidth), x: rect.x, y: y + i, in: rect, style: TextStyle(.dim))
    }
  }

  private func drawDetailed(
    _ grid: inout Grid, _ rect: Rect, _ layout: FramesLayout, inner: Int, cell: Int, touched: Set<Int>,
    selected: Set<Int>
  ) {
    for f in layout.start..<layout.end {
      let index = f - layout.start
      let band = index / layout.perRow
      let column = index % layout.perRow
      let x = rect.x + layout.labelWidth + column * cell
      let y = rect.y + band * 4
      if column == 0 { drawRowLabels(&grid, rect, y, layout, ["frame", "owner", "refs", "bit"]) }
      let isTouched = touched.contains(f)
      let base = role(f)
      let border = TextStyle(isTouched ? .touched : base, bold: isTouched)
      let (tl, tr, bl, br, h, v) =
        isTouched ? (g.ttl, g.ttr, g.tbl, g.tbr, g.hh, g.vv) : (g.tl, g.tr, g.bl, g.br, g.h, g.v)
      let hs = String(h)
      // Top border with the index, bottom border with the refcount.
      let number = Fmt.clip(String(f), inner, ellipsis: "")
      let top = String(tl) + number + String(repeating: hs, count: inner - number.count) + String(tr)
      let refs = Fmt.clip("r\(pool.refs[f])", inner, ellipsis: "")
      let bottom = String(bl) + refs + String(repeating: hs, count: inner - refs.count) + String(br)
      grid.put(top, x: x, y: y, in: rect, style: border)
      grid.put(bottom, x: x, y: y + 2, in: rect, style: border)
      grid.put(String(v), x: x, y: y + 1, in: rect, style: border)
      grid.put(String(v), x: x + inner + 1, y: y + 1, in: rect, style: border)
      var labelStyle = TextStyle(base == .free ? .free : base, bold: own.holders[f] > 0)
      if selected.contains(f) { labelStyle = TextStyle(.selected, bold: true, reverse: true) }
      if view.selectedFrame == f { labelStyle.reverse = true }
      grid.put(
        Fmt.padded(Fmt.clip(label(f), inner, ellipsis: g.ellipsis), inner), x: x + 1, y: y + 1, in: rect,
        style: labelStyle)
      let bit = pool.freeMask.contains(f)
      grid.put(
        bit ? "1" : "0", x: x + 1 + (inner - 1) / 2, y: y + 3, in: rect,
        style: TextStyle(bit ? .free : .normal, bold: !bit))
    }
  }

  private func drawCompact(
    _ grid: inout Grid, _ rect: Rect, _ layout: FramesLayout, touched: Set<Int>, selected: Set<Int>
  ) {
    var band = -1
    var nextRulerColumn = 0
    for f in layout.start..<layout.end {
      let index = f - layout.start
      let column = index % layout.perRow
      if index / layout.perRow != band {
        band = index / layout.perRow
        nextRulerColumn = 0
        drawRowLabels(&grid, rect, rect.y + band * 3, layout, ["frame", "owner", "bit"])
      }
      let x = rect.x + layout.labelWidth + column
      let y = rect.y + band * 3
      if f % 10 == 0 && column >= nextRulerColumn {
        let number = String(f)
        if column + number.count <= layout.perRow {
          grid.put(number, x: x, y: y, in: rect, style: TextStyle(.dim))
          nextRulerColumn = column + number.count + 1
        }
      }
      let base = role(f)
      let glyph: Character
      switch base {
      case .shared: glyph = g.sharedCell
      case .owner(let r): glyph = ownerKey?.glyph(r) ?? "?"
      case .cached: glyph = g.cachedCell
      case .free: glyph = g.unicode ? g.emptyCell : "."
      default: glyph = "u"
      }
      var style = TextStyle(base, bold: base != .free)
      if touched.contains(f) { style = TextStyle(.touched, bold: true) }
      if selected.contains(f) { style = TextStyle(.selected, bold: true, reverse: true) }
      if view.selectedFrame == f { style.reverse = true }
      grid.set(glyph, x: x, y: y + 1, style: style)
      let bit = pool.freeMask.contains(f)
      grid.set(bit ? "1" : "0", x: x, y: y + 2, style: TextStyle(bit ? .free : .normal))
    }
  }

  private func drawOverview(
    _ grid: inout Grid, _ rect: Rect, _ layout: FramesLayout, perCell: Int, selected: [Int]
  ) {
    let n = pool.count
    let last = layout.end - 1
    var header = "frames \(Fmt.grouped(layout.start))-\(Fmt.grouped(max(layout.start, last)))"
    if layout.start > 0 || layout.end < n { header += " of \(Fmt.grouped(n))" }
    header += ", 1 cell = \(Fmt.grouped(perCell)) frame\(perCell == 1 ? "" : "s")"
    header +=
      "   \(g.shades[3]) all used  \(g.shades[1]) some  \(g.emptyCell == " " ? "blank" : String(g.emptyCell)) free"
    grid.put(header, x: rect.x, y: rect.y, in: rect, style: TextStyle(.title))
    let cells = (layout.end - layout.start + perCell - 1) / perCell
    // Marks of the last step and of the selected request: O(marked frames).
    var marks = [UInt8](repeating: 0, count: cells)
    for f in state.event.frames where f >= layout.start && f < layout.end {
      marks[(f - layout.start) / perCell] |= 1
    }
    for f in selected where f >= layout.start && f < layout.end { marks[(f - layout.start) / perCell] |= 2 }
    if let f = view.selectedFrame, f >= layout.start, f < layout.end {
      marks[(f - layout.start) / perCell] |= 4
    }
    let refs = pool.refs
    let hasLRU = pool.lru.count > 0
    for c in 0..<cells {
      let a = layout.start + c * perCell
      let b = min(layout.end, a + perCell)
      // Free frames counted a mask word at a time; cached ones looked up only when the LRU is not empty.
      var free = 0
      var f = a
      while f < b {
        let word = pool.freeMask.word(f >> 6)
        let low = f & 63
        let count = min(64 - low, b - f)
        let mask: UInt64 = count == 64 ? ~0 : ((UInt64(1) << UInt64(count)) - 1) << UInt64(low)
        free += (word & mask).nonzeroBitCount
        f += count
      }
      var cached = 0
      if hasLRU {
        for f in a..<b where refs[f] <= 0 && pool.lru.contains(f) { cached += 1 }
      }
      let used = (b - a) - free - cached
      var candidate: Int32 = -1
      var votes = 0
      if used > 0 {
        own.owner.withUnsafeBufferPointer { owner in
          for f in a..<b {
            let o = owner[f]
            if o < 0 { continue }
            if votes == 0 {
              candidate = o
              votes = 1
            } else if o == candidate {
              votes += 1
            } else {
              votes -= 1
            }
          }
        }
      }
      var dominant = -1
      if candidate >= 0 {
        var count = 0
        own.owner.withUnsafeBufferPointer { owner in
          for f in a..<b where owner[f] == candidate { count += 1 }
        }
        if count * 2 > used { dominant = Int(candidate) }
      }
      var glyph = g.shade(used + cached, of: b - a)
      if perCell == 1, dominant >= 0, own.holders[a] == 1, let ownerKey {
        // One frame a cell: its owner's letter, as the compact layout draws it.
        glyph = ownerKey.glyph(dominant)
      }
      var style: TextStyle
      if used == 0 && cached > 0 {
        style = TextStyle(.cached)
      } else if dominant >= 0 {
        style = TextStyle(.owner(dominant), bold: true)
      } else if used > 0 {
        style = TextStyle(.normal)
      } else {
        style = TextStyle(.free)
      }
      if marks[c] & 1 != 0 { style = TextStyle(.touched, bold: true) }
      if marks[c] & 2 != 0 { style = TextStyle(.selected, bold: true, reverse: true) }
      if marks[c] & 4 != 0 { style.reverse = true }
      let row = c / layout.perRow
      let column = c % layout.perRow
      if column == 0 {
        grid.put(
          Fmt.rightAligned(Fmt.grouped(a), layout.labelWidth - 1), x: rect.x, y: rect.y + 1 + row, in: rect,
          style: TextStyle(.dim))
      }
      grid.set(glyph, x: rect.x + layout.labelWidth + column, y: rect.y + 1 + row, style: style)
    }
  }
}
