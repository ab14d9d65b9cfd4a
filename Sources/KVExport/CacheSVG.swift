/// Draws a `CacheDiagram` as an SVG picture in the style of the seed diagram: the page tables on the
/// left, one arrow from each logical page to its physical frame, the frames on the right coloured by
/// owner (a shared frame split between its owners' colours, free frames plain) with their refcounts
/// and free bits, then the free mask (or queue), the refs, the counts and a legend.
public struct CacheSVG: Sendable {
  public let diagram: CacheDiagram

  public init(_ diagram: CacheDiagram) { self.diagram = diagram }

  // Layout, in pixels.
  private static let margin = 24
  private static let contentTop = 104
  private static let tableWidth = 180
  private static let logicalWidth = 70
  private static let captionHeight = 24
  private static let rowHeight = 22
  private static let tableGap = 16
  private static let arrowRoom = 140
  private static let boxWidth = 170
  private static let boxHeight = 32
  private static let boxPitch = 38
  private static let bitRoom = 70
  private static let framesPerColumn = 16
  private static let lineHeight = 22

  private var framesX: Int { Self.margin + Self.tableWidth + Self.arrowRoom }
  private var rowsPerColumn: Int { max(1, min(Self.framesPerColumn, diagram.frames.count)) }

  /// The top-left corner of frame `i`'s box.
  private func frameOrigin(_ i: Int) -> (x: Int, y: Int) {
    let column = i / rowsPerColumn
    let row = i % rowsPerColumn
    return (
      framesX + column * (Self.boxWidth + Self.bitRoom), Self.contentTop + 14 + row * Self.boxPitch
    )
  }

  /// The SVG document, ending with a newline.
  public var xml: String {
    let frameColumns = (diagram.frames.count + rowsPerColumn - 1) / rowsPerColumn
    let framesRight = framesX + frameColumns * (Self.boxWidth + Self.bitRoom)
    let framesBottom = Self.contentTop + 14 + rowsPerColumn * Self.boxPitch
    let tablesBottom =
      Self.contentTop + 14 + diagram.tables.reduce(0) { $0 + tableHeight($1) + Self.tableGap }
    var textLines = [
      (diagram.title, 18), (diagram.subtitle, 13), (diagram.event, 13), (diagram.countsLine, 13),
    ].map { Self.textWidth($0.0, size: $0.1) }
    textLines += [
      Self.textWidth(diagram.maskLine, size: 14), Self.textWidth(diagram.refsLine, size: 13),
      Self.textWidth(Self.keyLine, size: 12),
    ]
    let width = min(2400, max(760, framesRight + Self.margin, (textLines.max() ?? 0) + 2 * Self.margin))
    let legend = legendItems()
    let legendRows = Self.legendRows(legend, width: width - 2 * Self.margin)
    var y = max(tablesBottom, framesBottom) + 20
    let bottomLines = 4 + (diagram.queueLine == nil ? 0 : 1) + diagram.notes.count
    let height = y + bottomLines * Self.lineHeight + legendRows.count * Self.lineHeight + Self.margin

    var svg = SVGDocument(width: width, height: height)
    for index in Set(diagram.tables.map { $0.request % Palette.owners.count }).sorted() {
      svg.arrowMarker(id: "arrow-\(index)", color: Palette.owners[index])
    }
    drawHeading(into: &svg, width: width)
    svg.comment("page tables")
    svg.text(
      "page tables (logical page \u{2192} frame)", x: Self.margin, y: Self.contentTop, size: 13, bold: true)
    var top = Self.contentTop + 14
    var rows: [(Int, y: Int, frame: Int)] = []
    for table in diagram.tables {
      rows += drawTable(table, top: top, into: &svg)
      top += tableHeight(table) + Self.tableGap
    }
    if diagram.tables.isEmpty {
      svg.text(diagram.noTables, x: Self.margin, y: top + 14, size: 12, color: Palette.muted)
    }
    svg.comment("frames")
    svg.text(
      "physical frames (\(diagram.frameSummary))", x: framesX, y: Self.contentTop, size: 13, bold: true)
    for box in diagram.frames { drawFrame(box, into: &svg) }
    svg.comment("arrows: logical page -> frame")
    for (request, rowY, frame) in rows where frame < diagram.frames.count {
      let origin = frameOrigin(frame)
      svg.arrow(
        from: (Self.margin + Self.tableWidth, rowY), to: (origin.x - 1, origin.y + Self.boxHeight / 2),
        color: Palette.owner(request), marker: "arrow-\(request % Palette.owners.count)")
    }
    svg.comment("free mask, refs, counts")
    y += 4
    svg.text(diagram.maskLine, x: Self.margin, y: y, size: 14, color: "#1b4f72", font: .mono, bold: true)
    y += Self.lineHeight
    svg.text(diagram.refsLine, x: Self.margin, y: y, size: 13, font: .mono)
    y += Self.lineHeight
    svg.text(diagram.countsLine, x: Self.margin, y: y, size: 13, color: Palette.muted)
    if let queue = diagram.queueLine {
      y += Self.lineHeight
      svg.text(queue, x: Self.margin, y: y, size: 13)
    }
    for note in diagram.notes {
      y += Self.lineHeight
      svg.text("not drawn: " + note, x: Self.margin, y: y, size: 12, color: Palette.muted)
    }
    y += Self.lineHeight
    svg.comment("legend")
    svg.text(Self.keyLine, x: Self.margin, y: y, size: 12, color: Palette.muted)
    for row in legendRows {
      y += Self.lineHeight
      var x = Self.margin
      for item in row {
        drawSwatch(item, x: x, y: y - 12, into: &svg)
        svg.text(item.label, x: x + 20, y: y, size: 12)
        x += Self.legendWidth(item)
      }
    }
    return svg.xml
  }

  private static let keyLine =
    "A:2 = request A's logical page 2 \u{B7} rN = refcount \u{B7} bit = free bit (1 = free, 0 = alloc)"

  private func drawHeading(into svg: inout SVGDocument, width: Int) {
    svg.text(diagram.title, x: Self.margin, y: 32, size: 18, bold: true)
    svg.text(diagram.subtitle, x: Self.margin, y: 56, size: 13, color: Palette.muted)
    let room = (width - 2 * Self.margin) * 10 / (13 * 6)
    let event =
      diagram.event.count > room ? String(diagram.event.prefix(max(1, room - 3))) + "..." : diagram.event
    svg.text(event, x: Self.margin, y: 78, size: 13)
  }

  private func tableHeight(_ table: CacheDiagram.Table) -> Int {
    Self.captionHeight + Self.rowHeight * (1 + table.entries.count) + (table.hiddenPages > 0 ? 18 : 0)
  }

  /// Draws one page table at `top`; returns the middle of each row that has a frame.
  private func drawTable(_ table: CacheDiagram.Table, top: Int, into svg: inout SVGDocument)
    -> [(Int, y: Int, frame: Int)]
  {
    let x = Self.margin
    let color = Palette.owner(table.request)
    svg.comment("page table of \(table.id)")
    svg.text(table.id, x: x, y: top + 16, size: 14, color: color, bold: true)
    svg.text(
      table.caption, x: x + 14 + Self.textWidth(table.id, size: 14), y: top + 16, size: 12,
      color: Palette.muted)
    let tableTop = top + Self.captionHeight
    let height = Self.rowHeight * (1 + table.entries.count)
    svg.rect(
      x: x, y: tableTop, width: Self.tableWidth, height: height, fill: Palette.tint(table.request),
      stroke: color,
      strokeWidth: 2)
    svg.line(
      x1: x + Self.logicalWidth, y1: tableTop, x2: x + Self.logicalWidth, y2: tableTop + height, stroke: color
    )
    let physicalMiddle = x + Self.logicalWidth + (Self.tableWidth - Self.logicalWidth) / 2
    svg.text(
      "logical", x: x + Self.logicalWidth / 2, y: tableTop + 15, size: 11, color: color, anchor: .middle,
      bold: true)
    svg.text(
      "physical", x: physicalMiddle, y: tableTop + 15, size: 11, color: color, anchor: .middle, bold: true)
    var rows: [(Int, y: Int, frame: Int)] = []
    for (i, entry) in table.entries.enumerated() {
      let rowTop = tableTop + Self.rowHeight * (i + 1)
      svg.line(x1: x, y1: rowTop, x2: x + Self.tableWidth, y2: rowTop, stroke: color)
      svg.text(
        String(entry.logical), x: x + Self.logicalWidth / 2, y: rowTop + 15, size: 12, color: color,
        anchor: .middle)
      let physical = entry.frame.map { "frame \(CacheDiagram.grouped($0))" } ?? "released"
      svg.text(
        physical, x: physicalMiddle, y: rowTop + 15, size: 12, color: color, anchor: .middle, bold: true)
      if let frame = entry.frame { rows.append((table.request, rowTop + Self.rowHeight / 2, frame)) }
    }
    if table.hiddenPages > 0 {
      svg.text(
        "... \(CacheDiagram.grouped(table.hiddenPages)) more page\(table.hiddenPages == 1 ? "" : "s")", x: x,
        y: tableTop + height + 14, size: 11, color: Palette.muted)
    }
    return rows
  }

  private func drawFrame(_ box: CacheDiagram.FrameBox, into svg: inout SVGDocument) {
    let (x, y) = frameOrigin(box.index)
    let w = Self.boxWidth
    let h = Self.boxHeight
    var label: String
    var labelColor = Palette.muted
    switch box.kind {
    case .held(let holders):
      let bands = holders.prefix(4)
      let band = w / bands.count
      for (i, holder) in bands.enumerated() {
        let bandWidth = i == bands.count - 1 ? w - band * i : band
        svg.rect(x: x + band * i, y: y, width: bandWidth, height: h, fill: Palette.tint(holder.request))
      }
      let shared = holders.count > 1
      svg.rect(
        x: x, y: y, width: w, height: h, fill: "none",
        stroke: shared ? "#444444" : Palette.owner(holders[0].request), strokeWidth: 2, rx: 3)
      label = holders.prefix(2).map { "\($0.id):\($0.logical)" }.joined(separator: " + ")
      if holders.count > 2 { label += " +\(holders.count - 2)" }
      labelColor = shared ? "#222222" : Palette.owner(holders[0].request)
    case .free:
      svg.rect(x: x, y: y, width: w, height: h, fill: Palette.freeFill, stroke: Palette.freeStroke, rx: 3)
      label = "free"
    case .cached(let content):
      svg.rect(
        x: x, y: y, width: w, height: h, fill: Palette.cachedFill, stroke: Palette.cachedStroke,
        strokeWidth: 2,
        rx: 3, dash: true)
      label = "lru" + (content.map { " " + $0 } ?? "")
      labelColor = "#7d6608"
    case .hashed(let content):
      svg.rect(
        x: x, y: y, width: w, height: h, fill: Palette.freeFill, stroke: Palette.cachedStroke, strokeWidth: 2,
        rx: 3, dash: true)
      label = "free, hash" + (content.map { " " + $0 } ?? "")
      labelColor = "#7d6608"
    case .null:
      svg.rect(x: x, y: y, width: w, height: h, fill: Palette.nullFill, stroke: Palette.freeStroke, rx: 3)
      label = "null block"
    case .used:
      svg.rect(x: x, y: y, width: w, height: h, fill: Palette.usedFill, stroke: Palette.grid, rx: 3)
      label = "allocated"
      labelColor = Palette.text
    }
    if box.touched {
      svg.rect(
        x: x - 4, y: y - 4, width: w + 8, height: h + 8, fill: "none", stroke: "#222222", strokeWidth: 2,
        rx: 5)
    }
    if label.count > 18 { label = String(label.prefix(17)) + "~" }
    let bold: Bool
    if case .held = box.kind { bold = true } else { bold = false }
    svg.text(CacheDiagram.grouped(box.index), x: x + 7, y: y + 21, size: 12, color: Palette.text, bold: true)
    svg.text(label, x: x + w / 2, y: y + 21, size: 12, color: labelColor, anchor: .middle, bold: bold)
    svg.text("r\(box.refs)", x: x + w - 7, y: y + 21, size: 12, color: Palette.text, anchor: .end)
    svg.text(
      "bit \(box.freeBit ? 1 : 0)", x: x + w + 10, y: y + 21, size: 12, color: Palette.muted, font: .mono)
  }

  // MARK: Legend

  /// One legend entry.
  private enum Swatch: Hashable {
    case owner(Int)
    case free, shared, cached, hashed, null, used, touched
  }

  private struct LegendItem: Equatable {
    var swatch: Swatch
    var label: String
  }

  /// The owners drawn, then the kinds of frame that appear (free always).
  private func legendItems() -> [LegendItem] {
    var owners: [(Int, String)] = []
    var seen = Set<Int>()
    func add(_ request: Int, _ id: String) {
      if seen.insert(request).inserted { owners.append((request, id)) }
    }
    for table in diagram.tables { add(table.request, table.id) }
    var kinds = Set<Swatch>()
    for box in diagram.frames {
      switch box.kind {
      case .held(let holders):
        holders.forEach { add($0.request, $0.id) }
        if holders.count > 1 { kinds.insert(.shared) }
      case .cached: kinds.insert(.cached)
      case .hashed: kinds.insert(.hashed)
      case .null: kinds.insert(.null)
      case .used: kinds.insert(.used)
      case .free: break
      }
      if box.touched { kinds.insert(.touched) }
    }
    var items = owners.sorted { $0.0 < $1.0 }.map {
      LegendItem(swatch: .owner($0.0), label: "request \($0.1)")
    }
    items.append(LegendItem(swatch: .free, label: "free"))
    if kinds.contains(.shared) {
      items.append(LegendItem(swatch: .shared, label: "shared by several tables"))
    }
    if kinds.contains(.cached) {
      items.append(LegendItem(swatch: .cached, label: "cached, refcount 0 (LRU)"))
    }
    if kinds.contains(.hashed) { items.append(LegendItem(swatch: .hashed, label: "free, holds a hash")) }
    if kinds.contains(.null) { items.append(LegendItem(swatch: .null, label: "null block")) }
    if kinds.contains(.used) { items.append(LegendItem(swatch: .used, label: "allocated, in no page table")) }
    if kinds.contains(.touched) {
      items.append(LegendItem(swatch: .touched, label: "touched by step \(diagram.step)"))
    }
    return items
  }

  private static func legendWidth(_ item: LegendItem) -> Int { 20 + textWidth(item.label, size: 12) + 22 }

  /// The items in rows that fit `width`.
  private static func legendRows(_ items: [LegendItem], width: Int) -> [[LegendItem]] {
    var rows: [[LegendItem]] = [[]]
    var used = 0
    for item in items {
      let w = legendWidth(item)
      if used + w > width && !rows[rows.count - 1].isEmpty {
        rows.append([])
        used = 0
      }
      rows[rows.count - 1].append(item)
      used += w
    }
    return rows
  }

  private func drawSwatch(_ item: LegendItem, x: Int, y: Int, into svg: inout SVGDocument) {
    switch item.swatch {
    case .owner(let r):
      svg.rect(x: x, y: y, width: 14, height: 14, fill: Palette.owner(r))
    case .free:
      svg.rect(x: x, y: y, width: 14, height: 14, fill: Palette.freeFill, stroke: Palette.freeStroke)
    case .shared:
      svg.rect(x: x, y: y, width: 7, height: 14, fill: Palette.tint(0))
      svg.rect(x: x + 7, y: y, width: 7, height: 14, fill: Palette.tint(1))
      svg.rect(x: x, y: y, width: 14, height: 14, fill: "none", stroke: "#444444", strokeWidth: 2)
    case .cached:
      svg.rect(
        x: x, y: y, width: 14, height: 14, fill: Palette.cachedFill, stroke: Palette.cachedStroke, dash: true)
    case .hashed:
      svg.rect(
        x: x, y: y, width: 14, height: 14, fill: Palette.freeFill, stroke: Palette.cachedStroke, dash: true)
    case .null:
      svg.rect(x: x, y: y, width: 14, height: 14, fill: Palette.nullFill, stroke: Palette.freeStroke)
    case .used:
      svg.rect(x: x, y: y, width: 14, height: 14, fill: Palette.usedFill, stroke: Palette.grid)
    case .touched:
      svg.rect(x: x + 3, y: y + 3, width: 8, height: 8, fill: Palette.freeFill, stroke: Palette.freeStroke)
      svg.rect(x: x, y: y, width: 14, height: 14, fill: "none", stroke: "#222222", strokeWidth: 2)
    }
  }

  /// A generous estimate of a text's width (0.62 em a character), to size the picture.
  static func textWidth(_ text: String, size: Int) -> Int { (text.count * size * 62 + 99) / 100 }
}
