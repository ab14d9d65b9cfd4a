import Foundation
import Testing

/// `kvscope check` on every shipped scenario gives exactly the expected findings.
struct CheckCommandTests {
  static let expected: [String: [String]] = [
    "walkthrough": [],
    "alloc-lesson": [],
    "prefix-sharing": [],
    "oom-preempt": [],
    "oom-abort": [],
    "oom-wait": [],
    "seed-lost-task": ["lost-task"],
    "seed-out-of-bounds": ["out-of-bounds-write"],
    "seed-ignored-growth": ["ignored-growth-failure", "out-of-bounds-write"],
    "seed-empty-prompt": ["empty-prompt-deadlock"],
    "seed-negative-refcount": ["negative-refcount"],
    "vllm-v1-walkthrough": [],
    "nano-vllm-walkthrough": [],
  ]

  @Test func everyShippedScenarioIsListed() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: Harness.root + "/scenarios")
      .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }
    #expect(Set(files) == Set(Self.expected.keys))
  }

  @Test(arguments: expected.keys.sorted())
  func findingsOf(_ name: String) throws {
    let output = try Harness.kvscope(["check", "--json", "scenarios/\(name).yaml"])
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any], "\(output.stderr)")
    let findings = try #require(json["findings"] as? [[String: Any]])
    #expect(findings.compactMap { $0["kind"] as? String } == Self.expected[name])
    #expect(output.status == (Self.expected[name]!.isEmpty ? 0 : 1))
    let final = try #require(json["final"] as? [String: Any])
    #expect(final["free_mask"] is String)
  }

  /// A stall says why, as soon as it is certain, naming a few requests at most.
  @Test func deadlocksNameTheirCause() throws {
    func findings(_ yaml: String) throws -> String {
      let output = try Harness.kvscope(["check", try Harness.temporaryFile(yaml)])
      #expect(output.status == 1)
      return output.stdout
    }
    let pool = "cache: {pages: 8, page_size: 4}\n"
    let cycle = try findings(
      pool + "scheduler: {policy: paged, on_oom: wait}\n"
        + "requests: [{id: r0, prompt: 20, output: 8}, {id: r3, prompt: 4, output: 8}]\n")
    #expect(
      cycle.contains(
        "deadlock: r0 waits for a page held by r3, r3 waits for a page held by r0 (on_oom: wait): they hold all 8 frames (r0 6, r3 2)"
      ), "\(cycle)")
    let tooLong = try findings(
      pool + "scheduler: {policy: paged}\nrequests: [{id: r669, prompt: 20, output: 20}]\n")
    #expect(
      tooLong.contains(
        "step 1: deadlock: r669 needs 10 pages for prompt + output (20 + 20 tokens); the pool has 8: it can never finish"
      ), "\(tooLong)")
    let many = (0..<9).map { "{id: q\($0), prompt: 4, output: 8}" }.joined(separator: ", ")
    let crowd = try findings(pool + "scheduler: {policy: paged, on_oom: wait}\nrequests: [\(many)]\n")
    #expect(
      crowd.contains("deadlock: q0, q1, q2, q3 and 4 more each wait for a page another holds"), "\(crowd)")
  }

  @Test func walkthroughStatesCarryTheAnimationMasks() throws {
    let output = try Harness.kvscope(["check", "--states", "scenarios/walkthrough.yaml"])
    #expect(output.status == 0)
    let lines = output.stdout.split(separator: "\n")
    var masks: [String] = []
    for line in lines {
      let state = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      let mask = try #require(state["free_mask"] as? String)
      if masks.last != mask { masks.append(mask) }
    }
    let wanted = ["11111111", "11111100", "11110000", "11100000", "11110011"]
    var index = 0
    for mask in masks where index < wanted.count && mask == wanted[index] { index += 1 }
    #expect(index == wanted.count, "masks in order: \(masks)")
    let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    #expect(first["step"] as? Int == 0)
  }

  @Test func allocatorOpsCarryTheirResults() throws {
    let output = try Harness.kvscope(["check", "--states", "scenarios/alloc-lesson.yaml"])
    let states = try output.stdout.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    let events = states.compactMap { $0["event"] as? [String: Any] }
    let allocs = events.filter { $0["kind"] as? String == "alloc" }.compactMap { $0["result"] as? Int }
    #expect(allocs.prefix(2) == [0, 1])
    #expect(events.contains { $0["kind"] as? String == "alloc_n" && ($0["result"] as? [Int]) == [0, 2] })
  }

  @Test func badScenarioExitsWithStatus2AndNamesThePlace() throws {
    let path = NSTemporaryDirectory() + "kvscope-bad-\(getpid()).yaml"
    try "cache: {pages: 1000000000000, page_size: 64}\nops: [alloc]\n".write(
      toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let output = try Harness.kvscope(["check", path])
    #expect(output.status == 2)
    #expect(output.stderr.contains(path))
    #expect(output.stderr.contains("1:"))
    #expect(output.stderr.contains("cache.pages"))
    let missing = try Harness.kvscope(["check", "/nonexistent/scenario.yaml"])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("/nonexistent/scenario.yaml"))
  }
}
