import KVEngine

/// Sparklines of every run over the whole comparison, aligned by iteration: a row of marks at the
/// divergences, then for each run its frames in use (and, with room, its waiting requests and
/// preemptions), each metric on one scale for all runs, and a caret under the current iteration.
struct CompareStrip: Panel {
  /// One sparkline: a run's metric, one value per iteration.
  struct Series {
    var label: String
    var metric: Metric
    var values: [Int]
  }

  /// What a sparkline plots.
  enum Metric: CaseIterable {
    case framesInUse, waiting, preemptions

    var name: String {
      switch self {
      case .framesInUse: "frames"
      case .waiting: "waiting"
      case .preemptions: "preempt"
      }
    }

    var role: StyleRole {
      switch self {
      case .framesInUse: .accent
      case .waiting: .shared
      case .preemptions: .finding
      }
    }
  }

  let series: [Series]
  /// Iterations plotted: 0 up to the last iteration any run begins.
  let iterations: Int
  let divergences: [Int]
  let iteration: Int
  let g: Glyphs

  /// The rows the strip takes with `metrics` rows per run, its box included.
  static func height(runs: Int, metrics: Int, divergences: Bool) -> Int {
    2 + (divergences ? 1 : 0) + runs * metrics + 1
  }

  /// The strip for the runs' timelines, with the first `metrics` metrics of each run.
  init(
    timelines: [Timeline], labels: [String], metrics: Int, divergences: [Int], iteration: Int, g: Glyphs
  ) {
    let last = timelines.compactMap { $0.samples.last?.iteration }.max() ?? 0
    iterations = last + 1
    self.divergences = divergences
    self.iteration = iteration
    self.g = g
    var series: [Series] = []
    for (timeline, label) in zip(timelines, labels) {
      for metric in Metric.allCases.prefix(metrics) {
        series.append(
          Series(label: label, metric: metric, values: Self.values(timeline, metric, count: iterations)))
      }
    }
    self.series = series
  }

  /// `metric` of each iteration `0..<count` of `timeline`: frames in use and waiting requests at the
  /// start of the iteration, preemptions during it; 0 where the run has no iteration.
  private static func values(_ timeline: Timeline, _ metric: Metric, count: Int) -> [Int] {
    var values = [Int](repeating: 0, count: count)
    let final = timeline.final.stats.preemptions
    for (i, sample) in timeline.samples.enumerated() where sample.iteration < count {
      switch metric {
      case .framesInUse: values[sample.iteration] = sample.framesInUse
      case .waiting: values[sample.iteration] = sample.waiting
      case .preemptions:
        values[sample.iteration] = RunStrip.delta(timeline, i, { $0.preemptions }, final: final)
      }
    }
    return values
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    guard rect.height >= 3, rect.width >= 20 else { return }
    let inner = rect.inner
    let labelWidth = (series.map { $0.label.count }.max() ?? 0) + 1 + 8
    let noteWidth = min(max(0, inner.width - labelWidth - 12), 14)
    let sparkWidth = max(1, inner.width - labelWidth - noteWidth)
    let bucket = RunStrip.bucket(count: iterations, width: sparkWidth)
    let cells = (iterations + bucket - 1) / bucket
    // Columns per cell: a short run is drawn wider, up to 3 columns an iteration.
    let scale = bucket == 1 ? max(1, min(3, sparkWidth / max(1, iterations))) : 1
    var title = "runs: \(Fmt.grouped(iterations)) iterations"
    if bucket > 1 { title += ", 1 cell = max of \(Fmt.grouped(bucket))" }
    title += "  (n/N divergences)"
    grid.box(rect, title: Fmt.clip(title, rect.width - 4, ellipsis: g.ellipsis), focused: false, glyphs: g)
    let sparkX = inner.x + labelWidth
    var y = inner.y
    if !divergences.isEmpty {
      grid.put(Fmt.padded("divergences", labelWidth), x: inner.x, y: y, in: inner, style: TextStyle(.dim))
      let mark: Character = g.unicode ? "◆" : "*"
      for d in divergences where d / bucket * scale < sparkWidth {
        grid.set(mark, x: sparkX + d / bucket * scale, y: y, style: TextStyle(.finding, bold: true))
      }
      y += 1
    }
    let levels = RunStrip.levels(g)
    var peaks: [Metric: Int] = [:]
    for s in series { peaks[s.metric] = max(peaks[s.metric] ?? 0, s.values.max() ?? 0) }
    for (index, s) in series.enumerated() where y < inner.maxY - 1 {
      let first = index == 0 || series[index - 1].label != s.label
      let label = Fmt.padded(first ? s.label : "", labelWidth - 8) + Fmt.padded(s.metric.name, 8)
      grid.put(label, x: inner.x, y: y, in: inner, style: TextStyle(first ? .title : .dim, bold: first))
      let peak = peaks[s.metric] ?? 0
      for c in 0..<min(cells, sparkWidth) {
        let value = s.values[(c * bucket)..<min(iterations, (c + 1) * bucket)].max() ?? 0
        let glyph = RunStrip.glyph(value, peak: peak, levels: levels)
        for column in (c * scale)..<((c + 1) * scale) {
          grid.set(glyph, x: sparkX + column, y: y, style: TextStyle(s.metric.role, bold: true))
        }
      }
      grid.put(
        " " + note(s), x: sparkX + min(sparkWidth, cells * scale), y: y, in: inner, style: TextStyle(.dim))
      y += 1
    }
    // The caret under the current iteration's cell, with its number beside it.
    let column = min(sparkWidth - 1, max(0, iteration) / bucket * scale)
    RunStrip.drawCaret(
      &grid, in: inner, sparkX: sparkX, column: column, y: inner.maxY - 1, iteration: iteration)
  }

  /// The peak, or the total of preemptions.
  private func note(_ s: Series) -> String {
    switch s.metric {
    case .framesInUse, .waiting: "peak \(Fmt.grouped(s.values.max() ?? 0))"
    case .preemptions:
      s.values.reduce(0, +) == 0 ? "none" : "\(Fmt.grouped(s.values.reduce(0, +))) in all"
    }
  }
}
