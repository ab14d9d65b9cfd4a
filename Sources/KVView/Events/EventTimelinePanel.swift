import KVScenario

/// Sparklines of the whole stream, one value per batch: blocks stored, blocks removed and resident
/// blocks after it, a row of marks at the batches that clear the cache (when some do), and a caret
/// under the current batch. Downsampled to the width: a cell is the maximum over a run of batches.
struct EventTimelinePanel: Panel {
  let summaries: [KVEventHistory.BatchSummary]
  let batch: Int
  let g: Glyphs

  /// The rows the panel takes, its box included.
  static func height(_ summaries: [KVEventHistory.BatchSummary]) -> Int {
    2 + 3 + 1 + (summaries.contains { $0.cleared } ? 1 : 0)
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    guard rect.height >= 3, rect.width >= 20 else { return }
    let inner = rect.inner
    let count = summaries.count
    let labelWidth = 9
    let noteWidth = min(max(0, inner.width - labelWidth - 12), 16)
    let sparkWidth = max(1, inner.width - labelWidth - noteWidth)
    let bucket = RunStrip.bucket(count: count, width: sparkWidth)
    let cells = (count + bucket - 1) / bucket
    let scale = bucket == 1 ? max(1, min(3, sparkWidth / max(1, count))) : 1
    var title = "batches: \(Fmt.grouped(count))"
    if bucket > 1 { title += ", 1 cell = max of \(Fmt.grouped(bucket))" }
    title += "  (s/r/c jump)"
    grid.box(rect, title: Fmt.clip(title, rect.width - 4, ellipsis: g.ellipsis), focused: false, glyphs: g)
    let sparkX = inner.x + labelWidth
    var y = inner.y
    if summaries.contains(where: { $0.cleared }) {
      grid.put("cleared", x: inner.x, y: y, in: inner, style: TextStyle(.dim))
      for (i, s) in summaries.enumerated() where s.cleared && i / bucket * scale < sparkWidth {
        grid.set(
          g.unicode ? "◆" : "*", x: sparkX + i / bucket * scale, y: y, style: TextStyle(.finding, bold: true))
      }
      y += 1
    }
    let levels = RunStrip.levels(g)
    let series: [(String, [Int], StyleRole, String)] = [
      (
        "stored", summaries.map(\.storedBlocks), .touched,
        "\(Fmt.grouped(summaries.reduce(0) { $0 + $1.storedBlocks })) in all"
      ),
      (
        "removed", summaries.map(\.removedBlocks), .finding,
        "\(Fmt.grouped(summaries.reduce(0) { $0 + $1.removedBlocks })) in all"
      ),
      (
        "resident", summaries.map(\.resident), .accent,
        "peak \(Fmt.grouped(summaries.map(\.resident).max() ?? 0))"
      ),
    ]
    for (label, values, role, note) in series where y < inner.maxY - 1 {
      grid.put(label, x: inner.x, y: y, in: inner, style: TextStyle(.dim))
      let peak = values.max() ?? 0
      for c in 0..<min(cells, sparkWidth) {
        let value = values[(c * bucket)..<min(count, (c + 1) * bucket)].max() ?? 0
        let glyph = RunStrip.glyph(value, peak: peak, levels: levels)
        for column in (c * scale)..<((c + 1) * scale) where column < sparkWidth {
          grid.set(glyph, x: sparkX + column, y: y, style: TextStyle(role, bold: true))
        }
      }
      grid.put(
        " " + note, x: sparkX + min(sparkWidth, cells * scale), y: y, in: inner, style: TextStyle(.dim))
      y += 1
    }
    let column = min(sparkWidth - 1, max(0, batch) / bucket * scale)
    RunStrip.drawCaret(
      &grid, in: inner, sparkX: sparkX, column: column, y: inner.maxY - 1,
      label: "batch \(Fmt.grouped(batch + 1))")
  }
}
