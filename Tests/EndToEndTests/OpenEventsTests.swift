import Foundation
import Testing

/// `kvscope open events.jsonl`: the events view in tmux, its summary without a terminal, `--batch` as
/// text, and a bad line.
@Suite(.serialized)
struct OpenEventsTests {
  static let file = "Tests/KVScenarioTests/Corpus/events/vllm-v1-walkthrough.jsonl"

  @Test(.enabled(if: TmuxSession.available, "tmux is not installed"))
  func stepsOpensHelpAndQuitsCleanly() throws {
    let session = try TmuxSession(command: LiveViewTests.command("open \(Self.file)"), width: 120, height: 40)
    #expect(try session.waitFor("batch 1/8"))
    #expect(
      try session.waitFor("Events name blocks by hash only: no physical block ids, refcounts or request ids"))
    try session.send("l")
    #expect(try session.waitFor("batch 2/8"))
    try session.send("r")
    #expect(try session.waitFor("- removed 1 block (GPU)"))
    #expect(try session.screen().contains("batch 3/8"))
    try session.send("G")
    #expect(try session.waitFor("batch 8/8"))
    try session.send("?")
    #expect(try session.waitFor("next/previous batch that stores"))
    try session.send("Escape")
    #expect(try session.waitFor(timeout: 5) { !$0.contains("next/previous batch that stores") } != nil)
    try session.send("q")
    #expect(try session.waitFor("kvscope exited with 0"))
    #expect(try session.display("#{alternate_on}") == "0")
    #expect(try session.display("#{cursor_flag}") == "1")
  }

  @Test func withoutATerminalItPrintsASummary() throws {
    let output = try Harness.kvscope(["open", Self.file])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stdout.contains("batches:     8, ts 0 to 11"))
    #expect(output.stdout.contains("resident:    6 blocks at the end, peak 7 after batch 6"))
    #expect(output.stdout.contains("not in the events: physical block ids, refcounts, request ids"))
  }

  @Test("--batch N prints the view's golden frame")
  func batchAsText() throws {
    let output = try Harness.kvscope(["open", Self.file, "--batch", "6", "--size", "80x24"])
    #expect(output.status == 0, "\(output.stderr)")
    let golden = try String(
      contentsOfFile: Harness.root + "/Tests/KVViewTests/Golden/events-walkthrough-batch6-80x24.txt",
      encoding: .utf8)
    #expect(output.stdout == golden)
  }

  @Test("a bad line exits 2 naming its file, line and column")
  func badLine() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("kvscope-bad-\(UUID()).jsonl")
      .path
    defer { unlink(path) }
    try
      "{\"ts\": 0, \"events\": []}\n{\"ts\": 1, \"events\": [{\"type\": \"BlockStored\", \"block_hashes\": \"x\"}]}\n"
      .write(toFile: path, atomically: true, encoding: .utf8)
    let output = try Harness.kvscope(["open", path])
    #expect(output.status == 2)
    #expect(
      output.stderr == "kvscope: \(path):2:62: event 1: block_hashes: expected a list, got the string \"x\"\n"
    )
    let format = try Harness.kvscope(["open", Self.file, "--format", "nope"])
    #expect(
      format.status == 2 && format.stderr.contains("--format must be one of vllm, vllm-array, sglang, trtllm")
    )
  }
}

/// The README's example line of each format reads as that format.
struct OpenEventsReadmeTests {
  @Test func everyExampleLineReadsAsItsFormat() throws {
    let readme = try ReadmeTests.readme()
    let table = try #require(readme.range(of: "| `--format` | source | a line |"))
    let rows = readme[table.upperBound...].split(separator: "\n").dropFirst().prefix { $0.hasPrefix("| `") }
    #expect(rows.count == 4)
    for row in rows {
      let cells = row.components(separatedBy: " | ")
      let format = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "| `"))
      let line = cells[cells.count - 1].trimmingCharacters(in: CharacterSet(charactersIn: "| `"))
      let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "kvscope-readme-\(UUID()).jsonl"
      ).path
      defer { unlink(path) }
      try (line + "\n").write(toFile: path, atomically: true, encoding: .utf8)
      let detected = try Harness.kvscope(["open", path])
      let named = try Harness.kvscope(["open", path, "--format", format])
      #expect(detected.status == 0 && named.stdout == detected.stdout, "\(format): \(detected.stderr)")
    }
  }
}
