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
}

/// A run that can be stepped forward and back and sought to any step, with bounded memory: it keeps
/// snapshots every `interval` steps (thinned as the run grows) and re-executes from the nearest one.
/// User actions are part of the run: applying one rewrites the future from the current step.
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
  /// User actions by the step after which they run.
  public private(set) var actions: [Int: UserAction] = [:]

  private var checkpoints: [EngineState] = []
  /// Snapshots around the position of the last long seek, in step order.
  private var nearby: [EngineState] = []
  private var interval: Int
  private let maxCheckpoints: Int

  /// Builds the timeline and runs the scenario to its end once.
  public init(
    scenario: Scenario, interval: Int = 64, maxCheckpoints: Int = 256, actions: [Int: UserAction] = [:]
  ) {
    self.scenario = scenario
    self.interval = max(1, interval)
    // Bound the snapshots' memory to about 768 MiB: a large pool or trace gets fewer, farther apart.
    let bytesPerSnapshot = 64 * 1024 + scenario.cache.pages * 48 + scenario.requests.count * 256
    self.maxCheckpoints = max(2, min(maxCheckpoints, max(16, (768 << 20) / bytesPerSnapshot)))
    self.actions = actions
    let start = EngineState(scenario: scenario)
    current = start
    final = start
    checkpoints = [start]
    explore(from: start)
  }

  /// Memory the snapshots hold, as a count of snapshots and the steps between them.
  public var checkpointCount: Int { checkpoints.count }
  public var checkpointInterval: Int { interval }

  /// Runs from `state` to the end, recording findings, boundaries, samples and snapshots.
  private mutating func explore(from state: EngineState) {
    var state = state
    // A user action recorded at the end of the run reopens it.
    while !state.isDone || actions[state.step] != nil {
      Timeline.advance(&state, actions: actions)
      record(state)
    }
    totalSteps = state.step
    final = state
  }

  private mutating func record(_ state: EngineState) {
    findings += state.findings
    if case .plan(let phase, _) = state.event.action {
      phaseStarts.append(state.step)
      if phase == .cleanup {
        iterationStarts.append(state.step)
        samples.append(
          IterationSample(
            iteration: state.iteration, step: state.step, framesInUse: state.pool.usedCount,
            prefixHitPages: state.stats.prefixHitPages, preemptions: state.stats.preemptions))
      }
    }
    if state.step % interval == 0 && state.step / interval == checkpoints.count {
      checkpoints.append(state)
      if checkpoints.count > maxCheckpoints {
        checkpoints = stride(from: 0, to: checkpoints.count, by: 2).map { checkpoints[$0] }
        interval *= 2
      }
    }
  }

  /// One step, running first the user action recorded for this point, if any. Stepping a copy of a
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
    while state.step < target { Timeline.advance(&state, actions: actions) }
    return state
  }

  /// Moves to the state after `step` steps. Snapshots taken on the way, every `nearbyInterval` steps,
  /// make the next moves around the new position cheap (stepping back one step at a time in a long run).
  public mutating func seek(to step: Int) {
    let target = min(max(0, step), totalSteps)
    var state = nearestSnapshot(atOrBefore: target)
    if target - state.step > Timeline.nearbyInterval {
      while state.step < target {
        Timeline.advance(&state, actions: actions)
        if state.step % Timeline.nearbyInterval == 0 && state.step < target
          && target - state.step <= Timeline.nearbyInterval * Timeline.nearbyLimit
        {
          remember(state)
        }
      }
    } else {
      while state.step < target { Timeline.advance(&state, actions: actions) }
    }
    current = state
  }

  /// The latest of the checkpoints, the nearby snapshots and the current state at or before `target`.
  private func nearestSnapshot(atOrBefore target: Int) -> EngineState {
    var state = checkpoints[min(target / interval, checkpoints.count - 1)]
    if let near = nearby.last(where: { $0.step <= target }), near.step > state.step { state = near }
    if current.step <= target && current.step > state.step { state = current }
    return state
  }

  /// Steps between the snapshots a seek leaves around its target, and how many it keeps.
  static let nearbyInterval = 2_048
  static let nearbyLimit = 12

  private mutating func remember(_ state: EngineState) {
    guard interval > Timeline.nearbyInterval, state.step % interval != 0 else { return }
    nearby.removeAll { $0.step == state.step }
    nearby.append(state)
    nearby.sort { $0.step < $1.step }
    if nearby.count > Timeline.nearbyLimit { nearby.removeFirst(nearby.count - Timeline.nearbyLimit) }
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
    while state.step < upper {
      Timeline.advance(&state, actions: actions)
      result.append(state)
    }
    return result
  }

  /// Runs `action` as the next step. The run after the current step is recomputed; user actions that
  /// were recorded later are dropped (a new future).
  public mutating func apply(_ action: UserAction) {
    let step = current.step
    actions = actions.filter { $0.key < step }
    actions[step] = action
    findings.removeAll { $0.step > step }
    phaseStarts.removeAll { $0 > step }
    iterationStarts.removeAll { $0 > step }
    samples.removeAll { $0.step > step }
    checkpoints.removeSubrange(min(checkpoints.count, step / interval + 1)...)
    nearby.removeAll { $0.step > step }
    explore(from: current)
    seek(to: step + 1)
  }
}
