import KVEngine
import KVView

/// A recording of the live view stepped through a range of steps: each frame is the screen
/// `kvscope frame --step K` draws, shown for `delay` seconds.
public struct CastExport: Sendable {
  public var width: Int
  public var height: Int
  /// Seconds each step stays on screen.
  public var delay: Double
  /// False: ASCII characters only.
  public var unicode = true
  /// False: no colours, attributes only.
  public var colored = true

  public init(width: Int, height: Int, delay: Double) {
    self.width = width
    self.height = height
    self.delay = delay
  }

  /// The recording of steps `steps` of `timeline` (each within `0...timeline.totalSteps`), starting at
  /// Unix time `timestamp`.
  public func cast(_ timeline: Timeline, steps: ClosedRange<Int>, timestamp: Int) -> Asciicast {
    var cast = Asciicast(
      width: width, height: height, timestamp: timestamp,
      title: "\(timeline.scenario.name): steps \(steps.lowerBound)-\(steps.upperBound) (kvscope)",
      env: ["TERM": "xterm-256color"])
    var controller = LiveController(timeline: timeline)
    controller.view.unicode = unicode
    let screen = AnsiScreen(colored: colored)
    var previous: Grid?
    let perStep = Int((delay * 1_000_000).rounded())
    for (k, step) in steps.enumerated() {
      _ = controller.run(command: "goto \(step)")
      let grid = controller.render(width: width, height: height)
      cast.events.append(
        Asciicast.Event(microseconds: k * perStep, data: screen.output(grid, after: previous)))
      previous = grid
    }
    return cast
  }
}
