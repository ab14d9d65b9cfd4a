import KVEngine

/// The compare view's renderer: a pure function from the controller to a grid of cells, like `Screen`
/// for the live view, with the same minimum size and notice below it.
enum CompareScreen {
  static func render(_ controller: CompareController, width: Int, height: Int) -> Grid {
    var grid = Grid(width: width, height: height)
    guard width >= Screen.minimumWidth, height >= Screen.minimumHeight else {
      TooSmallNotice(minimumWidth: Screen.minimumWidth, minimumHeight: Screen.minimumHeight)
        .draw(into: &grid, in: Rect(x: 0, y: 0, width: grid.width, height: grid.height))
      return grid
    }
    for (panel, rect) in CompareLayout(controller, width: width, height: height).placed {
      panel.draw(into: &grid, in: rect)
    }
    return grid
  }
}

/// Where each panel of the compare view goes: the status line, the divergence bar, one column per run
/// (equal widths), the sparkline strip when there is room, the message row and the hint bar; the help
/// overlay over them.
struct CompareLayout {
  /// Rows a run's column needs at least, and the rows from which the strip shows every metric.
  static let minimumColumnHeight = 11
  static let roomyColumnHeight = 16

  /// Every panel with its rectangle, in drawing order.
  private(set) var placed: [(panel: any Panel, rect: Rect)] = []

  init(_ controller: CompareController, width: Int, height: Int) {
    let g = Glyphs(unicode: controller.view.unicode)
    let timelines = controller.timelines
    let runs = timelines.count
    let comparison = controller.comparison
    let divergences = comparison.divergences
    let scenario = timelines[0].scenario
    placed.append(
      (
        CompareStatusLine(
          name: scenario.name, runs: runs, iteration: controller.iteration,
          divergenceIndex: controller.divergenceIndex, divergences: divergences, g: g),
        Rect(x: 0, y: 0, width: width, height: 1)
      ))

    let barHeight = DivergenceBar.height(runs: runs)
    let lines = controller.divergenceIndex.map { index in
      Array(zip(controller.labels, comparison.sentences(divergences[index])))
        .map { (label: $0.0, text: $0.1) }
    }
    let bar = DivergenceBar(
      lines: lines, iteration: controller.iteration,
      next: divergences.first { $0.iteration > controller.iteration }?.iteration, none: divergences.isEmpty,
      g: g)
    placed.append((bar, Rect(x: 0, y: 1, width: width, height: barHeight)))

    // The middle: the columns, and the strip under them when the columns keep their rows.
    let top = 1 + barHeight
    let middle = height - 2 - top
    var columnsHeight = middle
    for metrics in [3, 1] {
      let strip = CompareStrip.height(runs: runs, metrics: metrics, divergences: !divergences.isEmpty)
      let needed = metrics == 3 ? Self.roomyColumnHeight : Self.minimumColumnHeight
      guard middle - strip >= needed else { continue }
      columnsHeight = middle - strip
      placed.append(
        (
          CompareStrip(
            timelines: timelines, labels: controller.labels, metrics: metrics,
            divergences: divergences.map(\.iteration), iteration: controller.iteration, g: g),
          Rect(x: 0, y: top + columnsHeight, width: width, height: strip)
        ))
      break
    }
    var x = 0
    for (i, timeline) in timelines.enumerated() {
      let columnWidth = (width - x) / (runs - i)
      placed.append(
        (
          RunColumn(
            timeline: timeline, label: controller.labels[i], focused: i == controller.view.focus, g: g,
            width: columnWidth, height: columnsHeight),
          Rect(x: x, y: top, width: columnWidth, height: columnsHeight)
        ))
      x += columnWidth
    }

    placed.append(
      (
        CommandRow(commandLine: nil, message: controller.view.message, g: g),
        Rect(x: 0, y: height - 2, width: width, height: 1)
      ))
    placed.append(
      (HintBar(hints: CompareKeyMap.hints, g: g), Rect(x: 0, y: height - 1, width: width, height: 1)))
    if controller.view.showHelp {
      let help = HelpOverlay(
        keyRows: CompareKeyMap.helpRows, notes: Self.helpNotes, commands: nil,
        description: scenario.description,
        g: g)
      placed.append((help, Rect(x: 0, y: 0, width: width, height: height)))
    }
  }

  /// The sentences under the help overlay's key table.
  static let helpNotes = [
    "Every key but l and h moves all runs to the same iteration (or their end).",
    "A divergence: an iteration where the runs admit, hit, preempt or finish",
    "differently (or take other blocks, when their pools number frames alike).",
  ]
}
