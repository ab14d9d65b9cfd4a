import Foundation
import Testing

/// The walkthrough's notes and the jump keys in the real binary, in tmux.
@Suite(.serialized, .enabled(if: TmuxSession.available, "tmux is not installed"))
struct NarrationLiveTests {
  @Test func walkthroughNotesAndJumps() throws {
    let session = try TmuxSession(
      command: LiveViewTests.command("scenarios/walkthrough.yaml"), width: 120, height: 40)
    #expect(try session.waitFor("note 1/15 PagedCache: 8 page frames of 64 KV slots each."))
    try session.send(":", "next preempt", "Enter")
    #expect(try session.waitFor("no preemption in this run"))
    try session.send(":", "next admit", "Enter")
    #expect(try session.waitFor("admission at step 5 "))
    #expect(try session.waitFor("note 5/15 A's page table is [0, 1]."))
    // Three presses of the mask-change key: B's two frames, then A's growth.
    for _ in 0..<3 {
      let before = try session.screen()
      try session.send("m")
      _ = try session.waitFor(timeout: 5) { $0 != before }
    }
    #expect(try session.waitFor("step 55/582"))
    #expect(try session.waitFor("note 10/15 alloc() hands out frame 4."))
    #expect(try session.screen().contains("free_mask = 11100000"))
    try session.send("M")
    #expect(try session.waitFor("change of the free frames at step 13 "))
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
  }

  @Test func nextPreemptLandsOnThePreemption() throws {
    let session = try TmuxSession(
      command: LiveViewTests.command("scenarios/oom-preempt.yaml"), width: 80, height: 24)
    #expect(try session.waitFor("note 1/11 Five frames of 4 tokens."))
    try session.send(":", "next preempt", "Enter")
    #expect(try session.waitFor("preemption at step 34 "))
    #expect(try session.waitFor("B, the last running request, is preempted"))
    try session.send("e")
    #expect(try session.waitFor("no preemption after step 34"))
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
  }
}
