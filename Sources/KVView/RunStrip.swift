import KVEngine
import KVText

/// Sparklines of the whole run, one value per iteration from `Timeline.samples`: frames in use at the
/// start of each iteration, prefix-hit pages and preemptions during each iteration (the difference of
/// the cumulative counts). Downsampled to the width: each cell is the maximum over a bucket of
/// iterations. O(iterations) per render, never O(frames).
struct RunStrip {
  /// Draws the caret `^` under column `column` of the sparklines that start at `sparkX`, with
  /// `iter N` beside it (on its left when the right has no room).
  static func drawCaret(
    _ grid: inout Grid, in inner: Rect, sparkX: Int, column: Int, y: Int, iteration: Int
  ) {
    drawCaret(&grid, in: inner, sparkX: sparkX, column: column, y: y, label: "iter \(Fmt.grouped(iteration))")
  }

  /// Draws the caret `^` under column `column` with `label` beside it.
  static func drawCaret(_ grid: inout Grid, in inner: Rect, sparkX: Int, column: Int, y: Int, label: String) {
    let x = sparkX + column
    grid.set("^", x: x, y: y, style: TextStyle(.selected, bold: true))
    if column + 2 + label.count <= inner.maxX - sparkX {
      grid.put(label, x: x + 2, y: y, in: inner, style: TextStyle(.selected))
    } else {
      grid.put(label, x: x - 1 - label.count, y: y, in: inner, style: TextStyle(.selected))
    }
  }

  struct Row {
    var label: String
    var cells: [Int]
    var peak: Int
    var total: Int?
    var note: String
  }

  /// The sparkline rows a timeline shows (0 when it has no iterations to plot).
  static func rows(_ timeline: Timeline) -> Int {
    guard !timeline.scenario.isAllocatorOnly, timeline.samples.count >= 2 else { return 0 }
    let scheduler = timeline.scenario.scheduler
    var rows = 1
    if scheduler.policyType.capabilities.contains(.preemption) {
      rows += 1
      if scheduler.prefixCache { rows += 1 }
    }
    // And the row of the caret.
    return rows + 1
  }

  /// Events during iteration `i` (the sample of `i + 1`, or the final state, minus the sample of `i`).
  static func delta(_ timeline: Timeline, _ i: Int, _ value: (IterationSample) -> Int, final: Int) -> Int {
    let samples = timeline.samples
    let next = i + 1 < samples.count ? value(samples[i + 1]) : final
    return next - value(samples[i])
  }

  /// Index of the sample of the iteration holding `step`: the last sample at or before it (0 before the
  /// first one).
  static func sampleIndex(_ timeline: Timeline, step: Int) -> Int {
    let samples = timeline.samples
    var lo = 0
    var hi = samples.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if samples[mid].step <= step { lo = mid + 1 } else { hi = mid }
    }
    return max(0, lo - 1)
  }

  /// Iterations per cell for `count` iterations in `width` cells.
  static func bucket(count: Int, width: Int) -> Int {
    guard width > 0 else { return max(1, count) }
    return max(1, (count + width - 1) / width)
  }

  /// The rows for `width` cells.
  static func build(_ timeline: Timeline, width: Int) -> (rows: [Row], bucket: Int) {
    let samples = timeline.samples
    let n = samples.count
    let bucket = bucket(count: n, width: width)
    let cellCount = (n + bucket - 1) / bucket
    let scheduler = timeline.scenario.scheduler
    let withPreemptions = scheduler.policyType.capabilities.contains(.preemption)
    let withHits = withPreemptions && scheduler.prefixCache
    var frames = [Int](repeating: 0, count: cellCount)
    var hits = [Int](repeating: 0, count: withHits ? cellCount : 0)
    var preempt = [Int](repeating: 0, count: withPreemptions ? cellCount : 0)
    var peakFrames = 0
    var peakFramesIteration = 0
    var peakHits = 0
    var peakPreempt = 0
    let finalStats = timeline.final.stats
    samples.withUnsafeBufferPointer { s in
      for i in 0..<n {
        let c = i / bucket
        let used = s[i].framesInUse
        if used > frames[c] { frames[c] = used }
        if used > peakFrames {
          peakFrames = used
          peakFramesIteration = s[i].iteration
        }
        if withPreemptions {
          let next = i + 1 < n ? s[i + 1].preemptions : finalStats.preemptions
          let d = next - s[i].preemptions
          if d > preempt[c] { preempt[c] = d }
          peakPreempt = max(peakPreempt, d)
        }
        if withHits {
          let next = i + 1 < n ? s[i + 1].prefixHitPages : finalStats.prefixHitPages
          let d = next - s[i].prefixHitPages
          if d > hits[c] { hits[c] = d }
          peakHits = max(peakHits, d)
        }
      }
    }
    let pool = timeline.scenario.cache.pages
    var rows = [
      Row(
        label: "frames in use", cells: frames, peak: peakFrames, total: nil,
        note:
          "peak \(Fmt.grouped(peakFrames)) of \(Fmt.grouped(pool)) (iter \(Fmt.grouped(peakFramesIteration)))"
      )
    ]
    if withHits {
      let total = finalStats.prefixHitPages - (samples.first?.prefixHitPages ?? 0)
      rows.append(
        Row(
          label: "prefix hits", cells: hits, peak: peakHits, total: total,
          note: total == 0 ? "none" : "peak \(Fmt.grouped(peakHits))/iter, \(Fmt.grouped(total)) pages"))
    }
    if withPreemptions {
      let total = finalStats.preemptions - (samples.first?.preemptions ?? 0)
      rows.append(
        Row(
          label: "preemptions", cells: preempt, peak: peakPreempt, total: total,
          note: total == 0 ? "none" : "peak \(Fmt.grouped(peakPreempt))/iter, \(Fmt.grouped(total)) in all"))
    }
    return (rows, bucket)
  }

  /// The sparkline levels, lowest first.
  static func levels(_ g: Glyphs) -> [Character] {
    g.unicode ? Array("▁▂▃▄▅▆▇█") : Array("_.-=#")
  }

  /// The glyph for `value` of `peak`: blank for 0, else one of the levels (the highest for the peak).
  static func glyph(_ value: Int, peak: Int, levels: [Character]) -> Character {
    guard value > 0, peak > 0 else { return " " }
    let level = min(levels.count, max(1, (value * levels.count + peak - 1) / peak))
    return levels[level - 1]
  }
}
