import KVEngine

/// Which of a scenario's notes the caption shows at each step: the notes resolved to the steps they are
/// reached at. Built once per run (a user action that rewrites the run builds it again); looking up a
/// step is a binary search.
public struct Narration: Sendable, Equatable {
  /// A note reached at a step.
  public struct Cue: Sendable, Equatable {
    public var step: Int
    /// Its index in the scenario's notes.
    public var note: Int

    public init(step: Int, note: Int) {
      self.step = step
      self.note = note
    }
  }

  public let notes: [ScenarioNote]
  /// The reached notes in step order; notes of the same step in file order.
  public let cues: [Cue]

  /// Resolves `notes` with `stepOf`, which gives the step a moment is reached at, or nil when the run
  /// never reaches it (such notes are left out).
  public init(notes: [ScenarioNote], stepOf: (NoteMoment) -> Int?) {
    self.notes = notes
    cues = notes.indices.compactMap { i in stepOf(notes[i].moment).map { Cue(step: $0, note: i) } }
      .sorted { ($0.step, $0.note) < ($1.step, $1.note) }
  }

  /// The notes of the timeline's scenario, resolved against its run.
  public init(timeline: Timeline) {
    let moments = NoteMoments(timeline)
    self.init(notes: timeline.scenario.notes, stepOf: moments.step(of:))
  }

  /// The cue shown at `step`: the last one reached at or before it, with its position among the cues.
  public func cue(at step: Int) -> (cue: Cue, position: Int)? {
    var low = 0
    var high = cues.count
    while low < high {
      let mid = (low + high) / 2
      if cues[mid].step <= step { low = mid + 1 } else { high = mid }
    }
    return low == 0 ? nil : (cues[low - 1], low - 1)
  }

  /// Notes the run never reaches, by index.
  public var unreached: [Int] {
    let reached = Set(cues.map(\.note))
    return notes.indices.filter { !reached.contains($0) }
  }
}

/// The step a note's moment names in one run.
struct NoteMoments {
  let timeline: Timeline

  init(_ timeline: Timeline) {
    self.timeline = timeline
  }

  func step(of moment: NoteMoment) -> Int? {
    switch moment {
    case .step(let step):
      return step <= timeline.totalSteps ? step : nil
    case .iteration(let iteration):
      return timeline.samples.first { $0.iteration == iteration }?.step
    case .event(let kind, let id, let nth):
      var request: Int?
      if let id {
        guard let index = timeline.final.requestIndex(id: id) else { return nil }
        request = index
      }
      let steps = StepSearch(timeline).steps(kind.mark, request: request, limit: nth)
      return steps.count == nth ? steps.last : nil
    }
  }
}
