import KVEngine

/// The compare view's top bar: the scenario's name, the number of runs, the iteration, which
/// divergence it is (or how many there are), and the first divergence.
struct CompareStatusLine: Panel {
  let name: String
  let runs: Int
  let iteration: Int
  /// The index of the divergence at the current iteration, if it is one.
  let divergenceIndex: Int?
  let divergences: [Divergence]
  let g: Glyphs

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    grid.fill(
      x: rect.x, y: rect.y, width: rect.width, height: 1, with: Cell(" ", role: .title, reverse: true))
    let bar = TextStyle(.title, bold: true, reverse: true)
    let marked = TextStyle(.finding, bold: true, reverse: true)
    var parts: [(String, TextStyle)] = [("\(runs) runs", bar), ("iter \(Fmt.grouped(iteration))", bar)]
    if let first = divergences.first {
      if let divergenceIndex {
        parts.append(("divergence \(divergenceIndex + 1) of \(divergences.count)", marked))
      } else {
        parts.append(("\(divergences.count) divergence\(divergences.count == 1 ? "" : "s")", bar))
      }
      parts.append(("first at iter \(Fmt.grouped(first.iteration))", bar))
    } else {
      parts.append(("no divergence", bar))
    }
    let separator = rect.width < 100 ? "  " : g.separator
    let rest = parts.map(\.0).joined(separator: separator)
    let room = rect.width - 1 - rest.count - separator.count
    var x = rect.x + 1
    if room >= 4 {
      x = grid.put(Fmt.clip(name, room, ellipsis: g.ellipsis), x: x, y: rect.y, in: rect, style: bar)
      x = grid.put(separator, x: x, y: rect.y, in: rect, style: TextStyle(.title, reverse: true))
    }
    for (i, part) in parts.enumerated() {
      if i > 0 { x = grid.put(separator, x: x, y: rect.y, in: rect, style: TextStyle(.title, reverse: true)) }
      x = grid.put(part.0, x: x, y: rect.y, in: rect, style: part.1)
    }
  }
}
