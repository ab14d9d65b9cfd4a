import Foundation
import Testing

/// Drives `kvscope compare` in tmux: the runs side by side, a jump to a divergence, help, resize, quit.
@Suite(.serialized, .enabled(if: TmuxSession.available, "tmux is not installed"))
struct CompareLiveTests {
  static let arguments = "compare scenarios/vllm-v1-walkthrough.yaml --policy vllm-v1 --policy nano-vllm"

  @Test func jumpsToADivergenceAndQuitsCleanly() throws {
    let session = try TmuxSession(
      command: LiveViewTests.command(Self.arguments), width: 120, height: 40)
    #expect(try session.waitFor("divergence 1 of 4"))
    #expect(try session.waitFor("nano-vllm: admits A, B (0 hit pages)"))
    try session.send("n")
    #expect(try session.waitFor("divergence at iteration 10"))
    #expect(try session.waitFor("vllm-v1:   admits nothing after a preemption; preempts D"))
    // The runs stay on iteration 10 while the focused one steps alone.
    try session.send("Tab", "l")
    #expect(try session.waitFor("step 160/210"))
    #expect(try session.screen().contains("step 146/189"))

    try session.send("?")
    #expect(try session.waitFor("next/previous divergence"))
    try session.send("Escape")
    #expect(try session.waitFor(timeout: 5) { !$0.contains("next/previous divergence") } != nil)

    try session.tmux(["resize-window", "-t", session.name, "-x", "60", "-y", "15"])
    #expect(try session.waitFor("too small"))
    try session.tmux(["resize-window", "-t", session.name, "-x", "80", "-y", "24"])
    #expect(try session.waitFor("divergence at iteration 10"))

    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
    #expect(try session.display("#{alternate_on}") == "0")
    #expect(try session.display("#{cursor_flag}") == "1")
  }

  @Test func withoutATerminalItPrintsTheTable() throws {
    let output = try Harness.kvscope(Self.arguments.split(separator: " ").map(String.init))
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stdout.hasPrefix("compare: vLLM v1 walkthrough, 2 runs"))
  }
}
