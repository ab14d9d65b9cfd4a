import Foundation
import KVEngine
import Testing

@testable import KVScenario

/// Lines 1, 2, 3 and 138 of the Mooncake conversation trace: line 138 (48 s later) shares its first 14
/// blocks with line 2; every request starts with block 0.
private let sample = """
  {"timestamp": 0, "input_length": 6758, "output_length": 500, "hash_ids": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}
  {"timestamp": 0, "input_length": 7322, "output_length": 490, "hash_ids": [0, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27]}
  {"timestamp": 0, "input_length": 7236, "output_length": 794, "hash_ids": [0, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41]}

  {"timestamp": 48000, "input_length": 7833, "output_length": 374, "hash_ids": [0, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 3868, 3869]}

  """

private let tracePath = "/work/shared/traces/mooncake-conversation.jsonl"

private func parse(_ text: String) throws(ScenarioError) -> [MooncakeRecord] {
  try MooncakeImporter.parse(Data(text.utf8), file: "m.jsonl")
}

private func parseError(_ text: String) -> ScenarioError? {
  do {
    _ = try parse(text)
    return nil
  } catch {
    return error
  }
}

@Suite("Mooncake import")
struct MooncakeImportTests {
  @Test("a small slice gives the expected requests")
  func expectedRequests() throws {
    let records = try parse(sample)
    #expect(records.map(\.line) == [1, 2, 3, 5])
    var options = MooncakeImportOptions()
    options.iterationMs = 100
    let result = try MooncakeImporter.makeScenario(records, options: options, source: "m.jsonl")
    let scenario = result.scenario
    #expect(scenario.requests.map(\.id) == ["r1", "r2", "r3", "r5"])
    #expect(scenario.requests.map(\.arrive) == [0, 0, 0, 480])
    #expect(scenario.requests.map(\.output) == [500, 490, 794, 374])
    #expect(
      scenario.requests[1].prompt
        == .blocks(ids: [0] + Array(14...27), blockSize: 512, length: 7322))
    #expect(scenario.cache == CacheConfig(pages: 30_000, pageSize: 16))
    #expect(
      scenario.scheduler
        == SchedulerConfig(policy: .paged, maxBatch: 256, prefixCache: true, onOOM: .preempt, decode: .all))
    // Block 0 three more times, blocks 14-26 once more.
    #expect(result.distinctBlocks == 14 + 14 + 14 + 2)
    #expect(result.repeatedBlocks == 3 + 13)
  }

  @Test("equal hash ids give equal tokens and real prefix hits")
  func sharedPrefixes() throws {
    let result = try MooncakeImporter.makeScenario(
      try parse(sample), options: MooncakeImportOptions(), source: "m")
    let specs = result.scenario.requests
    // r2 and r5 share 14 blocks = 7168 tokens, then differ.
    #expect(specs[1].tokens(0..<7168) == specs[3].tokens(0..<7168))
    #expect(specs[1].tokens(7168..<7322) != specs[3].tokens(7168..<7322))
    // All share block 0 only with r1.
    #expect(specs[0].tokens(0..<512) == specs[2].tokens(0..<512))
    #expect(specs[0].tokens(512..<1024) != specs[2].tokens(512..<1024))

    var state = EngineState(scenario: result.scenario)
    var hits: [String: Int] = [:]
    while state.advance() {
      if case .lookup(let r, let found, _, _, true) = state.event.action {
        hits[state.requests[r].id] = found.count
      }
    }
    #expect(state.endReason == .allRequestsDone)
    // r5 arrives long after r2 finished; r2's 14 blocks of 32 pages are still cached.
    #expect(hits["r5"] == 14 * 512 / 16)
    #expect(state.stats.prefixHitPages == 14 * 32)
  }

  @Test("the YAML loads back to the same scenario")
  func yamlRoundTrip() throws {
    var options = MooncakeImportOptions()
    options.name = "yes"  // a name YAML would read as a boolean unless quoted
    let scenario = try MooncakeImporter.makeScenario(try parse(sample), options: options, source: "m")
      .scenario
    let text = ScenarioYAML.text(scenario, comments: ["generated", "", "by a test"])
    #expect(text.hasPrefix("# generated\n#\n# by a test\n"))
    #expect(try ScenarioLoader.parse(text, file: "m.yaml") == scenario)
    // One line per request.
    #expect(text.split(separator: "\n").filter { $0.hasPrefix("  - {id: r") }.count == 4)
  }

  @Test("--from, --to and --limit take a slice; arrivals start at the slice's first timestamp")
  func slicing() throws {
    let records = try parse(sample)
    var options = MooncakeImportOptions()
    options.from = 1
    var result = try MooncakeImporter.makeScenario(records, options: options, source: "m")
    #expect(result.scenario.requests.map(\.id) == ["r5"])
    #expect(result.scenario.requests[0].arrive == 0)
    options = MooncakeImportOptions()
    options.to = 48000
    options.limit = 2
    result = try MooncakeImporter.makeScenario(records, options: options, source: "m")
    #expect(result.scenario.requests.map(\.id) == ["r1", "r2"])
    options.from = 50000
    options.to = nil
    #expect(throws: ScenarioError.self) {
      try MooncakeImporter.makeScenario(records, options: options, source: "m")
    }
  }

  @Test("pools sized like vLLM from a memory budget and a model shape")
  func sizing() {
    let llama8 = KVCacheShape.presets.first { $0.name == "llama-3-8b" }!.shape
    // 2 x 32 layers x 8 heads x 128 x 2 bytes x 16 tokens = 2 MiB per page.
    #expect(llama8.bytesPerPage(pageSize: 16) == 2 << 20)
    #expect(llama8.pages(memoryBytes: 40 << 30, pageSize: 16) == 20_480)
    #expect(llama8.pages(memoryBytes: (40 << 30) - 1, pageSize: 16) == 20_479)
    #expect(KVCacheShape.parseBytes("40GiB") == 40 << 30)
    #expect(KVCacheShape.parseBytes("20 GB") == 20_000_000_000)
    #expect(KVCacheShape.parseBytes("1.5g") == 3 << 29)
    #expect(KVCacheShape.parseBytes("1024") == 1024)
    #expect(KVCacheShape.parseBytes("lots") == nil)
    #expect(KVCacheShape.parseBytes("-4GiB") == nil)
  }

  @Test("under an engine policy the prompt and output must fit; its keys replace the others")
  func enginePolicies() throws {
    var options = MooncakeImportOptions()
    options.policy = .vllmV1
    options.pages = 489  // 7824 tokens hold r2's 7322 + 490, but vLLM's null block leaves 488 usable blocks and r2 needs 489
    options.maxBatchedTokens = 4096
    let records = try parse(sample)
    do {
      _ = try MooncakeImporter.makeScenario(records, options: options, source: "m.jsonl")
      Issue.record("expected an error")
    } catch {
      #expect(error.line == 2 && error.key == "output_length")
      #expect(
        error.message.contains(
          "needs 489 pages for its 7322 prompt and 490 output tokens, more than the 488 usable pages under policy vllm-v1"
        ))
    }
    options.skipOversized = true
    let result = try MooncakeImporter.makeScenario(records, options: options, source: "m.jsonl")
    #expect(result.skipped == [2, 3, 5] && result.scenario.requests.map(\.id) == ["r1"])
    let config = result.scenario.scheduler
    #expect(config.policy == .vllmV1 && config.maxBatchedTokens == 4096 && config.prefixCache)
    options.policy = .nanoVLLM
    options.pageSize = 1
    #expect(throws: ScenarioError.self) {
      _ = try MooncakeImporter.makeScenario(records, options: options, source: "m.jsonl")
    }
    options.policy = .paged
    options.pageSize = 16
    #expect(throws: ScenarioError.self) {
      _ = try MooncakeImporter.makeScenario(records, options: options, source: "m.jsonl")
    }
  }

  @Test("a prompt and output longer than the pool fail naming the line, or are skipped")
  func oversized() throws {
    var options = MooncakeImportOptions()
    options.pages = 460  // 7360 tokens: only r1 (6758 + 500) fits; r2's prompt alone (7322) would
    let records = try parse(sample)
    do {
      _ = try MooncakeImporter.makeScenario(records, options: options, source: "m.jsonl")
      Issue.record("expected an error")
    } catch {
      #expect(error.line == 2)
      #expect(
        error.message.contains("a prompt of 7322 and an output of 490 tokens are longer than the whole pool"))
    }
    options.skipOversized = true
    let result = try MooncakeImporter.makeScenario(records, options: options, source: "m.jsonl")
    #expect(result.skipped == [2, 3, 5])
    #expect(result.scenario.requests.map(\.id) == ["r1"])
    #expect(throws: ScenarioError.self) {
      _ = try MooncakeImporter.makeScenario([], options: options, source: "m")
    }
  }

  @Test(
    "bad input names the line",
    arguments: [
      ("not json", 2, "", "not valid JSON"),
      ("[1, 2]", 2, "", "expected a JSON object"),
      (
        #"{"timestamp": 0, "output_length": 3, "hash_ids": []}"#, 2, "input_length",
        "required key `input_length` is missing"
      ),
      (
        #"{"timestamp": 0, "input_length": -5, "output_length": 3, "hash_ids": []}"#, 2, "input_length",
        "must be at least 0"
      ),
      (
        #"{"timestamp": 0, "input_length": 5, "output_length": -3, "hash_ids": [1]}"#, 2, "output_length",
        "must be at least 0"
      ),
      (
        #"{"timestamp": -1, "input_length": 5, "output_length": 3, "hash_ids": [1]}"#, 2, "timestamp",
        "must be at least 0"
      ),
      (
        #"{"timestamp": 0, "input_length": 1025, "output_length": 3, "hash_ids": [1, 2]}"#, 2, "hash_ids",
        "has 2 id(s) but input_length 1025 needs ceil(1025/512) = 3"
      ),
      (
        #"{"timestamp": 0, "input_length": 5, "output_length": 3, "hash_ids": [-1]}"#, 2, "hash_ids[0]",
        "must be at least 0"
      ),
      (
        #"{"timestamp": 0, "input_length": "5", "output_length": 3, "hash_ids": [1]}"#, 2, "input_length",
        "expected an integer"
      ),
      (
        #"{"timestamp": 0, "input_length": 5.5, "output_length": 3, "hash_ids": [1]}"#, 2, "input_length",
        "expected an integer"
      ),
      (#"{"timestamp": 0, "input_length": 5, "output_length": 3, "hash_ids": [1"#, 2, "", "not valid JSON"),
      (
        #"{"timestamp": true, "input_length": 5, "output_length": 3, "hash_ids": [1]}"#, 2, "timestamp",
        "expected a number"
      ),
      (#"{"timestamp": 0, "input_length": 5, "output_length": 3, "hash_ids": 7}"#, 2, "hash_ids", "expected"),
    ])
  func badInput(line: String, number: Int, key: String, fragment: String) throws {
    let text =
      #"{"timestamp": 0, "input_length": 5, "output_length": 3, "hash_ids": [1]}"# + "\n" + line + "\n"
    let error = try #require(parseError(text))
    #expect(error.file == "m.jsonl")
    #expect(error.line == number, "\(error)")
    #expect(error.key == key, "\(error)")
    #expect(error.message.contains(fragment), "\(error)")
  }

  @Test("the real trace: a slice imports, shares prefixes and loads")
  func realTraceSlice() throws {
    guard FileManager.default.fileExists(atPath: tracePath) else { return }
    var options = MooncakeImportOptions()
    options.limit = 200
    let result = try MooncakeImporter.makeScenario(
      try MooncakeImporter.read(path: tracePath), options: options, source: tracePath)
    let requests = result.scenario.requests
    #expect(requests.count == 200)
    #expect(requests.first?.id == "r1")
    #expect(requests.last?.id == "r200")
    // Line 138 shares its first 14 blocks with line 2.
    let r2 = try #require(requests.first { $0.id == "r2" })
    let r138 = try #require(requests.first { $0.id == "r138" })
    guard case .blocks(let a, _, _) = r2.prompt, case .blocks(let b, _, _) = r138.prompt else {
      Issue.record("expected block prompts")
      return
    }
    #expect(Array(a.prefix(14)) == Array(b.prefix(14)))
    #expect(r138.arrive == 48000 / 50)
    let text = ScenarioYAML.text(result.scenario)
    #expect(try ScenarioLoader.parse(text, file: "m.yaml") == result.scenario)
  }
}
