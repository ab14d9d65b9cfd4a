import Foundation
import Testing

/// The live view's rough edges of issue 11, tried in tmux on the real binary as a new user would.
@Suite(.serialized, .enabled(if: TmuxSession.available, "tmux is not installed"))
struct ViewFixesLiveTests {
  /// At 80x24: `:frame 4` shares the mask's row, Esc clears it and the mask stays; the event log
  /// scrolls up into the past and a step brings the current event back; the current event wraps.
  @Test func selectionAndEventLogAt80x24() throws {
    let session = try TmuxSession(
      command: LiveViewTests.command("scenarios/walkthrough.yaml"), width: 80, height: 24)
    #expect(try session.waitFor("11111111"))
    try session.send(":", "goto 55", "Enter")
    #expect(try session.waitFor("3 pages for position 128)"))
    try session.send(":", "frame 4", "Enter")
    #expect(try session.waitFor("frame 4: A:2"))
    #expect(try session.screen().contains("free_mask = 11100000"))
    try session.send("Escape")
    #expect(try session.waitFor(timeout: 5) { !$0.contains("frame 4: A:2") } != nil)
    #expect(try session.screen().contains("free_mask = 11100000"))
    // Focus the event log (Tab through the panes) and scroll it back.
    for _ in 0..<4 { try session.send("Tab") }
    for _ in 0..<3 { try session.send("Up") }
    #expect(try session.waitFor("newer"))
    try session.send("Right")
    #expect(try session.waitFor("#56 "))
    #expect(try session.waitFor(timeout: 5) { !$0.contains("newer") } != nil)
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
  }

  /// A typed allocator operation joins the ops list; zooming in on a pool that shows whole keeps no
  /// pan hint.
  @Test func typedOperationsAndZoom() throws {
    let session = try TmuxSession(
      command: LiveViewTests.command("scenarios/alloc-lesson.yaml"), width: 120, height: 40)
    #expect(try session.waitFor("1111"))
    try session.send(":", "alloc", "Enter")
    #expect(try session.waitFor("alloc after step 0"))
    try session.send("z")
    try session.send("Z")
    #expect(try session.waitFor("the whole pool shows"))
    #expect(try !session.screen().contains("</> pan"))
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
  }
}
