import Testing

@testable import KVEngine
@testable import KVView

extension Fixtures {
  /// A paged pool too small for its load: prefix hits on a shared prompt, and preemptions when decode
  /// runs out of frames, over a hundred-odd iterations.
  static let preempting: Scenario = {
    let shared = Array(1...12)
    var requests: [RequestSpec] = []
    for i in 0..<12 {
      requests.append(
        RequestSpec(
          id: "Q\(i)", arrive: i * 6, prompt: .tokens(shared + [100 + i, 200 + i, 300 + i]),
          output: 18 + (i * 5) % 13))
    }
    return Scenario(
      name: "Preemption under load", cache: CacheConfig(pages: 24, pageSize: 4),
      scheduler: SchedulerConfig(policy: .paged, maxBatch: 6, prefixCache: true, onOOM: .preempt),
      requests: requests)
  }()
}

struct RunStripTests {
  /// Iterations of `timeline` during which a preemption happened.
  static func preemptedIterations(_ timeline: Timeline) -> [Int] {
    let samples = timeline.samples
    return samples.indices.filter {
      RunStrip.delta(timeline, $0, { $0.preemptions }, final: timeline.final.stats.preemptions) > 0
    }.map { samples[$0].iteration }
  }

  @Test func scenarioPreemptsAndHits() {
    let timeline = Timeline(scenario: Fixtures.preempting)
    #expect(timeline.final.stats.preemptions >= 2)
    #expect(timeline.final.stats.prefixHitPages > 0)
    #expect(timeline.samples.count > 80)
    #expect(Self.preemptedIterations(timeline).count >= 2)
  }

  @Test func bucketsTakeTheMaximum() {
    let timeline = Timeline(scenario: Fixtures.preempting)
    let n = timeline.samples.count
    let (rows, bucket) = RunStrip.build(timeline, width: 10)
    #expect(bucket == (n + 9) / 10)
    #expect(rows.map(\.label) == ["frames in use", "prefix hits", "preemptions"])
    let frames = rows[0].cells
    #expect(frames.count == (n + bucket - 1) / bucket)
    for (c, value) in frames.enumerated() {
      let slice = timeline.samples[(c * bucket)..<min(n, (c + 1) * bucket)]
      #expect(value == slice.map(\.framesInUse).max())
    }
    #expect(rows[2].cells.reduce(0, +) >= 1)
    #expect(rows[2].total == timeline.final.stats.preemptions)
    #expect(RunStrip.glyph(0, peak: 5, levels: Array("_.-=#")) == " ")
    #expect(RunStrip.glyph(5, peak: 5, levels: Array("_.-=#")) == "#")
    #expect(RunStrip.glyph(1, peak: 5, levels: Array("_.-=#")) == "_")
  }

  @Test func sparklineGolden() {
    var timeline = Timeline(scenario: Fixtures.preempting)
    let iteration = Self.preemptedIterations(timeline)[0]
    timeline.seek(to: timeline.samples.first { $0.iteration == iteration }!.step + 6)
    let text = Fixtures.render(timeline, width: 120, height: 40).text
    #expect(text.contains("frames in use"))
    #expect(text.contains("preemptions"))
    #expect(text.contains("^ iter \(iteration)"))
    Golden.check("run-sparklines-120x40", text)
    var view = ViewState()
    view.unicode = false
    let ascii = Fixtures.render(timeline, view: view, width: 120, height: 40).text
    #expect(ascii.unicodeScalars.allSatisfy { $0.isASCII })
    Golden.check("run-sparklines-120x40-ascii", ascii)
    // At 80x24 there is no room: the strip is left out.
    #expect(!Fixtures.render(timeline, width: 80, height: 24).text.contains("frames in use"))
  }

  @Test func caretFollowsTheIteration() {
    var timeline = Timeline(scenario: Fixtures.preempting)
    timeline.seek(to: timeline.totalSteps)
    let grid = Fixtures.render(timeline, width: 120, height: 40)
    let caretRow = (0..<40).first {
      grid.line($0).contains("^ iter") || grid.line($0).contains("iter \(timeline.current.iteration) ^")
    }
    #expect(caretRow != nil)
  }
}

struct ControllerJumpTests {
  @Test func iterCommand() {
    var controller = LiveController(timeline: Timeline(scenario: Fixtures.preempting))
    _ = controller.render(width: 120, height: 40)
    _ = controller.run(command: "iter 40")
    #expect(controller.timeline.current.iteration == 40)
    #expect(
      controller.timeline.current.step == controller.timeline.samples.first { $0.iteration == 40 }!.step)
    #expect(controller.view.message?.isError == false)
    _ = controller.run(command: "iter 100000")
    #expect(controller.view.message?.isError == true)
    #expect(controller.timeline.current.iteration == 40)
    _ = controller.run(command: "iter x")
    #expect(controller.view.message?.isError == true)
  }

  @Test func preemptionJumpsLandOnThePreemption() {
    var controller = LiveController(timeline: Timeline(scenario: Fixtures.preempting))
    let timeline = controller.timeline
    let steps = timeline.states(0...timeline.totalSteps).filter {
      if case .preempted = $0.event.action { return true } else { return false }
    }.map(\.step)
    #expect(steps.count >= 2)
    for step in steps {
      _ = controller.handle(.character("}"))
      #expect(controller.timeline.current.step == step)
      #expect(controller.view.message?.text.hasPrefix("preemption at step") == true)
    }
    _ = controller.handle(.character("}"))
    #expect(controller.timeline.current.step == steps.last)
    #expect(controller.view.message?.text.hasPrefix("no preemption after step") == true)
    _ = controller.handle(.character("{"))
    #expect(controller.timeline.current.step == steps[steps.count - 2])
    _ = controller.run(command: "goto \(steps[0] + 3)")
    _ = controller.handle(.character("{"))
    #expect(controller.timeline.current.step == steps[0])
    _ = controller.handle(.character("{"))
    #expect(controller.timeline.current.step == steps[0])
    #expect(controller.view.message?.text.hasPrefix("no preemption before") == true)

    var seed = LiveController(timeline: Timeline(scenario: Fixtures.walkthrough))
    _ = seed.handle(.character("}"))
    #expect(seed.view.message?.text == "no preemption in this run")
    #expect(seed.timeline.current.step == 0)
  }

  @Test func pagingTheFramesPanel() {
    var controller = LiveController(timeline: LargePoolTests.timeline)
    _ = controller.render(width: 120, height: 40)
    _ = controller.handle(.character(">"))
    #expect(controller.view.message?.text == "the whole pool is shown; Z zooms in")
    _ = controller.run(command: "zoom 64")
    var text = controller.render(width: 120, height: 40).text
    #expect(text.contains("frames 0-"))
    let first = FramesLayoutProbe.layout(controller, 120, 40)!
    #expect(first.start == 0)
    _ = controller.handle(.character(">"))
    let second = FramesLayoutProbe.layout(controller, 120, 40)!
    #expect(second.start == first.end)
    _ = controller.handle(.character(">"))
    _ = controller.handle(.character(">"))
    _ = controller.handle(.character(">"))
    let last = FramesLayoutProbe.layout(controller, 120, 40)!
    #expect(last.end == 100_000)
    _ = controller.handle(.character(">"))
    #expect(controller.view.message?.text.hasPrefix("already at the last frame") == true)
    #expect(FramesLayoutProbe.layout(controller, 120, 40) == last)
    _ = controller.handle(.character("<"))
    let back = FramesLayoutProbe.layout(controller, 120, 40)!
    #expect(back.end <= last.start + 64 && back.start < last.start)
    for _ in 0..<10 { _ = controller.handle(.character("<")) }
    #expect(FramesLayoutProbe.layout(controller, 120, 40)!.start == 0)
    #expect(controller.view.message?.text == "already at frame 0")
    text = controller.render(width: 120, height: 40).text
    #expect(text.contains("frames 0-"))
  }

  @Test func frameCommandCentersAndZoomKeepsTheFrame() {
    var controller = LiveController(timeline: LargePoolTests.timeline)
    _ = controller.render(width: 120, height: 40)
    _ = controller.run(command: "frame 60000")
    #expect(controller.view.selectedFrame == 60_000)
    // Zooming in from the automatic overview halves the cells, down to single frames, and keeps the
    // frame on screen, near the middle.
    var perCell = FramesLayoutProbe.layout(controller, 120, 40)!.framesPerCell
    while perCell > 1 {
      _ = controller.handle(.character("Z"))
      let layout = FramesLayoutProbe.layout(controller, 120, 40)!
      #expect(layout.framesPerCell == perCell / 2)
      perCell = layout.framesPerCell
      #expect(layout.start <= 60_000 && 60_000 < layout.end, "frame off screen at \(perCell) per cell")
      let middle = (layout.start + layout.end) / 2
      #expect(abs(middle - 60_000) <= (layout.end - layout.start) / 2)
    }
    #expect(controller.view.zoom == 1)
    #expect(controller.render(width: 120, height: 40).text.contains("frame 60,000:"))
    // And back out to the whole pool.
    for _ in 0..<12 { _ = controller.handle(.character("z")) }
    #expect(controller.view.zoom == 0)
    #expect(controller.view.message?.text.hasPrefix("whole pool") == true)
  }

  @Test func findScrollsTheTables() {
    var controller = LiveController(timeline: LargePoolTests.timeline)
    _ = controller.render(width: 120, height: 40)
    _ = controller.run(command: "find R38")
    let r = controller.timeline.current.requestIndex(id: "R38")!
    #expect(controller.view.selectedRequest == r)
    #expect((controller.view.scroll[.tables] ?? 0) > 0)
    let text = controller.render(width: 120, height: 40).text
    #expect(text.contains("▶R38: ["))
    #expect(text.contains("find R38: "))
  }
}

/// The frames layout a controller's screen would use.
enum FramesLayoutProbe {
  static func layout(_ controller: LiveController, _ width: Int, _ height: Int) -> FramesLayout? {
    Screen.layout(timeline: controller.timeline, view: controller.view, width: width, height: height)?
      .frames.layout
  }
}

struct LargeSelectionTests {
  @Test func overviewWithSelectionAndViewport() {
    var controller = LiveController(timeline: LargePoolTests.timeline)
    _ = controller.render(width: 120, height: 40)
    _ = controller.run(command: "zoom 128")
    _ = controller.run(command: "find R4")
    _ = controller.handle(.character(">"))
    let grid = controller.render(width: 120, height: 40)
    let text = grid.text
    #expect(text.contains("1 cell = 128 frames"))
    #expect(text.contains("find R4: "))
    // The request's cells are drawn selected (reverse) in the overview.
    let table = controller.timeline.current.requests[controller.view.selectedRequest!].pageTable
    #expect(!table.isEmpty)
    let selectedCells = grid.cells.filter { $0.role == .selected && $0.reverse }.count
    #expect(selectedCells > 0)
    Golden.check("large-overview-selected-viewport-120x40", text)
  }
}
