import Foundation
import Testing

/// `kvscope check TRACE --import mooncake`: the trace runs as the scenario its import writes, without
/// the YAML in between.
struct DirectImportTests {
  static let trace = """
    {"timestamp": 0, "input_length": 600, "output_length": 20, "hash_ids": [1, 2]}
    {"timestamp": 40, "input_length": 700, "output_length": 30, "hash_ids": [1, 3]}
    {"timestamp": 130, "input_length": 100, "output_length": 10, "hash_ids": [4]}

    """

  @Test func runsAsItsImportedScenario() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "kvscope-direct-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let trace = directory.appendingPathComponent("trace.jsonl").path
    let scenario = directory.appendingPathComponent("trace.yaml").path
    try Self.trace.write(toFile: trace, atomically: true, encoding: .utf8)
    let options = ["--pages", "120", "--max-batch", "2", "--policy", "vllm-v1"]
    let imported = try Harness.kvscope(["import", "mooncake", trace, "-o", scenario] + options)
    #expect(imported.status == 0, "\(imported.stderr)")
    let viaYAML = try Harness.kvscope(["check", scenario, "--json"])
    let direct = try Harness.kvscope(["check", trace, "--import", "mooncake", "--json"] + options)
    #expect(direct.status == 0, "\(direct.stderr)")
    #expect(direct.stdout == viaYAML.stdout)

    let frame = try Harness.kvscope(["frame", trace, "--import", "mooncake", "--step", "5", "--pages", "120"])
    #expect(frame.status == 0 && frame.stdout.contains("step 5/"), "\(frame.stderr)")

    let stray = try Harness.kvscope(["check", scenario, "--limit", "2"])
    #expect(stray.status == 2 && stray.stderr.contains("need --import mooncake"))
    let bad = try Harness.kvscope(["check", scenario, "--import", "mooncake"])
    #expect(bad.status == 2 && bad.stderr.contains("trace.yaml:1"), "\(bad.stderr)")
  }
}
