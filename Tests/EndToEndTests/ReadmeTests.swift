import Foundation
import Testing

/// The README's screens are what the code draws.
struct ReadmeTests {
  static func readme() throws -> String {
    try String(contentsOfFile: Harness.root + "/README.md", encoding: .utf8)
  }

  /// The first ```text block after `marker`.
  static func block(after marker: String, in text: String) -> String? {
    guard let start = text.range(of: marker),
      let open = text.range(of: "```text\n", range: start.upperBound..<text.endIndex),
      let close = text.range(of: "\n```", range: open.upperBound..<text.endIndex)
    else { return nil }
    return String(text[open.upperBound..<close.lowerBound])
  }

  @Test func liveViewScreenshot() throws {
    let readme = try Self.readme()
    let shown = try #require(
      Self.block(
        after: "`kvscope frame scenarios/walkthrough.yaml --step 55 --size 120x40` prints", in: readme))
    let output = try Harness.kvscope([
      "frame", "scenarios/walkthrough.yaml", "--step", "55", "--size", "120x40",
    ])
    let drawn = output.stdout.split(separator: "\n", omittingEmptySubsequences: false)
      .map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }
      .joined(separator: "\n").trimmingCharacters(in: .newlines)
    #expect(shown == drawn)
  }

  @Test func compareViewScreenshot() throws {
    let readme = try Self.readme()
    let shown = try #require(Self.block(after: "nano-vllm` after one `n`:", in: readme))
    let golden = try String(
      contentsOfFile: Harness.root + "/Tests/KVViewTests/Golden/compare-next-120x40.txt", encoding: .utf8)
    #expect(shown == golden.trimmingCharacters(in: .newlines))
  }
}
