import KVEngine

/// The box under the status line: at a divergence, one line per run with what it decided; elsewhere,
/// where the next divergence is.
struct DivergenceBar: Panel {
  /// The runs' labels and sentences, or nil when the current iteration is not a divergence.
  let lines: [(label: String, text: String)]?
  let iteration: Int
  /// The next divergence's iteration after the current one, if any.
  let next: Int?
  /// True when the runs never diverge.
  let none: Bool
  let g: Glyphs

  /// The rows the bar takes for `runs` runs, its box included.
  static func height(runs: Int) -> Int { runs + 2 }

  func draw(into grid: inout Grid, in rect: Rect) {
    guard rect.height >= 3 else { return }
    let inner = rect.inner
    let at = Fmt.grouped(iteration)
    guard let lines else {
      grid.box(rect, title: "iteration \(at)", focused: false, glyphs: g)
      let text =
        none
        ? "the runs decide alike in every iteration"
        : next.map {
          "the runs decide alike here; n jumps to the next divergence (iteration \(Fmt.grouped($0)))"
        }
          ?? "the runs decide alike here and after; N jumps back to the last divergence"
      grid.put(
        Fmt.clip(text, inner.width, ellipsis: g.ellipsis), x: inner.x, y: inner.y, in: inner,
        style: TextStyle(.dim))
      return
    }
    grid.box(rect, title: "divergence at iteration \(at)", focused: false, glyphs: g, titleRole: .finding)
    let labelWidth = (lines.map(\.label.count).max() ?? 0) + 2
    for (i, line) in lines.enumerated() where i < inner.height {
      let y = inner.y + i
      grid.put(line.label + ":", x: inner.x, y: y, in: inner, style: TextStyle(.title, bold: true))
      grid.put(
        Fmt.clip(line.text, inner.width - labelWidth, ellipsis: g.ellipsis), x: inner.x + labelWidth, y: y,
        in: inner, style: TextStyle(.finding))
    }
  }
}
