import KVEngine
import KVText

/// A move to the next or previous step with a mark: a change of the free frames (mask, queue or LRU
/// list), or an event of a kind. Finds its target through the timeline's step marks (see
/// ``StepSearch``), so it is quick on long runs.
enum Jump: Equatable, Sendable {
  /// A step that changed the free mask, the free queue or the LRU list of cached frames.
  case freeChange
  case event(EventKind)

  var marks: StepMarks {
    switch self {
    case .freeChange: .freeSetChange
    case .event(let kind): kind.mark
    }
  }

  /// What the jump lands on, in messages.
  var name: String {
    switch self {
    case .freeChange: "change of the free frames"
    case .event(.alloc): "alloc()"
    case .event(.free): "free()"
    case .event(.evict): "eviction"
    case .event(.preempt): "preemption"
    case .event(.admit): "admission"
    case .event(.finish): "finished request"
    }
  }

  /// The step the jump lands on from `step`, or nil when there is none that way.
  func target(in timeline: Timeline, from step: Int, forward: Bool) -> Int? {
    StepSearch(timeline).find(marks, from: step, forward: forward)
  }

  /// The message after landing on `state`.
  func arrived(at state: EngineState) -> String {
    "\(name) at step \(Fmt.grouped(state.step)) (iter \(Fmt.grouped(state.iteration))): \(state.eventText)"
  }

  /// The message when there is nothing to land on.
  func missing(from step: Int, forward: Bool, in timeline: Timeline) -> String {
    if StepSearch(timeline).find(marks, from: -1, forward: true) == nil { return "no \(name) in this run" }
    return "no \(name) \(forward ? "after" : "before") step \(Fmt.grouped(step))"
  }
}
