import KVEngine
import KVText

/// Everything about the compare view that is not the runs: the focused run, the help overlay, the
/// last message, the characters it draws with.
public struct CompareViewState: Equatable, Sendable {
  /// Index of the focused run (the one `l` and `h` step).
  public var focus = 0
  public var showHelp = false
  /// The result of the last key.
  public var message: StatusMessage?
  /// Box-drawing and block characters allowed (a UTF-8 locale).
  public var unicode = true

  public init() {}
}

/// The compare view's behaviour: runs of the same requests, stepped together iteration by iteration,
/// with jumps to the iterations where they decide differently. Pure: no terminal, so tests drive it
/// directly.
public struct CompareController: Sendable {
  public let comparison: Comparison
  /// One timeline per run, in the order of the comparison's runs.
  public private(set) var timelines: [Timeline]
  /// What each run is called on screen (its policy, say).
  public let labels: [String]
  public var view = CompareViewState()
  /// The iteration the runs are synchronized on.
  public private(set) var iteration = 0
  /// Iterations at least one run starts, in order: where `]` and `[` go.
  let iterations: [Int]

  /// Puts every run at the start of the first iteration. `timelines` and `labels` go with
  /// `comparison.runs`, one each.
  public init(comparison: Comparison, timelines: [Timeline], labels: [String]) {
    precondition(!timelines.isEmpty && timelines.count == labels.count, "one label per timeline")
    self.comparison = comparison
    self.timelines = timelines
    self.labels = labels
    iterations = Set(timelines.flatMap { $0.samples.map(\.iteration) }).sorted()
    synchronize(on: iterations.first ?? 0)
  }

  /// Reacts to one key as the key table says; with the help overlay open, keys only close it (and `q`
  /// still quits).
  public mutating func handle(_ key: Key) -> [ControllerEffect] {
    guard let action = CompareKeyMap.action(for: key) else { return [] }
    if view.showHelp {
      switch action {
      case .quit: return [.quit]
      case .openHelp, .closeHelp: view.showHelp = false
      default: break
      }
      return []
    }
    view.message = nil
    return perform(action)
  }

  /// Does what the key table's action says.
  private mutating func perform(_ action: CompareAction) -> [ControllerEffect] {
    switch action {
    case .iterationForward: nextIteration()
    case .iterationBack: previousIteration()
    case .phaseForward: movePhase(forward: true)
    case .phaseBack: movePhase(forward: false)
    case .stepForward: stepFocused(forward: true)
    case .stepBack: stepFocused(forward: false)
    case .nextRun: view.focus = (view.focus + 1) % timelines.count
    case .previousRun: view.focus = (view.focus + timelines.count - 1) % timelines.count
    case .nextDivergence: jumpToDivergence(forward: true)
    case .previousDivergence: jumpToDivergence(forward: false)
    case .firstIteration: synchronize(on: iterations.first ?? 0)
    case .end: seekEnds()
    case .redraw: return [.redrawAll]
    case .openHelp: view.showHelp = true
    case .closeHelp: break
    case .quit: return [.quit]
    }
    return []
  }

  // MARK: Where the runs are

  /// The index of the divergence at the current iteration, if it is one.
  var divergenceIndex: Int? { comparison.divergences.firstIndex { $0.iteration == iteration } }

  /// True when every run is at its last step.
  var allEnded: Bool { timelines.allSatisfy { $0.current.step >= $0.totalSteps } }

  /// The first step of iteration `k` in `timeline`: the start of the first iteration it begins at or
  /// after `k`, or the end of the run when it ended before.
  static func start(of k: Int, in timeline: Timeline) -> Int {
    let i = firstSample(in: timeline) { $0.iteration >= k }
    return i < timeline.samples.count ? timeline.samples[i].step : timeline.totalSteps
  }

  /// The last step of iteration `k` in `timeline`: the step before the next iteration begins, or the
  /// end of the run.
  static func end(of k: Int, in timeline: Timeline) -> Int {
    let i = firstSample(in: timeline) { $0.iteration > k }
    let end = i < timeline.samples.count ? timeline.samples[i].step - 1 : timeline.totalSteps
    return max(start(of: k, in: timeline), end)
  }

  /// The index of the first sample that `isAfter` accepts (samples.count when none); `isAfter` must
  /// hold for a suffix of the samples.
  private static func firstSample(in timeline: Timeline, _ isAfter: (IterationSample) -> Bool) -> Int {
    let samples = timeline.samples
    var low = 0
    var high = samples.count
    while low < high {
      let mid = (low + high) / 2
      if isAfter(samples[mid]) { high = mid } else { low = mid + 1 }
    }
    return low
  }

  // MARK: Moving

  /// Every run to the first step of iteration `k` (or its end).
  private mutating func synchronize(on k: Int) {
    iteration = k
    for i in timelines.indices { timelines[i].seek(to: Self.start(of: k, in: timelines[i])) }
  }

  private mutating func seekEnds() {
    iteration = iterations.last ?? 0
    for i in timelines.indices { timelines[i].seek(to: timelines[i].totalSteps) }
  }

  /// To the next iteration a run begins; after the last one, to the ends of the runs.
  private mutating func nextIteration() {
    if let next = iterations.first(where: { $0 > iteration }) {
      synchronize(on: next)
    } else if allEnded {
      view.message = StatusMessage("the runs have ended; [ goes back")
    } else {
      seekEnds()
      view.message = StatusMessage("the ends of the runs")
    }
  }

  /// To the start of the current iteration when a run has moved past it, else to the previous one.
  private mutating func previousIteration() {
    let pastStart = timelines.contains { $0.current.step > Self.start(of: iteration, in: $0) }
    if pastStart {
      synchronize(on: iteration)
    } else if let previous = iterations.last(where: { $0 < iteration }) {
      synchronize(on: previous)
    } else {
      view.message = StatusMessage("already at the first iteration")
    }
  }

  /// Every run to its next (previous) phase, kept within the current iteration: a run in its last
  /// phase goes to the iteration's last step, one at its start stays.
  private mutating func movePhase(forward: Bool) {
    var moved = false
    for i in timelines.indices {
      let timeline = timelines[i]
      let start = Self.start(of: iteration, in: timeline)
      let end = Self.end(of: iteration, in: timeline)
      let target = min(max(timeline.target(.phase, forward: forward), start), end)
      if target != timeline.current.step {
        timelines[i].seek(to: target)
        moved = true
      }
    }
    if !moved {
      let edge = forward ? "at the end of" : "at the start of"
      let key = forward ? "]" : "["
      view.message = StatusMessage(
        "every run is \(edge) iteration \(Fmt.grouped(iteration)); \(key) changes the iteration")
    }
  }

  /// One step of the focused run alone.
  private mutating func stepFocused(forward: Bool) {
    let i = view.focus
    let before = timelines[i].current.step
    timelines[i].move(.step, forward: forward)
    if timelines[i].current.step == before {
      view.message = StatusMessage(
        forward ? "\(labels[i]) has ended (step \(Fmt.grouped(before)))" : "\(labels[i]) is at step 0")
    }
  }

  /// Every run to the next (previous) iteration where the runs decided differently.
  private mutating func jumpToDivergence(forward: Bool) {
    let divergences = comparison.divergences
    let at = Fmt.grouped(iteration)
    guard !divergences.isEmpty else {
      view.message = StatusMessage("no divergence: the runs decide alike in every iteration")
      return
    }
    let found =
      forward
      ? divergences.firstIndex { $0.iteration > iteration }
      : divergences.lastIndex { $0.iteration < iteration }
    guard let found else {
      view.message = StatusMessage(
        forward ? "no divergence after iteration \(at)" : "no divergence before iteration \(at)")
      return
    }
    synchronize(on: divergences[found].iteration)
    view.message = StatusMessage(
      "divergence \(found + 1) of \(divergences.count): iteration \(Fmt.grouped(iteration))")
  }
}

extension CompareController {
  /// The screen for the runs and the view.
  public func render(width: Int, height: Int) -> Grid {
    CompareScreen.render(self, width: width, height: height)
  }
}
