import Foundation
import KVEngine
import Testing

/// The live view under what a user (or a cat on the keyboard) can type: a command longer than the
/// screen, and 10,000 random keys with resizes. It stays alive, quits with status 0 and restores the
/// terminal.
@Suite(.serialized, .enabled(if: TmuxSession.available, "tmux is not installed"))
struct LiveRobustnessTests {
  /// A shell command that runs kvscope in `directory` (where `r` may write traces) and then reports how
  /// it ended.
  static func command(_ arguments: String, in directory: String) -> String {
    "cd '\(directory)' && env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color '\(Harness.binary)' \(arguments); echo \"kvscope exited with $?\"; sleep 60"
  }

  static func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "kvscope-e2e-keys-\(getpid())-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  @Test func aCommandLongerThanTheScreenRunsWhole() throws {
    let session = try TmuxSession(
      command: LiveViewTests.command("scenarios/walkthrough.yaml"), width: 120, height: 40)
    #expect(try session.waitFor("11111111"))
    let command = "add Z " + (1...150).map(String.init).joined(separator: ",") + " 3"
    try session.send(":", command)
    // The end being typed is visible, after a marker for the hidden start.
    #expect(try session.waitFor(":…"))
    #expect(try session.waitFor("148,149,150 3█"))
    try session.send("Enter")
    #expect(try session.waitFor("add Z: prompt 150, output 3"))
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
  }

  /// tmux sends Home and End as `ESC [1~` and `ESC [4~`, which the xterm entry of TERM does not list:
  /// they are keys all the same, never an Esc followed by `[` (a move back) and characters.
  @Test func homeAndEndWorkWhicheverSequenceTheTerminalSends() throws {
    let session = try TmuxSession(
      command: LiveViewTests.command("scenarios/walkthrough.yaml"), width: 120, height: 40)
    #expect(try session.waitFor("step 0/582"))
    try session.send("End")
    #expect(try session.waitFor("step 582/582"))
    try session.send("Home")
    #expect(try session.waitFor("step 0/582"))
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
  }

  /// One random key (or a `:` command with its Enter), as tmux send-keys arguments. Never `q` or
  /// Ctrl-C: the test quits itself.
  static func randomKeys(_ random: inout SplitMix64) -> [String] {
    let letters = Array("abcdefghijklmnoprstuvwxyzABCDEFGHIJKLMNOPRSTUVWXYZ").map(String.init)
    let digits = (0...9).map(String.init)
    let named = [
      "Left", "Right", "Up", "Down", "PPage", "NPage", "Home", "End", "Escape", "Tab", "BTab", "?", "Space",
      "[", "]", "{", "}", "+", "-", "<", ">", "#", "C-l", "F1", "BSpace",
    ]
    let commands = [
      "goto \(Int.random(in: -5...5_000, using: &random))", "iter \(Int.random(in: 0...200, using: &random))",
      "add K\(Int.random(in: 0...99, using: &random)) \(Int.random(in: 0...300, using: &random)) \(Int.random(in: 0...40, using: &random))",
      "abort \(["A", "B", "K1", "nobody"].randomElement(using: &random)!)", "find A",
      "frame \(Int.random(in: -1...20, using: &random))", "zoom \(Int.random(in: 0...9, using: &random))",
      "alloc", "free 3", "alloc_n 99999999999999999999", "add", "", "goto banana", "%%%% ???",
    ]
    switch Int.random(in: 0..<100, using: &random) {
    case 0..<40: return [letters.randomElement(using: &random)!]
    case 40..<50: return [digits.randomElement(using: &random)!]
    case 50..<95: return [named.randomElement(using: &random)!]
    default: return [":", commands.randomElement(using: &random)!, "Enter"]
    }
  }

  /// Brings the view to a known state (no overlay, no command line, paused at the start or the end)
  /// and waits until it shows a message only this call asks for: every key sent before has been read,
  /// and the view still draws. A resize that reaches the view after the command clears its message, so
  /// the command is given up to three times.
  static func sync(_ n: Int, _ session: TmuxSession) throws -> Bool {
    for _ in 0..<3 {
      try session.send("Escape")
      usleep(50_000)
      try session.send("Escape")
      usleep(50_000)
      try session.send(n % 2 == 0 ? "Home" : "End", ":", "find SYNC\(n)", "Enter")
      if try session.waitFor(timeout: 10, { $0.contains("find SYNC\(n):") }) != nil { return true }
    }
    return false
  }

  @Test func tenThousandRandomKeysWithResizes() throws {
    let directory = try Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let scenario = Harness.root + "/scenarios/walkthrough.yaml"
    let session = try TmuxSession(
      command: Self.command("'\(scenario)'", in: directory), width: 120, height: 40)
    #expect(try session.waitFor("11111111"))
    var random = SplitMix64(state: 14)
    // A resize every 2,000 keys; the third size is too small for the panels (the keys still count).
    let sizes = [(80, 24), (200, 60), (60, 15), (100, 30), (120, 40)]
    var size = (width: 120, height: 40)
    var batch: [String] = []
    for sent in 1...10_000 {
      batch += Self.randomKeys(&random)
      if sent % 2_000 == 0 {
        size = sizes[(sent / 2_000 - 1) % sizes.count]
        try session.tmux(["resize-window", "-t", session.name, "-x", "\(size.width)", "-y", "\(size.height)"])
        // tmux passes a resize on a moment later: wait until the view has drawn at the new size, so
        // that its resize does not come after the keys below.
        let drawn = try session.waitFor(timeout: 20) { screen in
          size.width < 80
            ? screen.contains("too small")
            : screen.split(separator: "\n").contains { $0.count == size.width && $0.hasSuffix("┘") }
        }
        #expect(drawn != nil, "the view did not redraw at \(size.width)x\(size.height)")
      }
      guard sent % 100 == 0 else { continue }
      try session.tmux(["send-keys", "-t", session.name] + batch)
      batch = []
      if size.width >= 80 {
        let synced = try Self.sync(sent / 100, session)
        let screen = synced ? "" : try session.screen()
        #expect(synced, "the view stopped answering after \(sent) keys:\n\(screen)")
        if !synced { return }
      }
    }
    try session.tmux(["resize-window", "-t", session.name, "-x", "120", "-y", "40"])

    // Alive: the view answers Home and End with their screens, then quits cleanly.
    #expect(try Self.sync(0, session))
    #expect(try session.screen().contains("step 0/"))
    #expect(try Self.sync(1, session))
    let end = try session.screen()
    #expect(!end.contains("step 0/"), "\(end)")
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0", timeout: 30))
    #expect(try session.display("#{alternate_on}") == "0")
    #expect(try session.display("#{cursor_flag}") == "1")
  }
}
