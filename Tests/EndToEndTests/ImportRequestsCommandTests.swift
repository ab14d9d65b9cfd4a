import Foundation
import Testing

/// `kvscope import requests`: a request log becomes a scenario that `check` runs.
struct ImportRequestsCommandTests {
  @Test func anAzureLogImportsAndRuns() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kvscope-log-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let log = directory.appendingPathComponent("azure.csv").path
    let scenario = directory.appendingPathComponent("azure.yaml").path
    try
      "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,396,109\n2023-11-16 18:15:51.2100000,879,abc\n"
      .write(toFile: log, atomically: true, encoding: .utf8)
    let bad = try Harness.kvscope(["import", "requests", log, "--pages", "100", "-o", scenario])
    #expect(bad.status == 2 && bad.stderr.contains("azure.csv:4:33: GeneratedTokens: expected a token count"))
    let output = try Harness.kvscope(
      [
        "import", "requests", log, "--pages", "100", "--iteration-ms", "1000", "--skip-bad", "--policy",
        "vllm-v1", "-o", scenario,
      ])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stderr.contains("skipped 1 bad row") && output.stderr.contains("imported 2 requests"))
    let check = try Harness.kvscope(["check", scenario])
    #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    #expect(check.stdout.contains("policy:      vllm-v1"))
  }
}
