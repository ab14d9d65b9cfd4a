/// How far one move goes.
public enum Granularity: String, Sendable, CaseIterable {
  /// One allocator operation or one scheduler decision.
  case step
  /// To the start of the next or previous phase (cleanup, refill, prefill, decode).
  case phase
  /// To the start of the next or previous iteration.
  case iteration
}

/// A sample of the run taken at the start of each iteration, for overviews and sparklines.
public struct IterationSample: Sendable, Equatable {
  public var iteration: Int
  public var step: Int
  public var framesInUse: Int
  public var prefixHitPages: Int
  public var preemptions: Int
  /// Requests in the waiting queue when the iteration began.
  public var waiting = 0
}

/// A run that can be stepped forward and back and sought to any step, with bounded memory: it keeps
/// snapshots at unit boundaries about every `interval` steps (thinned as the run grows) and re-executes
/// from the nearest one. User actions are part of the run: applying one rewrites the future.
public struct Timeline: Sendable {
  public let scenario: Scenario
  /// The state the timeline is at.
  public private(set) var current: EngineState
  /// Every finding of the whole run, in step order.
  public private(set) var findings: [Finding] = []
  /// Number of steps of the whole run.
  public private(set) var totalSteps = 0
  /// The state after the last step.
  public private(set) var final: EngineState
  /// Steps that begin a phase, and steps that begin an iteration.
  public private(set) var phaseStarts: [Int] = []
  public private(set) var iterationStarts: [Int] = []
  public private(set) var samples: [IterationSample] = []
  /// User actions by the step after which they are given; each runs at the first unit boundary.
  public private(set) var actions: [Int: UserAction] = [:]
  /// Which kinds of step each block of steps holds, for searches that skip the others.
  public private(set) var stepMarks = StepMarkIndex()

  /// Snapshots at unit boundaries, in step order.
  private var checkpoints: [EngineState] = []
  /// Boundary snapshots around the position of the last long seek, in step order.
  private var nearby: [EngineState] = []
  private var interval: Int
  private let maxCheckpoints: Int

  /// Builds the timeline and runs the scenario to its end once, showing every step to `observe` too.
  public init(
    scenario: Scenario, interval: Int = 64, maxCheckpoints: Int = 256, actions: [Int: UserAction] = [:],
    observe: ((EngineState) -> Void)? = nil
  ) {
    self.scenario = scenario
    self.interval = max(1, interval)
    // Bound the snapshots' memory to about 768 MiB: a large pool or trace gets fewer, farther apart.
    // A snapshot shares what later steps leave alone, so it costs about the pool's tables and the
    // chunks of requests touched until the next one (measured on the Mooncake trace, 30,000 frames and
    // 12,031 requests: 2.4 MB and 0.4 MB of 3.5 MB). The estimate rounds up for the allocator's overhead.
    let bytesPerSnapshot = 256 * 1024 + scenario.cache.pages * 100 + scenario.requests.count * 48
    self.maxCheckpoints = max(2, min(maxCheckpoints, max(16, (768 << 20) / bytesPerSnapshot)))
    self.actions = actions
    let start = EngineState(scenario: scenario)
    current = start
    final = start
    checkpoints = [start]
    explore(from: start, observe: observe)
  }

  /// Memory the snapshots hold, as a count of snapshots and the steps between them.
  public var checkpointCount: Int { checkpoints.count }
  public var checkpointInterval: Int { interval }

  /// Runs from `state` to the end, recording findings, boundaries, samples and snapshots.
  private mutating func explore(from state: EngineState, observe: ((EngineState) -> Void)? = nil) {
    var state = state
    let recorder = Recorder()
    recorder.marks = stepMarks
    let record: (EngineState) -> Void =
      observe.map { observe in
        { step in
          recorder.record(step)
          observe(step)
        }
      } ?? recorder.record
    var checkpoints = self.checkpoints
    var interval = self.interval
    let maxCheckpoints = self.maxCheckpoints
    Timeline.run(
      &state, to: Int.max, actions: actions, observe: record,
      boundary: { boundary in
        guard boundary.step / interval >= checkpoints.count else { return }
        checkpoints.append(boundary)
        if checkpoints.count > maxCheckpoints {
          checkpoints = stride(from: 0, to: checkpoints.count, by: 2).map { checkpoints[$0] }
          interval *= 2
        }
      })
    self.checkpoints = checkpoints
    self.interval = interval
    findings += recorder.findings
    phaseStarts += recorder.phaseStarts
    iterationStarts += recorder.iterationStarts
    samples += recorder.samples
    stepMarks = recorder.marks
    totalSteps = state.step
    final = state
  }

  /// Collects what the timeline keeps of each step.
  private final class Recorder {
    var findings: [Finding] = []
    var phaseStarts: [Int] = []
    var iterationStarts: [Int] = []
    var samples: [IterationSample] = []
    var marks = StepMarkIndex()

    func record(_ state: EngineState) {
      if !state.findings.isEmpty { findings += state.findings }
      let stepMarks = state.event.action.marks
      if !stepMarks.isEmpty { marks.record(step: state.step, stepMarks) }
      guard case .plan(let phase, _) = state.event.action else { return }
      phaseStarts.append(state.step)
      guard phase == .cleanup else { return }
      iterationStarts.append(state.step)
      samples.append(
        IterationSample(
          iteration: state.iteration, step: state.step, framesInUse: state.pool.usedCount,
          prefixHitPages: state.stats.prefixHitPages, preemptions: state.stats.preemptions,
          waiting: state.waiting.count))
    }
  }

  /// Runs `state` to `target` steps, giving each user action after its step, as the timeline does.
  public static func run(
    _ state: inout EngineState, to target: Int, actions: [Int: UserAction],
    observe: ((EngineState) -> Void)? = nil, boundary: ((EngineState) -> Void)? = nil
  ) {
    for step in actions.keys.sorted() where step >= state.step && step < target {
      state.run(to: step, observe: observe, boundary: boundary)
      guard state.step == step, let action = actions[step] else { break }
      state.enqueue(action)
    }
    state.run(to: target, observe: observe, boundary: boundary)
  }

  /// One step, giving first the user action recorded for this point, if any. Stepping a copy of a
  /// timeline's state this way reproduces the timeline's run. Returns false once the run is over.
  @discardableResult
  public static func advance(_ state: inout EngineState, actions: [Int: UserAction]) -> Bool {
    if let action = actions[state.step] { state.enqueue(action) }
    return state.advance()
  }

  /// The state after `step` steps (clamped to the run), re-executed from the nearest snapshot at or
  /// before it: the current state, a nearby snapshot of the last seek, or a checkpoint.
  public func state(at step: Int) -> EngineState {
    let target = min(max(0, step), totalSteps)
    var state = nearestSnapshot(atOrBefore: target)
    Timeline.run(&state, to: target, actions: actions)
    return state
  }

  /// Moves to the state after `step` steps. Boundary snapshots taken on the way, every
  /// `nearbyInterval` steps after the last snapshot, make the next moves around the new position cheap:
  /// after a long seek, and as single steps forward go on, stepping back costs at most
  /// `nearbyInterval` steps.
  public mutating func seek(to step: Int) {
    let target = min(max(0, step), totalSteps)
    var state = nearestSnapshot(atOrBefore: target)
    var taken: [EngineState] = []
    var next = nearestSnapshot(atOrBefore: target, includingCurrent: false).step + Timeline.nearbyInterval
    Timeline.run(
      &state, to: target, actions: actions,
      boundary: { boundary in
        guard boundary.step >= next,
          target - boundary.step <= Timeline.nearbyInterval * Timeline.nearbyLimit
        else { return }
        taken.append(boundary)
        next = boundary.step + Timeline.nearbyInterval
      })
    for snapshot in taken { remember(snapshot) }
    current = state
  }

  /// The latest boundary state among the checkpoints, the nearby snapshots and (unless told not to)
  /// the current state, or the start of its unit, at or before `target`.
  private func nearestSnapshot(atOrBefore target: Int, includingCurrent: Bool = true) -> EngineState {
    var low = 0
    var high = checkpoints.count - 1
    while low < high {
      let mid = (low + high + 1) / 2
      if checkpoints[mid].step <= target { low = mid } else { high = mid - 1 }
    }
    var state = checkpoints[low]
    if let near = nearby.last(where: { $0.step <= target }), near.step > state.step { state = near }
    if includingCurrent && current.step <= target && current.step > state.step { state = current }
    return state
  }

  /// Steps between the snapshots a seek leaves around its target, and how many it keeps.
  static let nearbyInterval = 2_048
  static let nearbyLimit = 12

  /// Keeps `state` among the nearby snapshots; beyond `nearbyLimit`, those farthest from it go.
  private mutating func remember(_ state: EngineState) {
    guard interval > Timeline.nearbyInterval else { return }
    nearby.removeAll { $0.step == state.step }
    nearby.append(state)
    nearby.sort { $0.step < $1.step }
    while nearby.count > Timeline.nearbyLimit {
      let farthest = nearby.indices.max {
        abs(nearby[$0].step - state.step) < abs(nearby[$1].step - state.step)
      }
      nearby.remove(at: farthest!)
    }
  }

  /// The step one move away from the current one.
  public func target(_ granularity: Granularity, forward: Bool) -> Int {
    let step = current.step
    let marks: [Int]
    switch granularity {
    case .step: return min(max(0, step + (forward ? 1 : -1)), totalSteps)
    case .phase: marks = phaseStarts
    case .iteration: marks = iterationStarts
    }
    if forward {
      return marks.first(where: { $0 > step }) ?? totalSteps
    }
    return marks.last(where: { $0 < step }) ?? 0
  }

  /// Moves one step, phase or iteration forward or back.
  public mutating func move(_ granularity: Granularity, forward: Bool) {
    seek(to: target(granularity, forward: forward))
  }

  /// The first finding after the current step, if any.
  public var nextFinding: Finding? { findings.first { $0.step > current.step } }

  /// The states of steps `range` (for an event log), re-executed from the nearest snapshot.
  public func states(_ range: ClosedRange<Int>) -> [EngineState] {
    let lower = max(0, range.lowerBound)
    let upper = min(totalSteps, range.upperBound)
    guard lower <= upper else { return [] }
    var state = self.state(at: lower)
    var result = [state]
    Timeline.run(&state, to: upper, actions: actions, observe: { result.append($0) })
    return result
  }

  /// Gives `action` at the current step. It runs at the next unit boundary: at once between two
  /// operations, or after the operation under way (so that a command never lands inside
  /// `alloc_n`). The run after the current step is recomputed; user actions that were recorded later
  /// are dropped (a new future). Returns the step after which the action runs.
  @discardableResult
  public mutating func apply(_ action: UserAction) -> Int {
    let step = current.step
    var boundary = current
    boundary.finishUnit()
    actions = actions.filter { $0.key < step }
    actions[boundary.step] = action
    findings.removeAll { $0.step > step }
    phaseStarts.removeAll { $0 > step }
    iterationStarts.removeAll { $0 > step }
    samples.removeAll { $0.step > step }
    stepMarks.truncate(after: step)
    checkpoints.removeAll { $0.step > step }
    if checkpoints.isEmpty { checkpoints = [EngineState(scenario: scenario)] }
    nearby.removeAll { $0.step > step }
    explore(from: current)
    seek(to: boundary.step + 1)
    return boundary.step
  }
}
