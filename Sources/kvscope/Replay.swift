import ArgumentParser
import Foundation
import KVEngine
import KVScenario
import KVText
import KVView

/// `kvscope replay TRACE`: a recorded trace in the live view, or `--verify` against the engine.
struct Replay: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Open a recorded trace in the live view, or check it against the engine (--verify).",
    discussion: """
      The view steps forward and back through the run the trace's header and actions give. --verify
      re-executes the engine from the header and the recorded actions and compares every step line.
      Exit status: 0 ok (verified), 1 the engine disagrees with the trace, 2 bad input.
      The format is described in docs/trace-format.md.
      """
  )

  @Argument(help: "A trace file (.kvtrace), as written by `kvscope play --record`.")
  var file: String

  @Flag(help: "Re-execute the engine and report the first step where it disagrees with the trace.")
  var verify = false

  @Flag(help: "Use the lines up to the first bad one (a truncated last line, say) instead of failing.")
  var partial = false

  @OptionGroup var display: DisplayOptions

  func run() throws {
    guard verify else { return try view() }
    let trace = Input.trace(file, partial: partial)
    let verdict = TraceVerifier.verify(trace)
    switch verdict {
    case .verified:
      var notes: [String] = []
      if trace.end == nil { notes.append("no end line: the recording was not closed") }
      if trace.recordedBy != KVScope.version { notes.append("recorded by kvscope \(trace.recordedBy)") }
      print(verdict.description + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))"))
    case .mismatch:
      print("\(file): \(verdict.description)")
      if trace.recordedBy != KVScope.version {
        print(
          "note: the trace was recorded by kvscope \(trace.recordedBy); this is kvscope \(KVScope.version)")
      }
      throw ExitCode(1)
    }
  }

  /// The trace in the live view, opened under a progress line.
  private func view() throws {
    let terminal = LiveSession.terminal(display)
    let opening = ViewOpening(terminal: terminal, title: file)
    let read = opening.read { () throws(Input.Failure) in try Input.readTrace(file, partial: partial) }
    let trace = read.value
    var controller = LiveController(timeline: opening.build(trace.scenario, actions: trace.actions))
    controller.view.sourceLabel =
      "replay \(URL(fileURLWithPath: file).lastPathComponent): \(trace.scenario.name)"
    try LiveSession.run(controller, on: terminal, display: display, notes: read.notes)
  }
}
