import ArgumentParser
import KVEngine
import KVText
import KVView

/// `kvscope frame FILE --step N`: the live view's screen at step N, as plain text.
struct Frame: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the screen the live view draws at a step, as plain text."
  )

  @Argument(help: "A scenario file (YAML), a trace (.kvtrace), or with --import a workload trace.")
  var file: String

  @Flag(help: "For a trace: use the lines up to the first bad one instead of failing.")
  var partial = false

  @OptionGroup var direct: DirectImport

  @Option(help: "The step to show (0 is the state before any step).")
  var step: Int = 0

  @Option(help: "Screen size as WIDTHxHEIGHT.")
  var size: String = "120x40"

  @Flag(help: "Draw with ASCII characters only.")
  var ascii = false

  func run() throws {
    guard let (width, height) = Input.size(size) else {
      Input.fail("--size must look like 120x40 (1 to 1000 each), got '\(size)'")
    }
    let source = direct.source(file, partial: partial)
    let timeline = Timeline(scenario: source.scenario, actions: source.actions)
    guard (0...timeline.totalSteps).contains(step) else {
      Input.fail("--step \(step) is outside the run: steps go from 0 to \(timeline.totalSteps)")
    }
    var controller = LiveController(timeline: timeline)
    controller.view.unicode = !ascii
    _ = controller.run(command: "goto \(step)")
    print(Self.text(controller.render(width: width, height: height)))
  }

  /// The grid as lines of plain text, trailing spaces removed. Each cell is one column: a control
  /// character or a wide character that reached a cell (a name from a file) is printed as `?`.
  static func text(_ grid: Grid) -> String {
    (0..<grid.height).map { y in
      var line = String((0..<grid.width).map { TerminalText.cell(grid.cells[y * grid.width + $0].character) })
      while line.last == " " { line.removeLast() }
      return line
    }.joined(separator: "\n")
  }
}
