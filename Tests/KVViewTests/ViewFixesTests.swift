import KVEngine
import Testing

@testable import KVView

/// The live view's rough edges found when tried as a new user (issue 11), each fixed and kept fixed.
struct ViewFixesTests {
  static func controller(_ scenario: Scenario, at step: Int) -> LiveController {
    var controller = LiveController(timeline: Timeline(scenario: scenario))
    _ = controller.run(command: "goto \(step)")
    return controller
  }

  /// Up goes back in time, down comes back, and a step brings the current event back into view.
  @Test func eventLogScrollsTheWayItsBorderSays() {
    var controller = Self.controller(Fixtures.walkthrough, at: 55)
    controller.view.focus = .log
    for _ in 0..<3 { _ = controller.handle(.up) }
    #expect(controller.view.scroll[.log] == 3)
    var text = controller.render(width: 120, height: 40).text
    #expect(text.contains("3 newer"))
    #expect(!text.contains("#55 "))
    _ = controller.handle(.down)
    #expect(controller.view.scroll[.log] == 2)
    _ = controller.handle(.right)
    #expect(controller.view.scroll[.log] == nil)
    text = controller.render(width: 120, height: 40).text
    #expect(text.contains("#56 "))
  }

  /// The current event is wrapped, so that it reads whole in a narrow pane.
  @Test func currentEventReadsWhole() {
    let controller = Self.controller(Fixtures.walkthrough, at: 55)
    let text = controller.render(width: 80, height: 24).text
    #expect(text.contains("#55 alloc() -> frame 4 for A (grow to"))
    #expect(text.contains("3 pages for position 128)"))
  }

  /// At 80x24 a selected frame shares the mask's row; Esc, `:frame` or `:find` alone clear it.
  @Test func selectionKeepsTheMaskAndClears() {
    for clear in [":frame", ":find", "Esc"] {
      var controller = Self.controller(Fixtures.walkthrough, at: 55)
      _ = controller.run(command: "frame 4")
      var text = controller.render(width: 80, height: 24).text
      #expect(text.contains("free_mask = 11100000"))
      #expect(text.contains("frame 4: A:2"))
      if clear == "Esc" {
        _ = controller.handle(.escape)
      } else {
        _ = controller.run(command: String(clear.dropFirst()))
      }
      #expect(controller.view.selectedFrame == nil && controller.view.selectedRequest == nil)
      text = controller.render(width: 80, height: 24).text
      #expect(text.contains("free_mask = 11100000"))
      #expect(!text.contains("frame 4: A:2"))
    }
  }

  /// Owners whose ids share a first character get a letter each, with a key naming them.
  @Test func ownersOfALargePoolCanBeToldApart() {
    let requests = (0..<6).map { RequestSpec(id: "r\($0 * 111)", prompt: .length(64 + $0 * 32), output: 4) }
    let scenario = Scenario(
      name: "owners", cache: CacheConfig(pages: 400, pageSize: 4),
      scheduler: SchedulerConfig(policy: .paged, maxBatch: 8), requests: requests)
    var timeline = Timeline(scenario: scenario)
    timeline.seek(to: timeline.iterationStarts[1])
    let text = Fixtures.render(timeline, width: 120, height: 40).text
    #expect(text.contains("a r555 "), "\(text)")
    #expect(text.contains("b r444 "))
    #expect(text.contains("aaaa"))
    #expect(text.contains("eeee"))
    #expect(!text.contains("rrrr"))
  }

  /// The LRU list, head first; no prefix-cache count where there is no prefix cache.
  @Test func lruOrderAndPrefixCacheWording() throws {
    var timeline = Timeline(scenario: FindingScreenTests.prefix)
    let step = try #require(
      (0...timeline.totalSteps).first { timeline.state(at: $0).pool.lru.count >= 2 })
    timeline.seek(to: step)
    let lru = timeline.current.pool.lru.frames.map(String.init).joined(separator: ", ")
    #expect(Fixtures.render(timeline, width: 120, height: 40).text.contains("lru = [\(lru)]  (head first"))
    let admitted = Self.controller(Fixtures.walkthrough, at: 4)
    #expect(!admitted.render(width: 120, height: 40).text.contains("from the prefix cache"))
  }

  /// A request that is releasing its pages says so instead of "can hold 0 tokens".
  @Test func endingRequestsSayWhatIsHappening() {
    let timeline = Timeline(scenario: Fixtures.walkthrough)
    let releasing = (0...timeline.totalSteps).first {
      let a = timeline.state(at: $0).requests[0]
      return a.releasing && a.pageTable.contains(RequestState.releasedEntry)
    }
    guard let releasing else {
      Issue.record("A never releases")
      return
    }
    let text = Self.controller(Fixtures.walkthrough, at: releasing).render(width: 120, height: 40).text
    #expect(text.contains("finished: releasing, 2 pages left"), "\(text)")
    #expect(!text.contains("can hold 0 tokens"))
  }

  /// Operations typed at the `:` command line join the ops list of an allocator-only scenario.
  @Test func typedOperationsAreListed() {
    let scenario = Scenario(
      name: "ops", cache: CacheConfig(pages: 4, pageSize: 16), scheduler: SchedulerConfig(policy: .paged),
      ops: [.alloc, .alloc])
    var controller = Self.controller(scenario, at: 1)
    _ = controller.run(command: "free 0")
    let text = controller.render(width: 120, height: 40).text
    #expect(text.contains("typed at the : command line: 1"))
    #expect(text.contains("free 0 after step 1"))
  }

  /// Zooming in on a pool that already shows whole keeps the automatic layout: no pan hint.
  @Test func zoomingInOnAWholePoolShowsNoPanKeys() {
    var controller = Self.controller(Fixtures.walkthrough, at: 55)
    _ = controller.render(width: 120, height: 40)
    _ = controller.handle(.character("z"))
    _ = controller.handle(.character("Z"))
    #expect(controller.view.zoom == 0)
    #expect(!controller.render(width: 120, height: 40).text.contains("</> pan"))
  }

  /// The dense layouts' marks are explained in the help.
  @Test func helpExplainsTheMarks() {
    var controller = Self.controller(Fixtures.walkthrough, at: 0)
    controller.view.showHelp = true
    #expect(controller.render(width: 120, height: 40).text.contains("◆ shared, ○ cached"))
  }
}
