import Foundation
import Testing

/// Drives the real binary in tmux: stepping, help, resize, recording, quit.
@Suite(.serialized, .enabled(if: TmuxSession.available, "tmux is not installed"))
struct LiveViewTests {
  /// A shell command that runs kvscope and then reports how it ended, on a restored screen.
  static func command(_ arguments: String, environment: String = "LANG=C.UTF-8 LC_ALL=C.UTF-8") -> String {
    "cd '\(Harness.root)' && env \(environment) TERM=xterm-256color '\(Harness.binary)' \(arguments); echo \"kvscope exited with $?\"; sleep 30"
  }

  /// Presses `key` until the screen shows `text`; returns false after `limit` presses.
  func press(_ key: String, until text: String, in session: TmuxSession, limit: Int) throws -> Bool {
    for _ in 0..<limit {
      if try session.screen().contains(text) { return true }
      let before = try session.screen()
      try session.send(key)
      _ = try session.waitFor(timeout: 2) { $0 != before || $0.contains(text) }
    }
    return try session.screen().contains(text)
  }

  @Test func walkthroughShowsTheAnimationMasksAndQuitsCleanly() throws {
    let session = try TmuxSession(command: Self.command("scenarios/walkthrough.yaml"), width: 120, height: 40)
    #expect(try session.waitFor("11111111"))
    #expect(try press("Right", until: "11111100", in: session, limit: 20))
    #expect(try press("Right", until: "11110000", in: session, limit: 30))
    #expect(try press("]", until: "11100000", in: session, limit: 30))
    #expect(try press("]", until: "11110011", in: session, limit: 80))
    // Back one step and forward again.
    // Back to the free of frame 1 (A's frames go one by one) and forward again.
    #expect(try press("Left", until: "11100011", in: session, limit: 10))
    #expect(try press("Right", until: "11110011", in: session, limit: 10))

    try session.send("?")
    #expect(try session.waitFor("next finding"))
    let withHelp = try session.screen()
    try session.send("Escape")
    #expect(try session.waitFor(timeout: 5) { $0 != withHelp } != nil)

    try session.tmux(["resize-window", "-t", session.name, "-x", "60", "-y", "15"])
    #expect(try session.waitFor("too small"))
    try session.tmux(["resize-window", "-t", session.name, "-x", "120", "-y", "40"])
    #expect(try session.waitFor("11110011"))

    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
    #expect(try session.display("#{alternate_on}") == "0")
    #expect(try session.display("#{cursor_flag}") == "1")
  }

  @Test func commandLineErrorsAreShownInline() throws {
    let session = try TmuxSession(
      command: Self.command("scenarios/alloc-lesson.yaml"), width: 120, height: 40)
    #expect(try session.waitFor("1111"))
    try session.send(":", "free banana", "Enter")
    #expect(try session.waitFor("must be a whole number"))
    try session.send(":", "alloc", "Enter")
    #expect(try session.waitFor("1110"))
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
  }

  @Test func recordedSessionReplaysAndVerifies() throws {
    let trace = NSTemporaryDirectory() + "kvscope-e2e-\(getpid()).kvtrace"
    defer { try? FileManager.default.removeItem(atPath: trace) }
    let session = try TmuxSession(
      command: Self.command("play scenarios/alloc-lesson.yaml --record '\(trace)'"), width: 120, height: 40)
    #expect(try session.waitFor("1111"))
    try session.send("Right", "Right")
    try session.send(":", "alloc", "Enter")
    #expect(try session.waitFor("1000"))
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
    let verify = try Harness.kvscope(["replay", "--verify", trace])
    #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    #expect(verify.stdout.contains("verified"))
    let text = try String(contentsOfFile: trace, encoding: .utf8)
    #expect(text.contains("\"action\""))
  }

  @Test func afterQuittingTheTracePathIsOnTheNormalScreen() throws {
    let trace = NSTemporaryDirectory() + "kvscope-e2e-quit-\(getpid()).kvtrace"
    try? FileManager.default.removeItem(atPath: trace)
    defer { try? FileManager.default.removeItem(atPath: trace) }
    let session = try TmuxSession(
      command: Self.command("play scenarios/alloc-lesson.yaml --record '\(trace)'"), width: 120, height: 40)
    #expect(try session.waitFor("recording to"))
    try session.send("Right", "Right")
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
    #expect(try session.display("#{alternate_on}") == "0")
    // The line is on the restored screen, just above how kvscope ended.
    let screen = try session.screen()
    #expect(screen.contains("kvscope: trace written to \(trace) ("), "\(screen)")
    #expect(FileManager.default.fileExists(atPath: trace))
  }

  @Test func asciiFallbackWithoutUTF8Locale() throws {
    let session = try TmuxSession(
      command: Self.command("scenarios/walkthrough.yaml", environment: "LANG=C LC_ALL=C"), width: 120,
      height: 40)
    let screen = try #require(try session.waitFor(timeout: 10) { $0.contains("11111111") })
    #expect(screen.unicodeScalars.allSatisfy { $0.isASCII })
    try session.send("C-c")
    #expect(try session.waitFor("kvscope exited with 130"))
    #expect(try session.display("#{alternate_on}") == "0")
  }

  @Test func withoutATerminalItPointsToCheckAndFrame() throws {
    let output = try Harness.kvscope(["scenarios/walkthrough.yaml"])
    #expect(output.status == 2)
    #expect(output.stderr.contains("kvscope check"))
    #expect(output.stderr.contains("kvscope frame"))
    #expect(output.stdout.isEmpty)
  }
}
