import Foundation
import KVEngine
import KVText

/// A problem writing a trace.
public struct TraceWriteError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Writes a trace of a timeline as the user works with it (`kvscope play --record`, `r` in the view).
///
/// Every line goes to the file with its own `write`, so a crash or a kill loses at most the line being
/// written. Step lines describe the run as executed from the start: they are written up to the current
/// step when recording starts, after every move and action, and up to the end of the run by
/// ``finish(_:maxSteps:)``. An action is written the moment it is applied; when the user went back before
/// steps already written, the action line tells readers to drop those step lines (and later actions),
/// and the new future is written after it.
public final class TraceRecorder {
  /// Where the trace goes.
  public let path: String
  /// Step lines written: steps 1 through `stepsWritten` of the current run.
  public private(set) var stepsWritten = 0
  /// Lines written so far, the header included.
  public private(set) var linesWritten = 0
  private var handle: FileHandle?
  /// Steps whose action line is written.
  private var actionsWritten: Set<Int> = []

  /// Creates (or truncates) `path`, writes the header and the run up to the timeline's current step.
  public init(path: String, timeline: Timeline, kvscopeVersion: String) throws(TraceWriteError) {
    self.path = path
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
      throw TraceWriteError("cannot create \(path)")
    }
    do {
      handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    } catch {
      throw TraceWriteError("cannot open \(path) for writing: \(error.localizedDescription)")
    }
    try write(
      JSONText.line(TraceHeaderJSON(kvscope: kvscopeVersion, scenario: ScenarioJSON(timeline.scenario))))
    // Actions the user took before recording started are kept at once, in step order.
    for step in timeline.actions.keys.sorted() { try writeAction(timeline.actions[step]!, at: step) }
    try catchUp(timeline, to: timeline.current.step)
  }

  deinit { try? handle?.close() }

  /// True until ``finish(_:maxSteps:)``.
  public var isOpen: Bool { handle != nil }

  private func write(_ line: String) throws(TraceWriteError) {
    guard let handle else { throw TraceWriteError("the trace \(path) is closed") }
    do {
      try handle.write(contentsOf: Data((line + "\n").utf8))
    } catch {
      throw TraceWriteError("cannot write to \(path): \(error.localizedDescription)")
    }
    linesWritten += 1
  }

  private func writeAction(_ action: UserAction, at step: Int) throws(TraceWriteError) {
    try write(JSONText.line(TraceActionLine(step: step, action: TraceActionJSON(action))))
    actionsWritten.insert(step)
  }

  /// Writes the step lines (and the actions before them) that are missing up to `target`.
  public func catchUp(_ timeline: Timeline, to target: Int) throws(TraceWriteError) {
    let target = min(target, timeline.totalSteps)
    guard target > stepsWritten else { return }
    var state = timeline.state(at: stepsWritten)
    var failure: TraceWriteError?
    // The action given after a step is written before the next step line.
    func writeActionLine(after step: Int) {
      guard failure == nil, step < target, let action = timeline.actions[step], !actionsWritten.contains(step)
      else { return }
      do throws(TraceWriteError) { try self.writeAction(action, at: step) } catch { failure = error }
    }
    writeActionLine(after: state.step)
    Timeline.run(
      &state, to: target, actions: timeline.actions,
      observe: { step in
        guard failure == nil else { return }
        do throws(TraceWriteError) {
          try self.write(JSONText.line(TraceStep(step)))
          self.stepsWritten = step.step
        } catch {
          failure = error
        }
        writeActionLine(after: step.step)
      })
    if let failure { throw failure }
  }

  /// Records an action the user applied after `step` (the boundary ``Timeline/apply(_:)`` returned: it
  /// ran as step `step + 1`); `timeline` is the timeline after it.
  public func applied(step: Int, action: UserAction, timeline: Timeline) throws(TraceWriteError) {
    // The action line drops, for readers, the step lines after `step` and the actions from `step` on.
    stepsWritten = min(stepsWritten, step)
    actionsWritten = actionsWritten.filter { $0 < step }
    try catchUp(timeline, to: step)
    try writeAction(action, at: step)
    try catchUp(timeline, to: timeline.current.step)
  }

  /// Writes the rest of the run (at most `maxSteps` more step lines) and the end line, and closes the file.
  public func finish(_ timeline: Timeline, maxSteps: Int = 5_000_000) throws(TraceWriteError) {
    defer {
      try? handle?.close()
      handle = nil
    }
    let (limit, overflow) = stepsWritten.addingReportingOverflow(max(0, maxSteps))
    try catchUp(timeline, to: overflow ? timeline.totalSteps : min(timeline.totalSteps, limit))
    let done = stepsWritten == timeline.totalSteps && timeline.final.isDone
    try write(
      JSONText.line(
        TraceEnd(
          steps: stepsWritten, done: done, reason: done ? timeline.final.endReason.map(TraceEnd.code) : nil)))
  }

  /// Writes a whole trace of `timeline` (header, actions, every step, end line) to `path`.
  public static func write(_ timeline: Timeline, to path: String, kvscopeVersion: String)
    throws(TraceWriteError)
  {
    let recorder = try TraceRecorder(path: path, timeline: timeline, kvscopeVersion: kvscopeVersion)
    try recorder.finish(timeline, maxSteps: Int.max)
  }
}
