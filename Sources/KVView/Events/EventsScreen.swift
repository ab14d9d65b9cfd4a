/// The events view's renderer: a pure function from the controller to a grid of cells, with the live
/// view's minimum size and notice below it.
enum EventsScreen {
  static func render(_ controller: EventsController, width: Int, height: Int) -> Grid {
    var grid = Grid(width: width, height: height)
    guard width >= Screen.minimumWidth, height >= Screen.minimumHeight else {
      TooSmallNotice(minimumWidth: Screen.minimumWidth, minimumHeight: Screen.minimumHeight)
        .draw(into: &grid, in: Rect(x: 0, y: 0, width: grid.width, height: grid.height))
      return grid
    }
    for (panel, rect) in EventsLayout(controller, width: width, height: height).placed {
      panel.draw(into: &grid, in: rect)
    }
    return grid
  }
}

/// Where each panel of the events view goes: the status line; the prefix tree (left) and the batch's
/// events (right); the timeline strip; the line on what events cannot tell; the message row and the
/// hint bar; the help overlay over them.
struct EventsLayout {
  /// Every panel with its rectangle, in drawing order.
  private(set) var placed: [(panel: any Panel, rect: Rect)] = []

  init(_ controller: EventsController, width: Int, height: Int) {
    let g = Glyphs(unicode: controller.unicode)
    let history = controller.history
    let index = controller.batch
    guard !history.stream.batches.isEmpty else {
      placed.append(
        (EmptyStreamNotice(file: controller.file), Rect(x: 0, y: 0, width: width, height: height)))
      return
    }
    let batch = history.stream.batches[index]
    placed.append(
      (
        EventsStatusLine(
          file: controller.file, format: history.stream.format.title, batch: index, count: controller.count,
          ts: batch.ts, resident: history.summaries[index].resident, g: g),
        Rect(x: 0, y: 0, width: width, height: 1)
      ))
    let stripHeight = EventTimelinePanel.height(history.summaries)
    let bottom = height - 3
    let middle = bottom - stripHeight - 1
    let treeWidth = width / 2
    let tree = history.tree(after: index)
    placed.append(
      (
        PrefixTreePanel(
          rows: PrefixTreeRows(tree: tree, folded: controller.folded).rows,
          resident: history.summaries[index].resident, scroll: controller.treeScroll,
          folded: controller.folded,
          g: g),
        Rect(x: 0, y: 1, width: treeWidth, height: middle)
      ))
    placed.append(
      (
        BatchEventsPanel(history: history, batch: index, g: g),
        Rect(x: treeWidth, y: 1, width: width - treeWidth, height: middle)
      ))
    placed.append(
      (
        EventTimelinePanel(summaries: history.summaries, batch: index, g: g),
        Rect(x: 0, y: 1 + middle, width: width, height: stripHeight)
      ))
    placed.append((MissingFactsLine(), Rect(x: 0, y: bottom, width: width, height: 1)))
    placed.append(
      (
        CommandRow(commandLine: nil, message: controller.message, g: g),
        Rect(x: 0, y: height - 2, width: width, height: 1)
      ))
    placed.append(
      (HintBar(hints: EventsKeyMap.hints, g: g), Rect(x: 0, y: height - 1, width: width, height: 1)))
    if controller.showHelp {
      let help = HelpOverlay(
        keyRows: EventsKeyMap.helpRows, notes: Self.helpNotes, commands: nil, description: "", g: g)
      placed.append((help, Rect(x: 0, y: 0, width: width, height: height)))
    }
  }

  /// The sentences under the help overlay's key table.
  static let helpNotes = [
    "Tree: a marked row starts a sequence; + stored now, - removed now; sum: tokens of the chain.",
    "A branch is indented under its parent; a chain goes on at the same indent.",
    "Events carry no physical block ids, refcounts or request ids: a hit shows only",
    "where a store branches off a chain another sequence has cached.",
  ]
}

/// What the view shows for a stream without batches.
struct EmptyStreamNotice: Panel {
  let file: String

  func draw(into grid: inout Grid, in rect: Rect) {
    grid.put("\(file): no event batches; q quits", x: rect.x + 1, y: rect.y + 1, in: rect)
  }
}
