import KVEngine

/// The outcome of re-executing a trace.
public enum TraceVerdict: Equatable, Sendable {
  /// The engine agrees with every step line (and the end line).
  case verified(steps: Int)
  /// The first disagreement: the trace line and step, the field, what the trace says and what the
  /// engine says.
  case mismatch(line: Int, step: Int, field: String, trace: String, engine: String)

  /// One line for people: `trace verified: N steps` or
  /// `line L (step S): FIELD: trace says X, engine says Y`.
  public var description: String {
    switch self {
    case .verified(let steps): return "trace verified: \(steps) step\(steps == 1 ? "" : "s")"
    case .mismatch(let line, let step, let field, let trace, let engine):
      return "line \(line) (step \(step)): \(field): trace says \(trace), engine says \(engine)"
    }
  }
}

/// Re-executes a trace's scenario and actions on the engine and compares each step line.
public enum TraceVerifier {
  public static func verify(_ trace: Trace) -> TraceVerdict {
    var state = EngineState(scenario: trace.scenario)
    for (index, expected) in trace.steps.enumerated() {
      let line = trace.stepLines[index]
      // As `Timeline` does: the action recorded for this point runs first, as a step of its own.
      guard Timeline.advance(&state, actions: trace.actions) else {
        return .mismatch(
          line: line, step: expected.step, field: "step", trace: "step \(expected.step) happens",
          engine: "the run ended at step \(state.step) (\(state.endReason ?? "done"))")
      }
      if let difference = expected.difference(from: TraceStep(state)) {
        return .mismatch(
          line: line, step: expected.step, field: difference.field, trace: difference.trace,
          engine: difference.engine)
      }
    }
    if let end = trace.end {
      var next = state
      if let action = trace.actions[next.step] { next.enqueue(action) }
      let engineDone = next.isDone
      if end.done != engineDone {
        return .mismatch(
          line: trace.endLine, step: end.steps, field: "done",
          trace: end.done ? "the run ends here" : "the run goes on",
          engine: engineDone ? "the run ends here (\(state.endReason ?? "done"))" : "the run goes on")
      }
      if end.done, let reason = end.reason, reason != state.endReason {
        return .mismatch(
          line: trace.endLine, step: end.steps, field: "reason", trace: JSONText.line(reason),
          engine: JSONText.line(state.endReason ?? ""))
      }
    }
    return .verified(steps: trace.steps.count)
  }
}
