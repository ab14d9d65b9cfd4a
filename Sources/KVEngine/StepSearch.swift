/// Finds steps by their marks (an event kind, a change of the free frames) in a timeline's run: the
/// timeline's step-mark index names the blocks of steps that may hold one, and only those blocks are
/// re-executed, each from the nearest snapshot. Reads the timeline, never moves it.
public struct StepSearch {
  public let timeline: Timeline

  public init(_ timeline: Timeline) {
    self.timeline = timeline
  }

  /// The first step after `step` (`forward`) or the last step before it whose marks hold all of
  /// `marks` and, when `request` is given, that concerns that request (an index into the requests).
  public func find(_ marks: StepMarks, request: Int? = nil, from step: Int, forward: Bool) -> Int? {
    if forward {
      var found: Int?
      scan(marks, request: request, after: step) { match in
        found = match
        return false
      }
      return found
    }
    let index = timeline.stepMarks
    var block = min(step - 1, timeline.totalSteps) >> StepMarkIndex.blockShift
    while block >= 0 {
      if index.marks(inBlock: block).isSuperset(of: marks) {
        let first = max(1, block << StepMarkIndex.blockShift)
        let last = min(step - 1, ((block + 1) << StepMarkIndex.blockShift) - 1)
        var state = timeline.state(at: first - 1)
        var found: Int?
        Timeline.run(
          &state, to: last, actions: timeline.actions,
          observe: { if matches($0, marks, request) { found = $0.step } })
        if let found { return found }
      }
      block -= 1
    }
    return nil
  }

  /// The steps `1...` of the matching steps after `step`, in order, the first `limit` of them.
  public func steps(_ marks: StepMarks, request: Int? = nil, after step: Int = 0, limit: Int) -> [Int] {
    var result: [Int] = []
    guard limit > 0 else { return result }
    scan(marks, request: request, after: step) { match in
      result.append(match)
      return result.count < limit
    }
    return result
  }

  /// Calls `body` with each matching step after `step`, in order, while it returns true.
  private func scan(_ marks: StepMarks, request: Int?, after step: Int, _ body: (Int) -> Bool) {
    withoutActuallyEscaping(body) { body in scan(marks, request: request, after: step, escaping: body) }
  }

  private func scan(
    _ marks: StepMarks, request: Int?, after step: Int, escaping body: @escaping (Int) -> Bool
  ) {
    let index = timeline.stepMarks
    let actions = timeline.actions
    var block = max(0, step + 1) >> StepMarkIndex.blockShift
    var state: EngineState?
    while block < index.blockCount {
      defer { block += 1 }
      guard index.marks(inBlock: block).isSuperset(of: marks) else { continue }
      let first = max(step + 1, block << StepMarkIndex.blockShift, 1)
      let last = min(timeline.totalSteps, ((block + 1) << StepMarkIndex.blockShift) - 1)
      guard first <= last else { continue }
      var current = state.flatMap { $0.step == first - 1 ? $0 : nil } ?? timeline.state(at: first - 1)
      var going = true
      Timeline.run(
        &current, to: last, actions: actions,
        observe: { if going, matches($0, marks, request) { going = body($0.step) } })
      if !going { return }
      state = current
    }
  }

  private func matches(_ state: EngineState, _ marks: StepMarks, _ request: Int?) -> Bool {
    let action = state.event.action
    guard action.marks.isSuperset(of: marks) else { return false }
    return request == nil || action.subject == request
  }
}
