import Foundation
import KVScenario
import Testing

@testable import KVEngine
@testable import KVView

/// Notes resolved to steps, the caption line, and the jumps between marked steps.
struct NarrationTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// A shipped scenario file.
  static func shipped(_ name: String) throws -> Scenario {
    try ScenarioLoader.load(path: root.appendingPathComponent("scenarios/\(name)").path)
  }

  /// Every state of the run, step 0 first.
  static func states(_ timeline: Timeline) -> [EngineState] { timeline.states(0...timeline.totalSteps) }

  static func isAdmission(_ state: EngineState, of request: Int) -> Bool {
    if case .admitted(request, _, _) = state.event.action { return true } else { return false }
  }

  static func isGrowth(_ state: EngineState, of request: Int) -> Bool {
    if case .alloc(_, .grow(request, _, _, _)) = state.event.action { return true } else { return false }
  }

  // MARK: Resolution

  @Test func cuesAreInStepOrderAndTheLastReachedIsShown() {
    let notes = [
      ScenarioNote(.step(10), text: "ten"), ScenarioNote(.step(3), text: "three"),
      ScenarioNote(.iteration(99), text: "never"), ScenarioNote(.step(10), text: "ten again"),
    ]
    let narration = Narration(notes: notes) { moment in
      if case .step(let step) = moment { return step }
      return nil
    }
    #expect(narration.cues == [.init(step: 3, note: 1), .init(step: 10, note: 0), .init(step: 10, note: 3)])
    #expect(narration.unreached == [2])
    #expect(narration.cue(at: 2) == nil)
    #expect(narration.cue(at: 3)?.cue.note == 1)
    #expect(narration.cue(at: 9)?.cue.note == 1)
    #expect(narration.cue(at: 10)?.cue.note == 3)
    #expect(narration.cue(at: 10)?.position == 2)
    #expect(narration.cue(at: 500)?.cue.note == 3)
  }

  @Test func momentsResolveAgainstTheRun() {
    var scenario = Fixtures.walkthrough
    scenario.notes = [
      ScenarioNote(.step(55), text: "a"),
      ScenarioNote(.iteration(1), text: "b"),
      ScenarioNote(.event(.admit, request: "B", nth: 1), text: "c"),
      ScenarioNote(.event(.free, request: "A", nth: 3), text: "d"),
      ScenarioNote(.event(.alloc, request: nil, nth: 5), text: "e"),
      ScenarioNote(.event(.preempt, request: nil, nth: 1), text: "never: the seed does not preempt"),
      ScenarioNote(.step(100_000), text: "never: past the end"),
      ScenarioNote(.event(.admit, request: "A", nth: 2), text: "never: A is admitted once"),
    ]
    let timeline = Timeline(scenario: scenario)
    let states = Self.states(timeline)
    let narration = Narration(timeline: timeline)
    let step = Dictionary(uniqueKeysWithValues: narration.cues.map { ($0.note, $0.step) })
    #expect(narration.unreached == [5, 6, 7])
    #expect(step[0] == 55)
    #expect(step[1] == timeline.samples.first { $0.iteration == 1 }!.step)
    #expect(step[2] == states.first { Self.isAdmission($0, of: 1) }!.step)
    let freesOfA = states.filter {
      if case .free(_, 0, _) = $0.event.action { return true } else { return false }
    }
    #expect(step[3] == freesOfA[2].step)
    let allocs = states.filter {
      if case .alloc = $0.event.action { return true } else { return false }
    }
    #expect(step[4] == allocs[4].step)
  }

  @Test func theShippedLessonsReachEveryNote() throws {
    for file in [
      "walkthrough.yaml", "alloc-lesson.yaml", "prefix-sharing.yaml", "oom-preempt.yaml",
      "vllm-v1-walkthrough.yaml", "nano-vllm-walkthrough.yaml",
    ] {
      let scenario = try Self.shipped(file)
      #expect(scenario.notes.count >= 4, "\(file) tells no story")
      let narration = Narration(timeline: Timeline(scenario: scenario))
      #expect(narration.unreached.isEmpty, "\(file): notes never reached: \(narration.unreached)")
      #expect(Set(narration.cues.map(\.step)).count == narration.cues.count, "\(file): two notes at one step")
      for note in scenario.notes {
        #expect(note.text.count <= 78, "\(file): too long for 80 columns: \(note.text)")
      }
    }
  }

  // MARK: Caption line

  @Test func captionGoldens() throws {
    let scenario = try Self.shipped("walkthrough.yaml")
    var controller = LiveController(timeline: Timeline(scenario: scenario))
    let grown = Self.states(controller.timeline).first { Self.isGrowth($0, of: 0) }!.step
    for (name, step) in [("start", 0), ("a-grown", grown)] {
      _ = controller.run(command: "goto \(step)")
      for (width, height) in [(120, 40), (80, 24)] {
        let grid = controller.render(width: width, height: height)
        Golden.check("caption-walkthrough-\(name)-\(width)x\(height)", grid.text)
      }
    }
  }

  @Test func theCaptionRowIsThereOnlyWithNotes() {
    var scenario = Fixtures.walkthrough
    let plain = Fixtures.render(Timeline(scenario: scenario), width: 80, height: 24)
    scenario.notes = [ScenarioNote(.step(5), text: "Five steps in.")]
    let noted = Fixtures.render(Timeline(scenario: scenario), width: 80, height: 24)
    #expect(noted.line(21).hasPrefix("1 note; the first at step 5"))
    #expect(plain.line(22) == noted.line(22) && plain.line(23) == noted.line(23))
    #expect(plain.text != noted.text)
    var timeline = Timeline(scenario: scenario)
    timeline.seek(to: 7)
    #expect(Fixtures.render(timeline, width: 80, height: 24).line(21).hasPrefix("note 1/1 Five steps in."))
  }

  // MARK: Jumps

  /// Every search agrees with a scan of every state, both ways, from every step.
  @Test func searchesAgreeWithAFullScan() {
    for scenario in [
      Fixtures.walkthrough, Fixtures.preempting, EngineScreenTests.vllm, EngineScreenTests.nano,
    ] {
      let timeline = Timeline(scenario: scenario)
      let states = Self.states(timeline)
      let search = StepSearch(timeline)
      for marks in EventKind.allCases.map(\.mark) + [.freeSetChange] {
        let marked = states.filter { $0.event.action.marks.contains(marks) }.map(\.step)
        for step in stride(from: 0, through: timeline.totalSteps, by: 11) {
          #expect(search.find(marks, from: step, forward: true) == marked.first { $0 > step })
          #expect(search.find(marks, from: step, forward: false) == marked.last { $0 < step })
        }
      }
    }
  }

  @Test func theFreeChangeKeySkipsStepsThatLeaveTheFreeFramesAlone() {
    var controller = LiveController(timeline: Timeline(scenario: Fixtures.walkthrough))
    var previous = controller.timeline.state(at: 0).pool
    while true {
      let before = controller.timeline.current.step
      _ = controller.handle(.character("m"))
      let state = controller.timeline.current
      if state.step == before { break }
      #expect(state.pool.freeMask != previous.freeMask || state.pool.lru != previous.lru)
      // Every step skipped left the free frames as they were.
      #expect(controller.timeline.state(at: state.step - 1).pool.freeMask == previous.freeMask)
      previous = state.pool
    }
    #expect(controller.view.message?.text.hasPrefix("no change of the free frames after step") == true)
  }

  @Test func fromAsAdmissionToItsGrowthInThreeKeys() throws {
    let timeline = Timeline(scenario: try Self.shipped("walkthrough.yaml"))
    let states = Self.states(timeline)
    let admitted = states.first { Self.isAdmission($0, of: 0) }!.step
    let grown = states.first { Self.isGrowth($0, of: 0) }!.step
    for keys in [["m", "m", "m"], ["e", "e", "e"]] {
      var controller = LiveController(timeline: timeline)
      _ = controller.run(command: "next admit")
      #expect(controller.timeline.current.step == admitted)
      if keys[0] == "e" { _ = controller.run(command: "next alloc") }
      let presses = keys.count - (keys[0] == "e" ? 1 : 0)
      for key in keys.prefix(presses) { _ = controller.handle(.character(Character(key))) }
      #expect(controller.timeline.current.step == grown, "\(keys)")
    }
  }

  @Test func nextAndPrevCommands() {
    var controller = LiveController(timeline: Timeline(scenario: Fixtures.walkthrough))
    _ = controller.handle(.character("e"))
    #expect(controller.view.message?.text.hasPrefix("choose a kind first: :next alloc|free|") == true)
    _ = controller.run(command: "next finish")
    let finished = controller.timeline.current
    #expect(finished.event.action == .retired(request: 0, status: .finished))
    #expect(controller.view.message?.text.hasPrefix("finished request at step") == true)
    _ = controller.handle(.character("e"))
    #expect(controller.timeline.current.event.action == .retired(request: 1, status: .finished))
    _ = controller.handle(.character("E"))
    #expect(controller.timeline.current.step == finished.step)
    _ = controller.run(command: "prev admit")
    #expect(controller.view.message?.text.hasPrefix("admission at step") == true)
    _ = controller.run(command: "next evict")
    #expect(controller.view.message?.text == "no eviction in this run")
    _ = controller.run(command: "next grow")
    #expect(controller.view.message?.isError == true)
    #expect(
      controller.view.message?.text.contains(
        "next takes one kind: next alloc|free|evict|preempt|admit|finish") == true)
  }
}
