import KVEngine
import KVText

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

/// Re-executes a trace's scenario and actions on the engine and compares each step line's facts.
public enum TraceVerifier {
  public static func verify(_ trace: Trace) -> TraceVerdict {
    var state = EngineState(scenario: trace.scenario)
    var mismatch: TraceVerdict?
    var index = 0
    // One eager run, as `Timeline` gives the actions; each step is compared as it happens.
    Timeline.run(
      &state, to: trace.steps.count, actions: trace.actions,
      observe: { engine in
        guard mismatch == nil, index < trace.steps.count else { return }
        let expected = trace.steps[index]
        if let difference = expected.difference(from: TraceStep(engine)) {
          mismatch = .mismatch(
            line: trace.stepLines[index], step: expected.step, field: difference.field,
            trace: difference.trace,
            engine: difference.engine)
        }
        index += 1
      })
    if let mismatch { return mismatch }
    if index < trace.steps.count {
      let expected = trace.steps[index]
      return .mismatch(
        line: trace.stepLines[index], step: expected.step, field: "step",
        trace: "step \(expected.step) happens",
        engine: "the run ended at step \(state.step) (\(reason(state)))")
    }
    if let unreached = trace.unreachedActions(after: state).first {
      return .mismatch(
        line: unreached.line, step: unreached.step, field: "action",
        trace: "an action runs after step \(unreached.step)",
        engine: "that step is never reached: the run ends at step \(unreached.lastStep)")
    }
    if let end = trace.end {
      var next = state
      if let action = trace.actions[next.step] { next.enqueue(action) }
      let engineDone = next.isDone
      if end.done != engineDone {
        return .mismatch(
          line: trace.endLine, step: end.steps, field: "done",
          trace: end.done ? "the run ends here" : "the run goes on",
          engine: engineDone ? "the run ends here (\(reason(state)))" : "the run goes on")
      }
      if end.done, let expected = end.reason, let actual = state.endReason {
        let engine = trace.version >= 2 ? TraceEnd.code(actual) : Text.endReason(actual)
        if expected != engine {
          return .mismatch(
            line: trace.endLine, step: end.steps, field: "reason", trace: JSONText.line(expected),
            engine: JSONText.line(engine))
        }
      }
    }
    return .verified(steps: trace.steps.count)
  }

  static func reason(_ state: EngineState) -> String { state.endReason.map(Text.endReason) ?? "done" }
}

extension Trace {
  /// An action recorded after a step the run never reaches, with its line and the run's last step.
  public struct UnreachedAction: Equatable, Sendable {
    public var step: Int
    public var line: Int
    public var lastStep: Int
  }

  /// The actions at steps beyond the end of the run, in step order. `state` is the run as far as it was
  /// taken (with this trace's actions); it is run on, on a copy, as far as the last action needs.
  public func unreachedActions(after state: EngineState) -> [UnreachedAction] {
    guard let last = actions.keys.max(), last > state.step else { return [] }
    var run = state
    Timeline.run(&run, to: last, actions: actions)
    return actions.keys.filter { $0 > run.step }.sorted().map {
      UnreachedAction(step: $0, line: actionLines[$0] ?? 0, lastStep: run.step)
    }
  }
}
