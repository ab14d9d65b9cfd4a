import Testing

@testable import KVView

/// The screen shown while a file is read and its run built.
struct OpeningScreenTests {
  @Test func saysWhatIsOpenedHowFarAndHowToQuit() {
    let progress = BuildProgress(steps: 1_234_567, iteration: 4_321, requestsDone: 12, requests: 3_000)
    let grid = OpeningScreen(title: "mooncake.yaml", progress: progress).render(width: 80, height: 24)
    let lines = grid.text.split(separator: "\n", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    #expect(lines.count == 24)
    #expect(lines[10] == "opening mooncake.yaml")
    #expect(lines[11] == "building the run: 1,234,567 steps, iteration 4,321, 12 of 3,000 requests done")
    #expect(lines[12] == "q quits")
  }

  @Test func readingComesFirstAndAnAllocatorScenarioHasNoRequestCount() {
    #expect(OpeningScreen(title: "f", progress: nil).progressLine == "reading the file...")
    let ops = BuildProgress(steps: 10, iteration: 0, requestsDone: 0, requests: 0)
    #expect(
      OpeningScreen(title: "f", progress: ops).progressLine == "building the run: 10 steps, iteration 0")
  }

  @Test func aLongTitleIsCutAndTheRestWrapsOnANarrowScreen() {
    let progress = BuildProgress(steps: 99, iteration: 1, requestsDone: 0, requests: 5)
    let grid = OpeningScreen(title: String(repeating: "x", count: 500), progress: progress)
      .render(width: 30, height: 10)
    let rows = (0..<10).map { grid.line($0) }
    #expect(rows.contains { $0.hasPrefix("opening xxx") && $0.hasSuffix("...") })
    #expect(rows.contains { $0.contains("q quits") })
    #expect(rows.allSatisfy { $0.count == 30 })
  }
}
