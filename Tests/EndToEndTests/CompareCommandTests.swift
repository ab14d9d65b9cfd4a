import Foundation
import Testing

/// `kvscope compare` without a terminal, and `check --policy`.
struct CompareCommandTests {
  static let walkthrough = "scenarios/vllm-v1-walkthrough.yaml"

  @Test func tableOfTwoPolicies() throws {
    let output = try Harness.kvscope([
      "compare", Self.walkthrough, "--policy", "vllm-v1", "--policy", "nano-vllm",
    ])
    #expect(output.status == 0, "\(output.stderr)")
    let lines = output.stdout.split(separator: "\n").map(String.init)
    #expect(lines.first == "compare: vLLM v1 walkthrough, 2 runs")
    #expect(lines.contains { $0.hasPrefix("preemptions") && $0.hasSuffix(" 1                0") })
    #expect(lines.contains("first divergence at iteration 0 (4 iterations differ):"))
    #expect(lines.contains("  vllm-v1: admits A, B (1 hit page)"))
    #expect(lines.contains("  nano-vllm: admits A, B (0 hit pages)"))
  }

  @Test func jsonCarriesCheckTotalsAndDivergences() throws {
    let output = try Harness.kvscope(
      ["compare", Self.walkthrough, "--policy", "vllm-v1", "--policy", "nano-vllm", "--json"])
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
    let runs = try #require(json["runs"] as? [[String: Any]])
    #expect(runs.map { $0["policy"] as? String } == ["vllm-v1", "nano-vllm"])
    let check = try Harness.kvscope(["check", "--json", Self.walkthrough])
    let checkJSON = try #require(
      try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
    for key in [
      "iterations", "prefix_hit_rate", "prefix_hit_tokens", "preemptions", "tokens_recomputed",
      "peak_frames_in_use", "mean_frames_in_use",
    ] {
      #expect(checkJSON[key] != nil, "check --json lacks \(key)")
      #expect("\(runs[0][key] ?? "nil")" == "\(checkJSON[key] ?? "nil")", "\(key)")
    }
    let admission = try #require(runs[1]["admission"] as? [String: Int])
    #expect(admission["count"] == 6)
    let divergences = try #require(json["divergences"] as? [[String: Any]])
    #expect(divergences.first?["iteration"] as? Int == 0)
    #expect(json["divergence_count"] as? Int == divergences.count)
  }

  @Test func checkUnderAnotherPolicy() throws {
    let output = try Harness.kvscope(["check", "--json", Self.walkthrough, "--policy", "nano-vllm"])
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
    #expect(json["policy"] as? String == "nano-vllm")
    let refused = try Harness.kvscope(["check", "scenarios/prefix-sharing.yaml", "--policy", "vllm-v1"])
    #expect(refused.status == 2)
    #expect(refused.stderr.contains("under --policy vllm-v1: request `D` needs 10 pages"))
  }

  @Test func badInputIsNamed() throws {
    let unknown = try Harness.kvscope(["compare", Self.walkthrough, "--policy", "vllm", "--policy", "paged"])
    #expect(unknown.status == 2 && unknown.stderr.contains("--policy must be one of"))
    let one = try Harness.kvscope(["compare", Self.walkthrough])
    #expect(one.status == 2 && one.stderr.contains("compare needs at least two runs"))
    let different = try Harness.kvscope([
      "compare", "scenarios/walkthrough.yaml", "scenarios/prefix-sharing.yaml",
    ])
    #expect(different.status == 2)
    #expect(different.stderr.contains("do not run the same requests: request `A` differs: output 60 and 2"))
  }

  @Test func aRunThatCannotRunDoesNotHideTheOthers() throws {
    let output = try Harness.kvscope(
      [
        "compare", "scenarios/prefix-sharing.yaml", "--policy", "paged", "--policy", "vllm-v1", "--policy",
        "nano-vllm",
      ])
    #expect(output.status == 1)
    #expect(
      output.stdout.contains("vllm-v1 did not run: scenarios/prefix-sharing.yaml: request `D` needs 10 pages")
    )
    #expect(output.stdout.contains("first divergence at iteration 2"))
    #expect(output.stdout.contains("  paged: admits C (2 hit pages)"))
  }

  @Test func aStalledRunIsReportedBesideTheOthers() throws {
    // The seed's empty prompt deadlocks the queue; paged runs the same requests to the end.
    let output = try Harness.kvscope(
      ["compare", "scenarios/seed-empty-prompt.yaml", "--policy", "astrai-seed", "--policy", "paged"])
    #expect(output.status == 1)
    let end = output.stdout.split(separator: "\n").first { $0.hasPrefix("end") }.map(String.init) ?? ""
    #expect(end.contains("stalled") && end.hasSuffix("done"))
    #expect(output.stdout.contains("astrai-seed: step"))
  }
}
