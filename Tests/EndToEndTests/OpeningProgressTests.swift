import Foundation
import Testing

/// Opening a scenario whose run takes seconds to build: the terminal is in its mode at once, a progress
/// line says how far the build is and that `q` quits, and `q` quits at once with status 0.
@Suite(.serialized, .enabled(if: TmuxSession.available, "tmux is not installed"))
struct OpeningProgressTests {
  /// A `paged` scenario of `requests` long requests: about 43 steps per output token of each.
  static func longScenario(requests: Int, output: Int) throws -> String {
    let path = NSTemporaryDirectory() + "kvscope-e2e-long-\(getpid())-\(requests)x\(output).yaml"
    let lines = (0..<requests).map { "  - {id: r\($0), arrive: \($0), prompt: 100, output: \(output)}" }
    try
      ("name: long run\ncache: {pages: 4000, page_size: 16}\nscheduler: {policy: paged, max_batch: 64}\n"
      + "requests:\n" + lines.joined(separator: "\n") + "\n")
      .write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func progressIsShownWhileTheRunIsBuiltAndQQuitsAtOnce() throws {
    // Tens of millions of steps: minutes to build, so the build is still under way when q comes.
    let path = try Self.longScenario(requests: 50, output: 200_000)
    defer { unlink(path) }
    let session = try TmuxSession(command: LiveViewTests.command("'\(path)'"), width: 100, height: 30)
    let first = try #require(try session.waitFor(timeout: 30) { $0.contains("building the run") })
    #expect(first.contains("q quits"))
    // Keys typed meanwhile are read, not echoed as escape sequences.
    try session.send("NPage", "End", "x")
    let later = try #require(
      try session.waitFor(timeout: 30) { $0 != first && $0.contains("building the run") })
    #expect(!later.contains("^["), "\(later)")
    #expect(!later.contains("~x"), "\(later)")
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0", timeout: 5))
    #expect(try session.display("#{alternate_on}") == "0")
    #expect(try session.display("#{cursor_flag}") == "1")
  }

  @Test func theViewOpensOnceTheRunIsBuilt() throws {
    let path = try Self.longScenario(requests: 20, output: 10_000)
    defer { unlink(path) }
    let session = try TmuxSession(command: LiveViewTests.command("'\(path)'"), width: 120, height: 40)
    try session.send("PPage")
    #expect(try session.waitFor("long run", timeout: 60))
    #expect(try session.waitFor("step 0/", timeout: 60))
    #expect(!(try session.screen().contains("^[")))
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
    #expect(try session.display("#{alternate_on}") == "0")
  }

  @Test func aBadFileIsReportedOnTheNormalScreen() throws {
    let path = NSTemporaryDirectory() + "kvscope-e2e-bad-\(getpid()).yaml"
    try "cache: {pages: 8, page_size: 16}\nrequests: [{id: A, prompt: x, output: 2}]\n".write(
      toFile: path, atomically: true, encoding: .utf8)
    defer { unlink(path) }
    let session = try TmuxSession(command: LiveViewTests.command("'\(path)'"), width: 120, height: 40)
    #expect(try session.waitFor("kvscope exited with 2"))
    #expect(try session.display("#{alternate_on}") == "0")
    #expect(try session.screen().contains("\(path):2:"))
  }
}
