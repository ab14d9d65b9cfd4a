import Testing

@testable import KVEngine
@testable import KVView

/// The key map is the one table of keys: every key of it does what its action says through
/// `LiveController.handle`, no key means two things at once, and the help overlay and the hint bar show
/// its entries.
struct KeyMapTests {
  /// A controller in the middle of the preempting run, on a 120x40 screen, with something to undo for
  /// every action: a selected request, scrolled panes.
  static func controller(focus: Pane) -> LiveController {
    var timeline = Timeline(scenario: Fixtures.preempting)
    timeline.seek(to: middleStep)
    var controller = LiveController(timeline: timeline)
    _ = controller.render(width: 120, height: 40)
    controller.view.focus = focus
    controller.view.selectedRequest = 0
    controller.view.eventKind = .alloc
    for pane in Pane.allCases { controller.view.scroll[pane] = 20 }
    return controller
  }

  /// A step past the middle of the preempting run from which a step, a phase and an iteration move to
  /// three different steps, both ways.
  static let middleStep: Int = {
    var timeline = Timeline(scenario: Fixtures.preempting)
    for step in (timeline.totalSteps / 2)..<timeline.totalSteps {
      timeline.seek(to: step)
      let differ = [true, false].allSatisfy { forward in
        Set([Granularity.step, .phase, .iteration].map { stepAfter(timeline, $0, forward: forward) }).count
          == 3
      }
      if differ { return step }
    }
    return timeline.totalSteps / 2
  }()

  /// A controller on the large pool zoomed to 64 frames a cell, in the middle of the pool, so that
  /// panning both ways moves the frames.
  static func zoomedController(focus: Pane) -> LiveController {
    var controller = LiveController(timeline: LargePoolTests.timeline)
    _ = controller.render(width: 120, height: 40)
    controller.view.focus = focus
    controller.view.zoom = 64
    controller.view.viewportStart = 50_000
    return controller
  }

  /// The step `timeline` reaches moving by `granularity`.
  static func stepAfter(_ timeline: Timeline, _ granularity: Granularity, forward: Bool) -> Int {
    var timeline = timeline
    timeline.move(granularity, forward: forward)
    return timeline.current.step
  }

  /// Whether the controller went from `before` to `after` (returning `effects`) as `action` says.
  static func did(
    _ action: ViewAction, from before: LiveController, to after: LiveController, effects: [ControllerEffect]
  ) -> Bool {
    let step = before.timeline.current.step
    let now = after.timeline.current.step
    let message = after.view.message?.text ?? ""
    let focus = before.view.focus
    let panes = Pane.allCases
    let focusIndex = panes.firstIndex(of: focus)!
    // The event log counts rows back from its newest line: down brings it nearer the current step.
    func scrolled(_ rows: Int) -> Bool {
      after.view.scroll[focus] == max(0, (before.view.scroll[focus] ?? 0) + (focus == .log ? -rows : rows))
    }
    switch action {
    case .stepForward: return now == stepAfter(before.timeline, .step, forward: true)
    case .stepBack: return now == stepAfter(before.timeline, .step, forward: false)
    case .phaseForward: return now == stepAfter(before.timeline, .phase, forward: true)
    case .phaseBack: return now == stepAfter(before.timeline, .phase, forward: false)
    case .iterationForward: return now == stepAfter(before.timeline, .iteration, forward: true)
    case .iterationBack: return now == stepAfter(before.timeline, .iteration, forward: false)
    case .scrollDown: return scrolled(1) && now == step
    case .scrollUp: return scrolled(-1) && now == step
    case .scrollPageDown: return scrolled(10) && now == step
    case .scrollPageUp: return scrolled(-10) && now == step
    case .nextPreemption:
      return message.contains("preemption") && (now > step || message.hasPrefix("no preemption after"))
    case .previousPreemption:
      return message.contains("preemption") && (now < step || message.hasPrefix("no preemption before"))
    case .nextFreeChange:
      return now > step && after.timeline.current.event.action.marks.contains(.freeSetChange)
    case .previousFreeChange:
      return now < step && after.timeline.current.event.action.marks.contains(.freeSetChange)
    case .nextChosenEvent: return now > step && message.hasPrefix("alloc() at step")
    case .previousChosenEvent: return now < step && message.hasPrefix("alloc() at step")
    case .togglePlay: return after.view.playing != before.view.playing
    case .faster: return after.view.speed == before.view.speed * 2
    case .slower: return after.view.speed == before.view.speed / 2
    case .cyclePlayGranularity: return after.view.playGranularity != before.view.playGranularity
    case .seekStart: return now == 0
    case .seekEnd: return now == after.timeline.totalSteps
    case .goToStep: return after.view.commandLine == "goto "
    case .nextFinding: return now > step || message.hasPrefix("no finding after")
    case .previousFinding: return now < step || message.hasPrefix("no finding before")
    case .nextPane: return after.view.focus == panes[(focusIndex + 1) % panes.count]
    case .previousPane: return after.view.focus == panes[(focusIndex + panes.count - 1) % panes.count]
    case .openCommandLine: return after.view.commandLine == ""
    case .zoomOut: return after.view.zoom == 0 && message.hasPrefix("whole pool")
    case .zoomIn:
      // A pool that shows whole keeps the automatic layout: nothing to pan.
      return after.view.zoom == 1 && message == "1 cell = 1 frame"
        || after.view.zoom == 0 && message == "the whole pool shows at 1 cell = 1 frame"
    case .panRight: return after.view.viewportStart > before.view.viewportStart
    case .panLeft: return after.view.viewportStart < before.view.viewportStart - 64
    case .toggleRecording: return effects == [.toggleRecording]
    case .redraw: return effects == [.redrawAll]
    case .openHelp: return after.view.showHelp
    case .clearSelection: return before.view.selectedRequest != nil && after.view.selectedRequest == nil
    case .quit: return effects == [.quit]
    case .toggleQuiz: return after.view.quiz?.isOn != (before.view.quiz?.isOn ?? false)
    case .nextQuestion: return after.view.quiz?.question != nil && now != step
    }
  }

  @Test func everyKeyDoesItsAction() {
    let preempting = Timeline(scenario: Fixtures.preempting)
    for binding in KeyMap.bindings {
      for key in binding.keys {
        for pane in Pane.allCases {
          var view = ViewState()
          view.focus = pane
          guard binding.condition.holds(view, preempting) else { continue }
          let panning = binding.action == .panLeft || binding.action == .panRight
          let before = panning ? Self.zoomedController(focus: pane) : Self.controller(focus: pane)
          var after = before
          let effects = after.handle(key)
          #expect(
            Self.did(binding.action, from: before, to: after, effects: effects),
            "\(key) in the \(pane) pane did not \(binding.action)")
        }
      }
    }
  }

  @Test func theMovesDiffer() {
    // Otherwise the test above could not tell a step key from a phase or iteration key.
    let timeline = Self.controller(focus: .frames).timeline
    for forward in [true, false] {
      let steps = [Granularity.step, .phase, .iteration].map {
        Self.stepAfter(timeline, $0, forward: forward)
      }
      #expect(Set(steps).count == 3, "\(steps)")
    }
  }

  @Test func noKeyHasTwoBindingsAtOnce() {
    let keys = KeyMap.bindings.flatMap(\.keys)
    for timeline in [Timeline(scenario: Fixtures.walkthrough), Timeline(scenario: Fixtures.preempting)] {
      for pane in Pane.allCases {
        for (zoom, quiz) in [(0, false), (2, false), (0, true)] {
          var view = ViewState()
          view.focus = pane
          view.zoom = zoom
          view.quiz = quiz ? QuizSession(stage: .idle) : nil
          for key in keys {
            let applying = KeyMap.bindings.filter {
              $0.keys.contains(key) && $0.condition.holds(view, timeline)
            }
            #expect(applying.count == 1, "\(key) in the \(pane) pane: \(applying.map(\.action))")
          }
        }
      }
    }
  }

  @Test func everyActionHasAKey() {
    for action in ViewAction.allCases {
      #expect(
        KeyMap.bindings.contains { $0.action == action && !$0.keys.isEmpty }, "no key performs \(action)")
    }
  }

  @Test func helpShowsEveryEntry() {
    let rows = KeyMap.entries.compactMap { entry -> (String, String)? in
      if case .row(let keys, let action) = entry.help { return (keys, action) }
      return nil
    }
    let notes = KeyMap.entries.compactMap { entry -> String? in
      if case .note(let text) = entry.help { return text }
      return nil
    }
    #expect(rows.count + notes.count == KeyMap.entries.count)
    func ascii(_ text: String) -> String {
      text.replacing("→", with: "Right").replacing("←", with: "Left").replacing("↑", with: "Up")
        .replacing("↓", with: "Down")
    }
    let timeline = Timeline(scenario: Fixtures.walkthrough)
    for unicode in [true, false] {
      for (width, height) in [(80, 24), (120, 40)] {
        var view = ViewState()
        view.showHelp = true
        view.unicode = unicode
        let text = Fixtures.render(timeline, view: view, width: width, height: height).text
        let shown = rows.map { unicode ? $0 : (ascii($0.0), ascii($0.1)) }
        let keyWidth = shown.map(\.0.count).max() ?? 0
        for (keys, action) in shown {
          #expect(
            text.contains(Fmt.padded(keys, keyWidth) + "  " + action),
            "help at \(width)x\(height) lacks \(keys) \(action)")
        }
        for note in notes {
          #expect(text.contains(unicode ? note : ascii(note)), "help at \(width)x\(height) lacks \(note)")
        }
      }
    }
  }

  @Test func hintBarShowsTheHintsThatApply() {
    let timeline = Timeline(scenario: Fixtures.preempting)
    for pane in Pane.allCases {
      for zoom in [0, 1] {
        var view = ViewState()
        view.focus = pane
        view.zoom = zoom
        let bar = Fixtures.render(timeline, view: view, width: 200, height: 60).line(59)
        for entry in KeyMap.entries {
          for hint in entry.hints {
            #expect(
              bar.contains(hint.text) == hint.condition.holds(view, timeline),
              "\(hint.text) in the \(pane) pane, zoom \(zoom): \(bar)")
          }
        }
      }
    }
  }
}
