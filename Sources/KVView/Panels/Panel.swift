/// A part of the screen that draws itself into the rectangle it is given, and nowhere else. It holds
/// the data it shows, gathered when it is built; drawing reads nothing more.
protocol Panel {
  func draw(into grid: inout Grid, in rect: Rect)
}

/// Lines of text in a titled box, scrolled by the pane's offset, with arrows on the border when lines
/// are hidden above or below. The page tables and the scheduler are drawn with it.
struct ScrolledLinesBox: Panel {
  let title: String
  let lines: [(String, TextStyle)]
  let focused: Bool
  /// The first line shown (clamped to the lines).
  let scroll: Int
  let g: Glyphs

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    grid.box(rect, title: title, focused: focused, glyphs: g)
    let inner = rect.inner
    let offset = min(max(0, scroll), max(0, lines.count - inner.height))
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
}
