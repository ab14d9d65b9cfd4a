import KVEngine

/// The run strip, full width under the frames: one sparkline of the whole run per row, its peak on the
/// right, and a caret under the current iteration.
struct RunStripPanel: Panel {
  let timeline: Timeline
  let step: Int
  let iteration: Int
  let g: Glyphs

  /// The rows the strip takes, its box included (2 when the run has nothing to plot).
  static func height(_ timeline: Timeline) -> Int { RunStrip.rows(timeline) + 2 }

  func draw(into grid: inout Grid, in rect: Rect) {
    guard rect.height >= 3, rect.width >= 20 else { return }
    let inner = rect.inner
    let samples = timeline.samples
    let labelWidth = 14
    // Room for the notes, sized for the largest values they can hold (peaks are at most the pool and
    // the totals), so that no second pass over the samples is needed.
    let pool = Fmt.grouped(timeline.scenario.cache.pages)
    let lastIteration = Fmt.grouped(samples.last?.iteration ?? 0)
    let stats = timeline.final.stats
    let bounds = [
      "peak \(pool) of \(pool) (iter \(lastIteration))",
      "peak \(Fmt.grouped(stats.prefixHitPages))/iter, \(Fmt.grouped(stats.prefixHitPages)) pages",
      "peak \(Fmt.grouped(stats.preemptions))/iter, \(Fmt.grouped(stats.preemptions)) in all",
    ]
    let noteWidth = min(max(0, inner.width - labelWidth - 12), (bounds.map(\.count).max() ?? 0) + 1)
    let sparkWidth = max(1, inner.width - labelWidth - noteWidth)
    let (rows, bucket) = RunStrip.build(timeline, width: sparkWidth)
    var title = "run: \(Fmt.grouped(samples.count)) iterations"
    if bucket > 1 { title += ", 1 cell = max of \(Fmt.grouped(bucket))" }
    title += rows.count > 1 ? "  (:iter N jumps, { } preemptions)" : "  (:iter N jumps)"
    grid.box(rect, title: Fmt.clip(title, rect.width - 4, ellipsis: g.ellipsis), focused: false, glyphs: g)
    let levels = RunStrip.levels(g)
    let sparkX = inner.x + labelWidth
    for (i, row) in rows.enumerated() where i < inner.height - 1 {
      let y = inner.y + i
      grid.put(Fmt.padded(row.label, labelWidth), x: inner.x, y: y, in: inner, style: TextStyle(.dim))
      let role: StyleRole =
        row.label == "preemptions" ? .finding : row.label == "prefix hits" ? .shared : .accent
      for (c, value) in row.cells.enumerated() where c < sparkWidth {
        grid.set(
          RunStrip.glyph(value, peak: row.peak, levels: levels), x: sparkX + c, y: y,
          style: TextStyle(role, bold: true))
      }
      grid.put(
        " " + row.note, x: sparkX + min(sparkWidth, row.cells.count), y: y, in: inner, style: TextStyle(.dim))
    }
    // The caret under the current iteration's cell, with its number beside it.
    let k = RunStrip.sampleIndex(timeline, step: step)
    let column = min(sparkWidth - 1, k / bucket)
    let y = inner.y + min(rows.count, inner.height - 1)
    RunStrip.drawCaret(&grid, in: inner, sparkX: sparkX, column: column, y: y, iteration: iteration)
  }
}
