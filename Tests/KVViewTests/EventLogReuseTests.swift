import KVEngine
import Testing

@testable import KVView

/// The event log kept from the last screen is reused only where it is the log a fresh view would show.
struct EventLogReuseTests {
  static func freshScreen(at step: Int, width: Int, height: Int) -> String {
    var controller = LiveController(timeline: Timeline(scenario: Fixtures.walkthrough))
    _ = controller.run(command: "goto \(step)")
    return controller.render(width: width, height: height).text
  }

  @Test func movesForwardBackAndRedrawsShowTheLogOfAFreshView() {
    var controller = LiveController(timeline: Timeline(scenario: Fixtures.walkthrough))
    let moves = [1, 2, 3, 4, 5, 6, 5, 4, 12, 13, 13, 14, 30, 29, 31, 32, 0, 1]
    for (index, step) in moves.enumerated() {
      _ = controller.run(command: "goto \(step)")
      let height = index % 3 == 0 ? 30 : 40
      #expect(
        controller.render(width: 120, height: height).text
          == Self.freshScreen(at: step, width: 120, height: height),
        "step \(step), height \(height)")
    }
  }
}
