/// The events view's top bar: the file, the format, the batch, its `ts`, and the resident blocks.
struct EventsStatusLine: Panel {
  let file: String
  let format: String
  let batch: Int
  let count: Int
  let ts: String
  let resident: Int
  let g: Glyphs

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    grid.fill(
      x: rect.x, y: rect.y, width: rect.width, height: 1, with: Cell(" ", role: .title, reverse: true))
    let bar = TextStyle(.title, bold: true, reverse: true)
    let separator = rect.width < 100 ? "  " : g.separator
    let parts = [
      format, "batch \(Fmt.grouped(batch + 1))/\(Fmt.grouped(count))", "ts \(ts)",
      "\(Fmt.grouped(resident)) resident",
    ]
    let rest = parts.joined(separator: separator)
    let room = rect.width - 1 - rest.count - separator.count
    var x = rect.x + 1
    if room >= 4 {
      x = grid.put(Fmt.clip(file, room, ellipsis: g.ellipsis), x: x, y: rect.y, in: rect, style: bar)
      x = grid.put(separator, x: x, y: rect.y, in: rect, style: TextStyle(.title, reverse: true))
    }
    grid.put(rest, x: x, y: rect.y, in: rect, style: bar)
  }
}

/// The line that says what events cannot tell.
struct MissingFactsLine: Panel {
  static let long =
    "Events name blocks by hash only: no physical block ids, refcounts or request ids; hits are inferred."
  static let short = "Events carry no physical block ids, refcounts or request ids."

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    let text = rect.width >= Self.long.count ? Self.long : Self.short
    grid.put(text, x: rect.x, y: rect.y, in: rect, style: TextStyle(.accent))
  }
}
