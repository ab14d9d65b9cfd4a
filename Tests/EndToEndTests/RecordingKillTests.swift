import Foundation
import Testing

/// A recording killed with SIGKILL at any moment leaves a trace whose lines are whole, and which
/// `replay --partial` reads and verifies up to where it stops.
@Suite(.serialized, .enabled(if: TmuxSession.available, "tmux is not installed"))
struct RecordingKillTests {
  /// What to do in the view before the kill: keys, commands, play.
  static let moments: [[String]] = [
    [],
    ["Right", "Right", "Right"],
    [":", "alloc", "Enter", "Right", ":", "free 0", "Enter"],
    ["Space", "+", "+", "+", "+"],
    ["End", ":", "alloc_n 2", "Enter", "r", "r"],
  ]

  @Test(arguments: moments.indices)
  func aKilledRecordingReplaysWithPartial(_ moment: Int) throws {
    let trace = NSTemporaryDirectory() + "kvscope-e2e-kill-\(getpid())-\(moment).kvtrace"
    try? FileManager.default.removeItem(atPath: trace)
    defer { try? FileManager.default.removeItem(atPath: trace) }
    // `exec`: the pane's process is kvscope itself, so its pid is the pane's.
    let session = try TmuxSession(
      command:
        "cd '\(Harness.root)' && exec env LANG=C.UTF-8 TERM=xterm-256color '\(Harness.binary)' play scenarios/alloc-lesson.yaml --record '\(trace)'",
      width: 120, height: 40)
    #expect(try session.waitFor("recording to"))
    let pid = try #require(pid_t(try session.display("#{pane_pid}")))
    for key in Self.moments[moment] {
      let before = try session.screen()
      try session.send(key)
      _ = try session.waitFor(timeout: 2) { $0 != before }
    }
    #expect(kill(pid, SIGKILL) == 0)

    let text = try String(contentsOfFile: trace, encoding: .utf8)
    #expect(text.hasSuffix("\n"), "the last line is cut: \(text.suffix(200))")
    for line in text.split(separator: "\n") {
      #expect(
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "a line is not whole JSON: \(line)"
      )
    }
    let verify = try Harness.kvscope(["replay", "--verify", "--partial", trace])
    #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    #expect(verify.stdout.contains("trace verified"), "\(verify.stdout)")
    let check = try Harness.kvscope(["check", "--partial", trace])
    #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
  }
}
