import KVText
import Testing

@testable import KVEngine
@testable import KVView

/// The compare view: runs of `scenarios/vllm-v1-walkthrough.yaml`'s requests under vllm-v1 and
/// nano-vllm, side by side.
enum CompareFixtures {
  /// The walkthrough's requests and pool under `policy`.
  static func walkthrough(_ policy: PolicyID) -> Scenario {
    var scenario = EngineScreenTests.vllm
    scenario.scheduler.policy = policy
    return scenario
  }

  /// The walkthrough compared under `policies`, at the start of the first iteration.
  static func controller(_ policies: [PolicyID] = [.vllmV1, .nanoVLLM]) -> CompareController {
    let scenarios = policies.map(walkthrough)
    return CompareController(
      comparison: Comparison(runs: scenarios.map(RunRecord.init)),
      timelines: scenarios.map { Timeline(scenario: $0) }, labels: policies.map(\.rawValue))
  }

  /// The controller after `keys`.
  static func controller(after keys: [Key]) -> CompareController {
    var controller = controller()
    for key in keys { _ = controller.handle(key) }
    return controller
  }
}

/// The compare screen's text at the first divergence and after `n`, at 120x40 and 200x60, and at the
/// minimum size in ASCII.
struct CompareScreenTests {
  @Test func firstDivergence() {
    let controller = CompareFixtures.controller()
    #expect(controller.iteration == controller.comparison.divergences.first?.iteration)
    Golden.check("compare-first-120x40", controller.render(width: 120, height: 40).text)
    Golden.check("compare-first-200x60", controller.render(width: 200, height: 60).text)
  }

  @Test func nextDivergence() {
    var controller = CompareFixtures.controller()
    _ = controller.handle(.character("n"))
    let text = controller.render(width: 120, height: 40).text
    #expect(text.contains("vllm-v1:   admits nothing after a preemption; preempts D"))
    Golden.check("compare-next-120x40", text)
    Golden.check("compare-next-200x60", controller.render(width: 200, height: 60).text)
    controller.view.unicode = false
    Golden.check("compare-next-ascii-80x24", controller.render(width: 80, height: 24).text)
  }

  @Test func smallScreensShowTheNotice() {
    let controller = CompareFixtures.controller()
    #expect(controller.render(width: 79, height: 24).text.contains("terminal too small: 79x24"))
    #expect(controller.render(width: 80, height: 23).text.contains("terminal too small: 80x23"))
    #expect(!controller.render(width: 80, height: 24).text.contains("too small"))
  }

  @Test func everySizeFitsWithoutOverlaps() {
    var controller = CompareFixtures.controller([.vllmV1, .nanoVLLM, .paged, .astraiSeed])
    for key: Key in [.character("n"), .character("n"), .character("j"), .character("G")] {
      _ = controller.handle(key)
      for (width, height) in [(80, 24), (100, 30), (120, 40), (200, 60)] {
        for unicode in [true, false] {
          controller.view.unicode = unicode
          let grid = controller.render(width: width, height: height)
          #expect(grid.line(0).contains("4 runs"), "\(width)x\(height)")
          #expect(grid.text.contains("q quit"), "\(width)x\(height)")
          if !unicode { #expect(grid.cells.allSatisfy { $0.character.isASCII }, "\(width)x\(height)") }
        }
      }
    }
  }

  @Test func divergenceSentences() {
    let controller = CompareFixtures.controller()
    let comparison = controller.comparison
    let sentences = comparison.divergences.map { comparison.sentences($0) }
    #expect(sentences.first == ["admits A, B (1 hit page)", "admits A, B (0 hit pages)"])
    #expect(
      sentences.contains([
        "admits nothing after a preemption; preempts D; finishes C", "admits F; finishes F",
      ]))
    var facts = IterationFacts()
    facts.blocks = [
      BlockChoice(request: 2, page: 0, frame: 3), BlockChoice(request: 2, page: 1, frame: 4),
      BlockChoice(request: 3, page: 0, frame: 5),
    ]
    let names = comparison.runs[0].final
    #expect(
      Comparison.sentence(facts, names: names, withHits: false, withBlocks: true)
        == "takes blocks 3, 4 for C, 5 for D")
    #expect(
      Comparison.sentence(IterationFacts(), names: names, withHits: false, withBlocks: true) == "nothing")
  }
}

/// The runs move together: by iteration, by phase within an iteration, to the divergences; `l` and
/// `h` move the focused run alone.
struct CompareSyncTests {
  /// Each run's iteration, or nil for a run at its end.
  static func iterations(_ controller: CompareController) -> [Int?] {
    controller.timelines.map { $0.current.step >= $0.totalSteps ? nil : $0.current.iteration }
  }

  @Test func nextIterationKeepsTheRunsTogether() {
    var controller = CompareFixtures.controller()
    var seen: [Int] = []
    while !controller.allEnded {
      for (i, timeline) in controller.timelines.enumerated() where timeline.current.step < timeline.totalSteps
      {
        #expect(timeline.current.iteration == controller.iteration, "run \(i)")
        #expect(timeline.current.step == CompareController.start(of: controller.iteration, in: timeline))
      }
      seen.append(controller.iteration)
      _ = controller.handle(.character("]"))
    }
    #expect(seen == Array(0...12))
    _ = controller.handle(.character("]"))
    #expect(controller.view.message?.text.contains("ended") == true)
    for _ in seen { _ = controller.handle(.character("[")) }
    #expect(controller.iteration == 0)
  }

  @Test func divergencesInOrder() {
    var controller = CompareFixtures.controller()
    let expected = controller.comparison.divergences.map(\.iteration)
    var landed = [controller.iteration]
    for _ in 1..<expected.count {
      _ = controller.handle(.character("n"))
      landed.append(controller.iteration)
      #expect(controller.divergenceIndex == landed.count - 1)
    }
    #expect(landed == expected)
    _ = controller.handle(.character("n"))
    #expect(controller.iteration == expected.last)
    #expect(controller.view.message?.text == "no divergence after iteration \(expected.last ?? 0)")
    var back: [Int] = []
    for _ in 1..<expected.count {
      _ = controller.handle(.character("N"))
      back.append(controller.iteration)
    }
    #expect(back == expected.dropLast().reversed())
  }

  @Test func stepMovesOnlyTheFocusedRun() {
    var controller = CompareFixtures.controller(after: [.character("]"), .character("]")])
    let before = controller.timelines.map(\.current.step)
    _ = controller.handle(.character("l"))
    #expect(controller.timelines.map(\.current.step) == [before[0] + 1, before[1]])
    _ = controller.handle(.tab)
    _ = controller.handle(.right)
    _ = controller.handle(.right)
    #expect(controller.timelines.map(\.current.step) == [before[0] + 1, before[1] + 2])
    _ = controller.handle(.character("h"))
    #expect(controller.timelines.map(\.current.step) == [before[0] + 1, before[1] + 1])
    #expect(controller.iteration == 2)
  }

  @Test func phasesStayInTheIteration() {
    var controller = CompareFixtures.controller(after: [.character("]"), .character("]"), .character("]")])
    let iteration = controller.iteration
    var moves = 0
    while true {
      let before = controller.timelines.map(\.current.step)
      _ = controller.handle(.character("j"))
      if controller.timelines.map(\.current.step) == before { break }
      moves += 1
      #expect(Self.iterations(controller).allSatisfy { $0 == iteration })
    }
    #expect(moves >= 3)
    #expect(controller.view.message?.text.contains("end of iteration \(iteration)") == true)
    for (timeline, run) in zip(controller.timelines, controller.timelines.indices) {
      #expect(timeline.current.step == CompareController.end(of: iteration, in: timeline), "run \(run)")
    }
    for _ in 0..<moves { _ = controller.handle(.character("k")) }
    for timeline in controller.timelines {
      #expect(timeline.current.step == CompareController.start(of: iteration, in: timeline))
    }
  }

  @Test func startAndEnd() {
    var controller = CompareFixtures.controller(after: [.character("G")])
    #expect(controller.allEnded)
    _ = controller.handle(.character("g"))
    #expect(controller.iteration == 0)
    #expect(controller.timelines.allSatisfy { $0.current.step == $0.samples[0].step })
  }
}

/// The compare view's key table: every key does its action, no key is bound twice, and the help
/// overlay and the hint bar show the table.
struct CompareKeyMapTests {
  /// A controller in the middle of iteration 4 with the second run focused.
  static func middle() -> CompareController {
    var controller = CompareFixtures.controller(after: [
      .character("]"), .character("]"), .character("]"), .character("]"),
    ])
    _ = controller.handle(.character("j"))
    _ = controller.handle(.tab)
    return controller
  }

  static func did(
    _ action: CompareAction, from before: CompareController, to after: CompareController,
    effects: [ControllerEffect]
  ) -> Bool {
    let was = before.timelines.map(\.current.step)
    let now = after.timelines.map(\.current.step)
    let focus = before.view.focus
    let divergences = before.comparison.divergences.map(\.iteration)
    let others = now.indices.filter { $0 != focus }
    switch action {
    case .iterationForward: return after.iteration > before.iteration
    case .iterationBack:
      return after.iteration == before.iteration && zip(now, was).allSatisfy { $0 <= $1 } && now != was
    case .phaseForward:
      return after.iteration == before.iteration && zip(now, was).allSatisfy { $0 >= $1 } && now != was
    case .phaseBack:
      return after.iteration == before.iteration && zip(now, was).allSatisfy { $0 <= $1 } && now != was
    case .stepForward: return now[focus] == was[focus] + 1 && others.allSatisfy { now[$0] == was[$0] }
    case .stepBack: return now[focus] == was[focus] - 1 && others.allSatisfy { now[$0] == was[$0] }
    case .nextRun: return after.view.focus == (focus + 1) % now.count
    case .previousRun: return after.view.focus == (focus + now.count - 1) % now.count
    case .nextDivergence: return after.iteration == divergences.first { $0 > before.iteration }
    case .previousDivergence: return after.iteration == divergences.last { $0 < before.iteration }
    case .firstIteration: return after.iteration == 0
    case .end: return after.allEnded
    case .redraw: return effects == [.redrawAll]
    case .openHelp: return after.view.showHelp
    case .closeHelp: return before.view.showHelp && !after.view.showHelp
    case .quit: return effects == [.quit]
    }
  }

  @Test func everyKeyDoesItsAction() {
    for binding in CompareKeyMap.bindings {
      for key in binding.keys {
        var before = Self.middle()
        before.view.showHelp = binding.action == .closeHelp
        var after = before
        let effects = after.handle(key)
        #expect(
          Self.did(binding.action, from: before, to: after, effects: effects),
          "\(key) did not \(binding.action)")
      }
    }
  }

  @Test func noKeyHasTwoBindings() {
    let keys = CompareKeyMap.bindings.flatMap(\.keys)
    for key in keys {
      #expect(keys.filter { $0 == key }.count == 1, "\(key) is bound twice")
    }
  }

  @Test func everyActionHasAKey() {
    for action in CompareAction.allCases {
      #expect(
        CompareKeyMap.bindings.contains { $0.action == action && !$0.keys.isEmpty }, "no key for \(action)")
    }
  }

  @Test func helpShowsEveryEntry() {
    func ascii(_ text: String) -> String {
      text.replacing("→", with: "Right").replacing("←", with: "Left").replacing("↑", with: "Up")
        .replacing("↓", with: "Down")
    }
    var controller = CompareFixtures.controller(after: [.character("?")])
    #expect(controller.view.showHelp)
    let rows = CompareKeyMap.helpRows
    for unicode in [true, false] {
      controller.view.unicode = unicode
      for (width, height) in [(80, 24), (120, 40)] {
        let text = controller.render(width: width, height: height).text
        let shown = rows.map { unicode ? $0 : (ascii($0.keys), ascii($0.action)) }
        let keyWidth = shown.map(\.0.count).max() ?? 0
        for (keys, action) in shown {
          #expect(
            text.contains(Fmt.padded(keys, keyWidth) + "  " + action),
            "help at \(width)x\(height) lacks \(keys)")
        }
        for note in CompareLayout.helpNotes {
          #expect(text.contains(note), "help at \(width)x\(height) lacks \(note)")
        }
      }
    }
    _ = controller.handle(.escape)
    #expect(!controller.view.showHelp)
  }

  @Test func hintBarShowsEveryHint() {
    let bar = CompareFixtures.controller().render(width: 120, height: 40).line(39)
    for hint in CompareKeyMap.hints {
      #expect(bar.contains(hint.text), "\(hint.text): \(bar)")
    }
  }
}
