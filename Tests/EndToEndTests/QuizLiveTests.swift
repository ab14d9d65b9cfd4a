import Foundation
import Testing

/// Quiz mode in the real binary, in tmux: questions, a malformed answer, right, wrong and skipped
/// answers, the score on screen and on standard output after a clean quit.
@Suite(.serialized, .enabled(if: TmuxSession.available, "tmux is not installed"))
struct QuizLiveTests {
  /// Types `answer` and presses Enter.
  func answer(_ answer: String, in session: TmuxSession) throws {
    try session.send("-l", answer)
    try session.send("Enter")
  }

  func expectCleanQuit(_ session: TmuxSession, score: String) throws {
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
    #expect(try session.screen().contains(score))
    #expect(try session.display("#{alternate_on}") == "0")
    #expect(try session.display("#{cursor_flag}") == "1")
  }

  @Test func allocLessonWithQuizFlag() throws {
    let session = try TmuxSession(
      command: LiveViewTests.command("play scenarios/alloc-lesson.yaml --quiz"), width: 120, height: 40)
    #expect(try session.waitFor("Q1  alloc(): which frame does it return?"))
    // The answer is hidden: the mask is shown, its lowest free frame is not.
    #expect(try session.screen().contains("lowest free ?"))
    try answer("x", in: session)
    #expect(try session.waitFor("'x' is not a frame: type a whole number from -1 to 3"))
    try session.send("BSpace")
    try answer("0", in: session)
    #expect(try session.waitFor("right: 0"))
    #expect(
      try session.waitFor("alloc() returns the lowest free frame: mask 1111 -> lowest set bit is frame 0"))
    #expect(try session.screen().contains("quiz 1/1"))

    try session.send("Right")
    #expect(try session.waitFor("Q2  alloc(): which frame does it return?"))
    try answer("0", in: session)
    #expect(try session.waitFor("wrong: you said 0, it is 1"))
    #expect(try session.waitFor("quiz 1/2"))

    try session.send("Right")
    #expect(try session.waitFor("Q3  free(0): what is free_mask after it?"))
    try answer("1101", in: session)
    #expect(try session.waitFor("free(0): refs 1 -> 0, bit 0 is set again: mask 1100 -> 1101"))

    try session.send("Right")
    #expect(try session.waitFor("Q4  alloc_n(2) call 1 of 2"))
    try session.send("Escape")
    #expect(try session.waitFor("skipped: it is 0"))
    try expectCleanQuit(session, score: "quiz: 2 of 4 right, 1 wrong, 1 skipped")
  }

  @Test func walkthroughWithTheQuizKey() throws {
    let session = try TmuxSession(
      command: LiveViewTests.command("scenarios/walkthrough.yaml"), width: 120, height: 40)
    #expect(try session.waitFor("11111111"))
    try session.send("Q")
    #expect(try session.waitFor("Q1  alloc() for A (admission: page 1 of 2): which frame does it return?"))
    try answer("0", in: session)
    #expect(try session.waitFor("right: 0"))
    // Skip B's and A's second admission pages.
    for question in 2...4 {
      try session.send("Right")
      #expect(try session.waitFor("Q\(question)  "))
      try session.send("Escape")
      #expect(try session.waitFor("skipped: it is"))
    }
    try session.send("Right")
    #expect(
      try session.waitFor("Q5  alloc() for A (grow to 3 pages for position 128): which frame does it return?")
    )
    try answer("4", in: session)
    #expect(try session.waitFor("lowest set bit is frame 4"))
    #expect(try session.screen().contains("11100000"))
    try session.send("Right")
    #expect(try session.waitFor("Q6  free(0) for A (finished): what is free_mask after it?"))
    try answer("1110", in: session)
    #expect(try session.waitFor("'1110' has 4 bits; the mask has 8, frame 7 first"))
    for _ in 0..<4 { try session.send("BSpace") }
    try answer("11100001", in: session)
    #expect(try session.waitFor("right: 11100001"))
    try session.send("Right")
    #expect(try session.waitFor("Q7  free(1) for A (finished)"))
    try answer("11100000", in: session)
    #expect(try session.waitFor("wrong: you said 11100000, it is 11100011"))
    #expect(try session.waitFor("quiz 3/7"))
    // Q turns quiz mode off: the score stays, → steps again.
    try session.send("Q")
    #expect(try session.waitFor("quiz off: 3 of 7 right, 1 wrong, 3 skipped"))
    try expectCleanQuit(session, score: "quiz: 3 of 7 right, 1 wrong, 3 skipped")
  }
}
