/// What the screen shows when it is smaller than the panels need: its size, the size needed, how to
/// quit.
struct TooSmallNotice: Panel {
  let minimumWidth: Int
  let minimumHeight: Int

  func draw(into grid: inout Grid, in rect: Rect) {
    let w = rect.width
    let h = rect.height
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
        line, x: rect.x + x, y: rect.y + top + i,
        style: TextStyle(i == wrapped.count - 1 ? .hint : .finding, bold: i == 0))
    }
  }
}
