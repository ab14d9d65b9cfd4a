import Foundation
import Testing

@testable import KVEngine
@testable import KVView

/// Golden files live next to this file under `Golden/`. A missing golden, or `KVSCOPE_RECORD=1`,
/// writes the file and fails the test so that the new screen is reviewed before it is trusted.
enum Golden {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Golden")

  static func check(_ name: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let url = directory.appendingPathComponent(name + ".txt")
    let content = text + "\n"
    let record = ProcessInfo.processInfo.environment["KVSCOPE_RECORD"] == "1"
    if record || !FileManager.default.fileExists(atPath: url.path) {
      try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try? content.write(to: url, atomically: true, encoding: .utf8)
      Issue.record(
        "recorded golden \(name).txt; review it and run the tests again", sourceLocation: sourceLocation)
      return
    }
    let expected = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    if expected != content {
      let got = content.split(separator: "\n", omittingEmptySubsequences: false)
      let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
      let row =
        zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        ?? min(got.count, want.count)
      Issue.record(
        "screen differs from golden \(name).txt at row \(row):\n got: \(row < got.count ? String(got[row]) : "<none>")\nwant: \(row < want.count ? String(want[row]) : "<none>")\n(KVSCOPE_RECORD=1 rewrites goldens)",
        sourceLocation: sourceLocation)
    }
  }
}

enum Fixtures {
  /// The animation: 8 pages of 64 tokens, astrai-seed, A 120/60 at 0, B 90/40 at 1.
  static let walkthrough = Scenario(
    name: "Paged KV cache walkthrough", cache: CacheConfig(pages: 8, pageSize: 64),
    scheduler: SchedulerConfig(policy: .astraiSeed, maxBatch: 8),
    requests: [
      RequestSpec(id: "A", arrive: 0, prompt: .length(120), output: 60),
      RequestSpec(id: "B", arrive: 1, prompt: .length(90), output: 40),
    ])

  /// A paged pool of 100,000 frames: forty large requests arriving over four iterations, a third of
  /// them short, so that the pool fills with holes.
  static let large: Scenario = {
    let requests = (0..<40).map { i in
      RequestSpec(
        id: "R\(i)", arrive: i / 10, prompt: .length(20_000 + (i * 7919 % 23) * 2_000),
        output: i % 3 == 0 ? 1 : 40)
    }
    return Scenario(
      name: "large pool", cache: CacheConfig(pages: 100_000, pageSize: 16),
      scheduler: SchedulerConfig(policy: .paged, maxBatch: 32), requests: requests)
  }()

  static func recent(_ timeline: Timeline, count: Int = 40) -> [EngineState] {
    let step = timeline.current.step
    return timeline.states(max(0, step - count + 1)...step)
  }

  static func render(_ timeline: Timeline, view: ViewState = ViewState(), width: Int, height: Int) -> Grid {
    Screen.render(
      timeline: timeline, view: view, recent: recent(timeline, count: max(1, height)), width: width,
      height: height)
  }

  /// The walkthrough's named moments, as steps.
  static func walkthroughSteps() -> [(String, Int)] {
    let timeline = Timeline(scenario: walkthrough)
    let states = timeline.states(0...timeline.totalSteps)
    func first(_ predicate: (EngineState) -> Bool) -> Int { states.first(where: predicate)!.step }
    let aAdmitted = first {
      if case .admitted(0, _, _) = $0.event.action { return true } else { return false }
    }
    let bAdmitted = first {
      if case .admitted(1, _, _) = $0.event.action { return true } else { return false }
    }
    let grown = first { $0.requests[0].pageTable == [0, 1, 4] }
    let aFinished = first { $0.pool.freeMask.binary() == "11110011" }
    return [
      ("start", 0), ("a-admitted", aAdmitted), ("b-admitted", bAdmitted), ("a-grown", grown),
      ("a-finished", aFinished),
    ]
  }
}

struct WalkthroughScreenTests {
  @Test func masksAtTheNamedSteps() {
    let timeline = Timeline(scenario: Fixtures.walkthrough)
    let masks = Fixtures.walkthroughSteps().map { timeline.state(at: $0.1).pool.freeMask.binary() }
    #expect(masks == ["11111111", "11111100", "11110000", "11100000", "11110011"])
  }

  @Test(arguments: [(80, 24), (120, 40), (200, 60)])
  func goldens(size: (Int, Int)) {
    var timeline = Timeline(scenario: Fixtures.walkthrough)
    for (name, step) in Fixtures.walkthroughSteps() {
      timeline.seek(to: step)
      let grid = Fixtures.render(timeline, width: size.0, height: size.1)
      #expect(grid.width == size.0 && grid.height == size.1)
      Golden.check("walkthrough-\(name)-\(size.0)x\(size.1)", grid.text)
    }
  }

  @Test func maskTextAtGrowth() {
    var timeline = Timeline(scenario: Fixtures.walkthrough)
    let step = Fixtures.walkthroughSteps().first { $0.0 == "a-grown" }!.1
    timeline.seek(to: step)
    let text = Fixtures.render(timeline, width: 120, height: 40).text
    #expect(text.contains("free_mask = 11100000 = 0xE0"))
    #expect(text.contains("refs = [1,1,1,1,1,0,0,0]"))
    #expect(text.contains("A: [0, 1, 4]"))
    #expect(timeline.current.eventText == "alloc() -> frame 4 for A (grow to 3 pages for position 128)")
  }

  @Test func asciiModeIsPureASCII() {
    var timeline = Timeline(scenario: Fixtures.walkthrough)
    var view = ViewState()
    view.unicode = false
    for (_, step) in Fixtures.walkthroughSteps() {
      timeline.seek(to: step)
      for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let text = Fixtures.render(timeline, view: view, width: w, height: h).text
        #expect(text.unicodeScalars.allSatisfy { $0.isASCII }, "non-ASCII at \(w)x\(h) step \(step)")
      }
    }
    view.showHelp = true
    let help = Fixtures.render(timeline, view: view, width: 120, height: 40).text
    #expect(help.unicodeScalars.allSatisfy { $0.isASCII })
    #expect(help.contains("Right / l"))
  }

  @Test func asciiGolden() {
    var timeline = Timeline(scenario: Fixtures.walkthrough)
    timeline.seek(to: Fixtures.walkthroughSteps().first { $0.0 == "a-grown" }!.1)
    var view = ViewState()
    view.unicode = false
    Golden.check(
      "walkthrough-a-grown-120x40-ascii", Fixtures.render(timeline, view: view, width: 120, height: 40).text)
  }

  @Test func helpOverlayListsEveryKey() {
    let timeline = Timeline(scenario: Fixtures.walkthrough)
    var view = ViewState()
    view.showHelp = true
    let grid = Fixtures.render(timeline, view: view, width: 80, height: 24)
    let text = grid.text
    for key in [
      "next step", "previous phase", "PgDn", "play / pause", "Shift-Tab", "zoom out", "recording", "Ctrl-L",
      "quit", "Esc",
    ] {
      #expect(text.contains(key), "help lacks \(key)")
    }
    Golden.check("help-80x24", text)
  }

  @Test func tooSmall() {
    let timeline = Timeline(scenario: Fixtures.walkthrough)
    let text = Fixtures.render(timeline, width: 79, height: 23).text
    #expect(text.contains("terminal too small: 79x23, need at least 80x24"))
    #expect(text.contains("q quits"))
  }

  @Test func noCrashAtAnySize() {
    var timeline = Timeline(scenario: Fixtures.walkthrough)
    var view = ViewState()
    for (w, h) in [(0, 0), (1, 1), (79, 23), (80, 23), (79, 24), (300, 100), (10, 200), (500, 5), (81, 25)] {
      for step in [0, 5, timeline.totalSteps] {
        timeline.seek(to: step)
        for unicode in [true, false] {
          view.unicode = unicode
          view.showHelp = step == 5
          let grid = Fixtures.render(timeline, view: view, width: w, height: h)
          #expect(grid.width == max(0, w) && grid.height == max(0, h))
          #expect(grid.cells.count == max(0, w) * max(0, h))
        }
      }
    }
  }

  @Test func everyStepRendersAtEverySize() {
    let timeline = Timeline(scenario: Fixtures.walkthrough)
    let states = timeline.states(0...timeline.totalSteps)
    var view = ViewState()
    view.selectedFrame = 4
    view.selectedRequest = 0
    view.focus = .code
    view.scroll = [.log: 3, .code: 1, .tables: 1]
    for state in states where state.step % 7 == 0 {
      var t = timeline
      t.seek(to: state.step)
      for (w, h) in [(80, 24), (120, 40)] {
        let grid = Screen.render(timeline: t, view: view, recent: [state], width: w, height: h)
        #expect(grid.text.contains("step \(state.step)/"))
      }
    }
  }

  @Test func statusLineAndCommandRow() {
    var timeline = Timeline(scenario: Fixtures.walkthrough)
    timeline.seek(to: 3)
    var view = ViewState()
    view.recording = true
    view.playing = true
    view.commandLine = "find A"
    let grid = Fixtures.render(timeline, view: view, width: 120, height: 40)
    #expect(grid.line(0).contains("REC"))
    #expect(grid.line(0).contains("playing"))
    #expect(grid.line(0).contains("step 3/\(timeline.totalSteps)"))
    #expect(grid.line(38).hasPrefix(":find A"))
    view.commandLine = nil
    view.message = StatusMessage("no request named Z", isError: true)
    let withMessage = Fixtures.render(timeline, view: view, width: 120, height: 40)
    #expect(withMessage.line(38).hasPrefix("no request named Z"))
    #expect(withMessage[0, 38].role == .finding)
  }
}

struct LargePoolTests {
  static let timeline: Timeline = {
    var timeline = Timeline(scenario: Fixtures.large)
    // The decode plan of iteration 4: short requests have finished and left holes.
    let step = timeline.iterationStarts.count > 4 ? timeline.iterationStarts[4] - 1 : timeline.totalSteps
    timeline.seek(to: step)
    return timeline
  }()

  @Test func overviewGolden() {
    let grid = Fixtures.render(Self.timeline, width: 120, height: 40)
    let text = grid.text
    #expect(text.contains("frames 0-99,999, 1 cell = "))
    Golden.check("large-overview-120x40", text)
  }

  @Test func zoomAndViewport() {
    var view = ViewState()
    view.zoom = 64
    view.viewportStart = 50_000
    view.selectedFrame = 50_001
    let text = Fixtures.render(Self.timeline, view: view, width: 120, height: 40).text
    #expect(text.contains("1 cell = 64 frames"))
    #expect(text.contains("frame 50,001:"))
    view.zoom = 1
    let single = Fixtures.render(Self.timeline, view: view, width: 120, height: 40).text
    #expect(single.contains("50000"))
    view.unicode = false
    view.zoom = 0
    let ascii = Fixtures.render(Self.timeline, view: view, width: 200, height: 60).text
    #expect(ascii.unicodeScalars.allSatisfy { $0.isASCII })
  }

  @Test func renderIsFast() {
    var view = ViewState()
    view.selectedRequest = 3
    let recent = [Self.timeline.current]
    let clock = ContinuousClock()
    let elapsed = clock.measure {
      for _ in 0..<5 {
        _ = Screen.render(timeline: Self.timeline, view: view, recent: recent, width: 200, height: 60)
      }
    }
    // Debug builds are far slower than release (aim: < 5 ms a frame in release).
    #expect(elapsed < .seconds(5))
    print("large pool render at 200x60: \(elapsed / 5) per frame")
  }
}

struct EventTextTests {
  @Test func walkthroughTexts() {
    let timeline = Timeline(scenario: Fixtures.walkthrough)
    let texts = timeline.states(0...timeline.totalSteps).map(\.eventText)
    #expect(texts.contains("alloc() -> frame 4 for A (grow to 3 pages for position 128)"))
    #expect(texts.contains("free(1) A (finished): refs 1 -> 0, frame returned to mask"))
    #expect(texts.contains { $0.hasPrefix("refill: available = 8 - 1 = 7, popped [B]") })
    #expect(texts.contains { $0.hasPrefix("decode: groups pos ") })
    #expect(texts.allSatisfy { !$0.isEmpty })
  }
}

struct FindingScreenTests {
  /// The seed's out-of-bounds write: a prompt of exactly two pages.
  static let outOfBounds = Scenario(
    name: "Seed defect: out-of-bounds write", cache: CacheConfig(pages: 5, pageSize: 16),
    scheduler: SchedulerConfig(policy: .astraiSeed, maxBatch: 4),
    requests: [
      RequestSpec(id: "A", arrive: 0, prompt: .length(32), output: 3),
      RequestSpec(id: "B", arrive: 0, prompt: .length(20), output: 1),
    ])

  /// Prefix sharing under the paged policy: shared frames, refcounts above 1, the LRU list.
  static let prefix = Scenario(
    name: "Prefix sharing with eviction", cache: CacheConfig(pages: 10, pageSize: 4),
    scheduler: SchedulerConfig(policy: .paged, maxBatch: 4, prefixCache: true, onOOM: .preempt),
    requests: [
      RequestSpec(id: "A", arrive: 0, prompt: .tokens([1, 2, 3, 4, 5, 6, 7, 8, 20, 21]), output: 2),
      RequestSpec(id: "B", arrive: 1, prompt: .tokens([1, 2, 3, 4, 5, 6, 7, 8, 30, 31, 32]), output: 2),
      RequestSpec(id: "C", arrive: 2, prompt: .tokens([1, 2, 3, 4, 5, 6, 7, 8, 40]), output: 3),
    ])

  @Test func findingIsShownInTheLog() {
    var timeline = Timeline(scenario: Self.outOfBounds)
    let finding = timeline.findings.first { $0.kind == .outOfBoundsWrite }
    #expect(finding != nil)
    timeline.seek(to: finding?.step ?? 0)
    let grid = Fixtures.render(timeline, width: 120, height: 40)
    #expect(grid.text.contains("! out-of-bounds-write"))
    Golden.check("seed-out-of-bounds-120x40", grid.text)
  }

  @Test func sharedFrames() {
    var timeline = Timeline(scenario: Self.prefix)
    let states = timeline.states(0...timeline.totalSteps)
    let shared = states.first { s in
      s.pool.refs.contains { $0 > 1 } && s.requests.contains { $0.status == .running }
    }
    #expect(shared != nil)
    timeline.seek(to: shared?.step ?? 0)
    let grid = Fixtures.render(timeline, width: 120, height: 40)
    Golden.check("prefix-shared-120x40", grid.text)
    let cached = states.first { $0.pool.lru.count > 0 && $0.requests.contains { $0.status == .running } }
    timeline.seek(to: cached?.step ?? 0)
    Golden.check("prefix-lru-120x40", Fixtures.render(timeline, width: 120, height: 40).text)
  }
}
