import Foundation
import KVEngine
import Testing

@testable import KVScenario

// MARK: - Helpers

/// The error `yaml` fails with, or `nil` when it parses.
func failure(_ yaml: String, file: String = "t.yaml") -> ScenarioError? {
  do {
    _ = try ScenarioLoader.parse(yaml, file: file)
    return nil
  } catch {
    return error
  }
}

/// Expects `yaml` to fail at `line`:`column` on `key` with a message containing `fragment`.
func expectError(
  _ yaml: String, line: Int, column: Int, key: String, _ fragment: String,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  guard let error = failure(yaml) else {
    Issue.record(
      "expected an error containing \"\(fragment)\", but it parsed", sourceLocation: sourceLocation)
    return
  }
  #expect(error.file == "t.yaml", sourceLocation: sourceLocation)
  #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
  #expect(error.column == column, "\(error)", sourceLocation: sourceLocation)
  #expect(error.key == key, "\(error)", sourceLocation: sourceLocation)
  #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
}

private func parsed(
  _ yaml: String, file: String = "t.yaml", sourceLocation: SourceLocation = #_sourceLocation
)
  -> Scenario?
{
  do {
    return try ScenarioLoader.parse(yaml, file: file)
  } catch {
    Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

/// A valid scheduler scenario header; requests follow.
private let head = """
  cache: {pages: 8, page_size: 64}
  requests:

  """

// MARK: - Whole scenarios

@Test func walkthroughParsesToTheExpectedScenario() throws {
  let yaml = """
    name: Paged KV cache walkthrough          # a comment
    description: free text
    cache: {pages: 8, page_size: 64}
    scheduler: {policy: astrai-seed, max_batch: 8, decode: largest-group}
    max_iterations: 100000
    requests:
      - {id: A, arrive: 0, prompt: 120, output: 60}
      - {id: B, arrive: 1, prompt: [5, 9, 9, 2], output: 3}
      - {id: C, prompt: {blocks: [0, 7, 9], block_size: 100, length: 300}, output: 5}
    events:
      - {at: 4, abort: A}
    """
  let scenario = try ScenarioLoader.parse(yaml, file: "scenarios/walk.yaml")
  let expected = Scenario(
    name: "Paged KV cache walkthrough", description: "free text",
    cache: CacheConfig(pages: 8, pageSize: 64),
    scheduler: SchedulerConfig(policy: .astraiSeed, maxBatch: 8, decode: .largestGroup),
    requests: [
      RequestSpec(id: "A", arrive: 0, prompt: .length(120), output: 60),
      RequestSpec(id: "B", arrive: 1, prompt: .tokens([5, 9, 9, 2]), output: 3),
      RequestSpec(
        id: "C", arrive: 0, prompt: .blocks(ids: [0, 7, 9], blockSize: 100, length: 300), output: 5),
    ],
    events: [ScenarioEvent(at: 4, action: .abort("A"))],
    ops: nil, maxIterations: 100_000)
  #expect(scenario == expected)
  #expect(!scenario.isAllocatorOnly)
}

@Test func pagedSchedulerWithAllKeys() throws {
  let scenario = try #require(
    parsed(
      """
      cache: {pages: 4000000, page_size: 65536}
      scheduler:
        policy: paged
        max_batch: 100000
        prefix_cache: true
        on_oom: wait
        decode: all
      requests: []
      """))
  #expect(
    scenario.scheduler
      == SchedulerConfig(policy: .paged, maxBatch: 100_000, prefixCache: true, onOOM: .wait, decode: .all))
  #expect(scenario.cache == CacheConfig(pages: Scenario.maxPages, pageSize: Scenario.maxPageSize))
}

@Test func defaults() throws {
  let scenario = try #require(
    parsed(head + "  - {id: A, prompt: 1, output: 1}", file: "dir/sub.dir/basic.yaml"))
  #expect(scenario.name == "basic")
  #expect(scenario.description == "")
  #expect(scenario.scheduler == SchedulerConfig())
  #expect(scenario.scheduler.decode == .largestGroup)
  #expect(scenario.maxIterations == Scenario.defaultMaxIterations)
  #expect(scenario.events.isEmpty)
  #expect(scenario.requests == [RequestSpec(id: "A", arrive: 0, prompt: .length(1), output: 1)])
  #expect(parsed(head + "  - {id: A, prompt: 1, output: 1}", file: "")?.name == "untitled")
  #expect(parsed(head + "  - {id: A, prompt: 1, output: 1}", file: ".hidden")?.name == ".hidden")
}

@Test func decodeDefaultsDependOnPolicy() throws {
  let paged = try #require(
    parsed("cache: {pages: 1, page_size: 1}\nscheduler: {policy: paged}\nrequests: []"))
  #expect(paged.scheduler.decode == .all)
  #expect(paged.scheduler.onOOM == .preempt)
  #expect(paged.scheduler.prefixCache == false)
  let seedAll = try #require(
    parsed("cache: {pages: 1, page_size: 1}\nscheduler: {decode: all}\nrequests: []"))
  #expect(seedAll.scheduler == SchedulerConfig(policy: .astraiSeed, decode: .all))
}

@Test func opsScenarioParses() throws {
  let scenario = try #require(
    parsed(
      """
      cache: {pages: 4, page_size: 16}
      ops: [alloc, alloc, {free: 0}, {alloc_n: 2}, {inc_ref: 1}, {free: 1}, {free: 99}]
      """))
  #expect(scenario.ops == [.alloc, .alloc, .free(0), .allocN(2), .incRef(1), .free(1), .free(99)])
  #expect(scenario.isAllocatorOnly)
  #expect(scenario.requests.isEmpty)
  #expect(scenario.scheduler == SchedulerConfig())
}

@Test func opsScenarioMayChooseThePolicy() throws {
  let scenario = try #require(
    parsed("cache: {pages: 4, page_size: 16}\nscheduler: {policy: paged}\nops: [alloc]"))
  #expect(scenario.scheduler.policy == .paged)
}

// MARK: - Error value

@Test func errorDescriptionLeavesOutUnknownParts() {
  #expect(
    ScenarioError(file: "scenarios/x.yaml", line: 3, column: 10, key: "cache.pages", message: "m").description
      == "scenarios/x.yaml:3:10: cache.pages: m")
  #expect(ScenarioError(file: "x.yaml", line: 3, key: "k", message: "m").description == "x.yaml:3: k: m")
  #expect(ScenarioError(file: "x.yaml", message: "empty scenario").description == "x.yaml: empty scenario")
  #expect(ScenarioError(file: "", line: 2, column: 1, message: "m").description == "2:1: m")
  #expect(ScenarioError(file: "", message: "m").description == "m")
}

@Test func fullDescriptionOfARangeError() throws {
  let error = try #require(
    failure("cache: {pages: 1000000000000, page_size: 64}\nops: []", file: "scenarios/x.yaml"))
  #expect(
    error.description
      == "scenarios/x.yaml:1:16: cache.pages: must be between 1 and 4000000, got 1000000000000")
}

// MARK: - Files

@Test func loadReadsAFile() throws {
  let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kvscope-loader-\(getpid())")
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: directory) }
  let path = directory.appendingPathComponent("tiny.yaml").path
  try "cache: {pages: 2, page_size: 4}\nops: [alloc]\n".write(toFile: path, atomically: true, encoding: .utf8)
  let scenario = try ScenarioLoader.load(path: path)
  #expect(scenario.name == "tiny")
  #expect(scenario.ops == [.alloc])

  let junk = directory.appendingPathComponent("junk.yaml").path
  _ = FileManager.default.createFile(atPath: junk, contents: Data([0xFF, 0xFE, 0x00, 0xC3, 0x28]))
  #expect(throws: ScenarioError.self) { try ScenarioLoader.load(path: junk) }

  do {
    _ = try ScenarioLoader.load(path: directory.path)
    Issue.record("a directory loaded")
  } catch {
    #expect(error.file == directory.path)
    #expect(error.message.contains("directory"))
  }
}

@Test func missingFileIsNamed() {
  do {
    _ = try ScenarioLoader.load(path: "/nonexistent/nope.yaml")
    Issue.record("a missing file loaded")
  } catch {
    #expect(error.file == "/nonexistent/nope.yaml")
    #expect(error.message == "no such file")
    #expect(error.description == "/nonexistent/nope.yaml: no such file")
  }
}

// MARK: - Cache

@Test func cacheIsRequired() {
  expectError("ops: [alloc]", line: 1, column: 1, key: "cache", "required key `cache` is missing")
}

@Test func cachePagesIsRequired() {
  expectError(
    "cache: {page_size: 4}\nops: []", line: 1, column: 8, key: "cache.pages", "required key `pages`")
}

@Test func absurdPagesReportsTheRange() {
  expectError(
    "cache: {pages: 1000000000000, page_size: 64}\nops: []", line: 1, column: 16, key: "cache.pages",
    "must be between 1 and 4000000, got 1000000000000")
  expectError(
    "cache: {pages: 0, page_size: 64}\nops: []", line: 1, column: 16, key: "cache.pages",
    "must be between 1 and 4000000, got 0")
}

@Test func pageSizeRange() {
  expectError(
    "cache:\n  pages: 8\n  page_size: 65537\nops: []", line: 3, column: 14, key: "cache.page_size",
    "must be between 1 and 65536, got 65537")
  expectError(
    "cache:\n  pages: 8\n  page_size: -1\nops: []", line: 3, column: 14, key: "cache.page_size",
    "must be between 1 and 65536, got -1")
}

@Test func stringWhereIntegerExpected() {
  expectError(
    "cache: {pages: eight, page_size: 64}\nops: []", line: 1, column: 16, key: "cache.pages",
    "expected an integer, found the string \"eight\"")
  expectError(
    "cache: {pages: \"8\", page_size: 64}\nops: []", line: 1, column: 16, key: "cache.pages",
    "expected an integer, found the string \"8\"")
}

@Test func floatWhereIntegerExpected() {
  expectError(
    "cache: {pages: 8.0, page_size: 64}\nops: []", line: 1, column: 16, key: "cache.pages",
    "expected an integer, found the number 8.0")
  expectError(
    "cache: {pages: 1e3, page_size: 64}\nops: []", line: 1, column: 16, key: "cache.pages",
    "expected an integer, found the number 1e3")
}

@Test func integerOverflowIsAnErrorNotATrap() {
  expectError(
    "cache: {pages: 99999999999999999999999, page_size: 64}\nops: []", line: 1, column: 16,
    key: "cache.pages", "must be between 1 and 4000000, got 99999999999999999999999")
  expectError(
    head + "  - {id: A, prompt: 1, output: 9223372036854775808}", line: 3, column: 32,
    key: "requests[0].output",
    "must be at least 0, got 9223372036854775808")
  expectError(
    head + "  - {id: A, prompt: 1, output: -9223372036854775809}", line: 3, column: 32,
    key: "requests[0].output", "must be at least 0, got -9223372036854775809")
  expectError(
    "cache: {pages: 1, page_size: 1}\nops: [{free: 0xffffffffffffffffff}]", line: 2, column: 14,
    key: "ops[0].free", "must be at least 0, got 0xffffffffffffffffff")
}

@Test func integerSpellings() throws {
  let scenario = try #require(
    parsed("cache: {pages: 0x10, page_size: 1_024}\nops: [{free: 0o17}, {free: 0b101}]"))
  #expect(scenario.cache == CacheConfig(pages: 16, pageSize: 1024))
  #expect(scenario.ops == [.free(15), .free(5)])
  expectError(
    "cache: {pages: 1:30, page_size: 1}\nops: []", line: 1, column: 16, key: "cache.pages",
    "expected an integer, found `1:30`")
}

@Test func cacheMustBeAMapping() {
  expectError(
    "cache: 8\nops: []", line: 1, column: 8, key: "cache", "expected a mapping, found the integer 8")
}

// MARK: - Scheduler

@Test func unknownPolicy() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: {policy: vllm}\nrequests: []", line: 2, column: 21,
    key: "scheduler.policy", "must be one of astrai-seed, paged, vllm-v1, nano-vllm, got `vllm`")
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: {policy: 3}\nrequests: []", line: 2, column: 21,
    key: "scheduler.policy", "expected one of astrai-seed, paged, vllm-v1, nano-vllm, found the integer 3")
}

@Test func maxBatchRange() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: {max_batch: 100001}\nrequests: []", line: 2, column: 24,
    key: "scheduler.max_batch", "must be between 1 and 100000, got 100001")
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: {max_batch: 0}\nrequests: []", line: 2, column: 24,
    key: "scheduler.max_batch", "must be between 1 and 100000, got 0")
}

@Test func prefixCacheNeedsPaged() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: {prefix_cache: true}\nrequests: []", line: 2, column: 13,
    key: "scheduler.prefix_cache", "only valid with policy paged or vllm-v1, not astrai-seed")
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: {policy: paged, prefix_cache: maybe}\nrequests: []", line: 2,
    column: 42, key: "scheduler.prefix_cache", "expected true or false, found the string \"maybe\"")
}

@Test func onOOMNeedsPaged() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler:\n  policy: astrai-seed\n  on_oom: abort\nrequests: []",
    line: 4, column: 3, key: "scheduler.on_oom", "only valid with policy paged")
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: {policy: paged, on_oom: retry}\nrequests: []", line: 2,
    column: 36, key: "scheduler.on_oom", "must be one of preempt, abort, wait, got `retry`")
}

@Test func unknownDecode() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: {decode: some}\nrequests: []", line: 2, column: 21,
    key: "scheduler.decode", "must be one of largest-group, all, got `some`")
}

@Test func schedulerMustBeAMapping() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: [paged]\nrequests: []", line: 2, column: 12,
    key: "scheduler",
    "expected a mapping, found a list")
}

@Test func maxIterationsRange() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nmax_iterations: 0\nops: []", line: 2, column: 17, key: "max_iterations",
    "must be between 1 and 100000000, got 0")
  expectError(
    "cache: {pages: 1, page_size: 1}\nmax_iterations: 100000001\nops: []", line: 2, column: 17,
    key: "max_iterations", "must be between 1 and 100000000, got 100000001")
  #expect(
    parsed("cache: {pages: 1, page_size: 1}\nmax_iterations: 100000000\nops: []")?.maxIterations
      == 100_000_000)
}

// MARK: - Requests

@Test func integerIDBecomesString() throws {
  let scenario = try #require(
    parsed(head + "  - {id: 1, prompt: 1, output: 1}\n  - {id: '01', prompt: 1, output: 1}"))
  #expect(scenario.requests.map(\.id) == ["1", "01"])
}

@Test func idMustBeANonEmptyStringOrInteger() {
  expectError(
    head + "  - {id: '', prompt: 1, output: 1}", line: 3, column: 10, key: "requests[0].id",
    "must not be empty")
  expectError(
    head + "  - {id: 1.5, prompt: 1, output: 1}", line: 3, column: 10, key: "requests[0].id",
    "expected a string or an integer, found the number 1.5")
  expectError(
    head + "  - {id: [A], prompt: 1, output: 1}", line: 3, column: 10, key: "requests[0].id",
    "expected a string or an integer, found a list")
  expectError(
    head + "  - {prompt: 1, output: 1}", line: 3, column: 5, key: "requests[0].id",
    "required key `id` is missing")
}

@Test func duplicateIDNamesTheFirstLine() {
  expectError(
    head
      + "  - {id: A, prompt: 1, output: 1}\n  - {id: B, prompt: 1, output: 1}\n  - {id: A, prompt: 1, output: 1}",
    line: 5, column: 10, key: "requests[2].id", "duplicate id `A` (first used on line 3)")
  expectError(
    head + "  - {id: 7, prompt: 1, output: 1}\n  - {id: '7', prompt: 1, output: 1}", line: 4, column: 10,
    key: "requests[1].id", "duplicate id `7` (first used on line 3)")
}

@Test func arriveMustBeNonNegative() {
  expectError(
    head + "  - {id: A, arrive: -1, prompt: 1, output: 1}", line: 3, column: 21, key: "requests[0].arrive",
    "must be at least 0, got -1")
}

@Test func outputIsRequired() {
  expectError(
    head + "  - id: A\n    prompt: 1", line: 3, column: 5, key: "requests[0].output",
    "required key `output` is missing")
  expectError(
    head + "  - {id: A, prompt: 1, output: -2}", line: 3, column: 32, key: "requests[0].output",
    "must be at least 0, got -2")
}

@Test func promptKinds() {
  expectError(
    head + "  - {id: A, prompt: true, output: 1}", line: 3, column: 21, key: "requests[0].prompt",
    "expected a length, a list of token ids or {blocks, block_size, length}, found the boolean true")
  expectError(
    head + "  - {id: A, prompt: -5, output: 1}", line: 3, column: 21, key: "requests[0].prompt",
    "must be at least 0, got -5")
  expectError(
    head + "  - {id: A, output: 1}", line: 3, column: 5, key: "requests[0].prompt",
    "required key `prompt` is missing")
}

@Test func tokenIDsRange() {
  expectError(
    head + "  - {id: A, prompt: [1, 2147483648], output: 1}", line: 3, column: 25,
    key: "requests[0].prompt[1]",
    "must be between 0 and 2147483647, got 2147483648")
  expectError(
    head + "  - {id: A, prompt: [-1], output: 1}", line: 3, column: 22, key: "requests[0].prompt[0]",
    "must be between 0 and 2147483647, got -1")
  expectError(
    head + "  - {id: A, prompt: [a], output: 1}", line: 3, column: 22, key: "requests[0].prompt[0]",
    "expected an integer, found the string \"a\"")
  #expect(
    parsed(head + "  - {id: A, prompt: [0, 2147483647], output: 1}")?.requests[0].prompt
      == .tokens([0, 2_147_483_647]))
}

@Test func blockPrompts() throws {
  let prompt = "  - id: A\n    output: 1\n    prompt:\n"
  expectError(
    head + prompt + "      {blocks: [0, 1], block_size: 4, length: 9}", line: 6, column: 47,
    key: "requests[0].prompt.length", "must be between 5 and 8 for 2 blocks of 4, got 9")
  expectError(
    head + prompt + "      {blocks: [0, 1], block_size: 4, length: 4}", line: 6, column: 47,
    key: "requests[0].prompt.length", "must be between 5 and 8 for 2 blocks of 4, got 4")
  expectError(
    head + prompt + "      {blocks: [], block_size: 4, length: 1}", line: 6, column: 43,
    key: "requests[0].prompt.length", "must be 0 when `blocks` is empty, got 1")
  expectError(
    head + prompt + "      {blocks: [0], block_size: 0, length: 0}", line: 6, column: 33,
    key: "requests[0].prompt.block_size", "must be at least 1, got 0")
  expectError(
    head + prompt + "      {blocks: [0, -3], block_size: 4, length: 5}", line: 6, column: 20,
    key: "requests[0].prompt.blocks[1]", "must be at least 0, got -3")
  expectError(
    head + prompt + "      {blocks: 3, block_size: 4, length: 5}", line: 6, column: 16,
    key: "requests[0].prompt.blocks", "expected a list of block ids, found the integer 3")
  expectError(
    head + prompt + "      {blocks: [0], size: 4}", line: 6, column: 21, key: "requests[0].prompt.size",
    "unknown key `size`; allowed: blocks, block_size, length")
  expectError(
    head + prompt + "      {block_size: 4, length: 5}", line: 6, column: 7, key: "requests[0].prompt.blocks",
    "required key `blocks` is missing")
  let full = try #require(parsed(head + prompt + "      {blocks: [3, 3], block_size: 4}"))
  #expect(full.requests[0].prompt == .blocks(ids: [3, 3], blockSize: 4, length: 8))
  let empty = try #require(parsed(head + prompt + "      {blocks: [], block_size: 4, length: 0}"))
  #expect(empty.requests[0].prompt == .blocks(ids: [], blockSize: 4, length: 0))
  expectError(
    head + prompt + "      {blocks: [1, 2], block_size: 9223372036854775807}", line: 6, column: 7,
    key: "requests[0].prompt.length", "too large")
  expectError(
    head + prompt + "      {blocks: [1, 2, 3], block_size: 4611686018427387904, length: 5}", line: 6,
    column: 68,
    key: "requests[0].prompt.length", "must be between")
  expectError(
    head + prompt + "      {blocks: [1, 2], block_size: 4611686018427387904, length: 4611686018427387905}",
    line: 6,
    column: 7, key: "requests[0].prompt", "more than the whole pool")
}

@Test func promptLongerThanThePool() {
  expectError(
    head + "  - {id: A, prompt: 1, output: 1}\n  - {id: big, prompt: 513, output: 1}", line: 4, column: 23,
    key: "requests[1].prompt",
    "prompt of request `big` has 513 tokens, more than the whole pool (8 pages x 64 = 512 tokens)")
  #expect(parsed(head + "  - {id: A, prompt: 512, output: 1000}") != nil)
}

@Test func requestsMustBeAList() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nrequests: {id: A}", line: 2, column: 11, key: "requests",
    "expected a list of requests, found a mapping")
  expectError(
    "cache: {pages: 1, page_size: 1}\nrequests:\n  - A", line: 3, column: 5, key: "requests[0]",
    "expected a mapping, found the string \"A\"")
}

// MARK: - Events

@Test func eventsAbortKnownRequests() throws {
  let scenario = try #require(
    parsed(
      head + "  - {id: 3, prompt: 1, output: 1}\nevents:\n  - {at: 0, abort: 3}\n  - {abort: '3', at: 9}"))
  #expect(
    scenario.events == [ScenarioEvent(at: 0, action: .abort("3")), ScenarioEvent(at: 9, action: .abort("3"))])
}

@Test func eventNamingAnUnknownRequest() {
  expectError(
    head + "  - {id: A, prompt: 1, output: 1}\nevents:\n  - {at: 4, abort: Z}", line: 5, column: 20,
    key: "events[0].abort", "no request has id `Z`")
}

@Test func eventShape() {
  let base = head + "  - {id: A, prompt: 1, output: 1}\nevents:\n"
  expectError(
    base + "  - {abort: A}", line: 5, column: 5, key: "events[0].at", "required key `at` is missing")
  expectError(base + "  - {at: 2}", line: 5, column: 5, key: "events[0]", "needs an action; allowed: abort")
  expectError(
    base + "  - {at: 2, pause: A}", line: 5, column: 13, key: "events[0].pause",
    "unknown key `pause`; allowed: at, abort")
  expectError(
    base + "  - {at: -1, abort: A}", line: 5, column: 10, key: "events[0].at", "must be at least 0, got -1")
  expectError(
    base + "  - {at: 1.5, abort: A}", line: 5, column: 10, key: "events[0].at", "expected an integer")
  expectError(
    head + "  - {id: A, prompt: 1, output: 1}\nevents: {at: 1}", line: 4, column: 9, key: "events",
    "expected a list of events, found a mapping")
}

// MARK: - Scenario kinds

@Test func needsRequestsOrOps() {
  expectError("cache: {pages: 1, page_size: 1}", line: 1, column: 1, key: "", "needs `requests` or `ops`")
}

@Test func requestsAndOpsCannotBeCombined() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nrequests: []\nops: []", line: 3, column: 1, key: "ops",
    "cannot be combined with `requests`")
}

@Test func opsWithEvents() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nops: []\nevents: []", line: 3, column: 1, key: "events",
    "not allowed in an ops scenario")
  expectError(
    "cache: {pages: 1, page_size: 1}\nevents: []", line: 2, column: 1, key: "events", "needs `requests`")
}

@Test func opsScenarioAllowsOnlyPolicy() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: {policy: paged, max_batch: 2}\nops: []", line: 2, column: 28,
    key: "scheduler.max_batch", "not allowed in an ops scenario; only `policy` is")
}

// MARK: - Ops

@Test func opItems() {
  let base = "cache: {pages: 4, page_size: 16}\nops:\n"
  expectError(
    base + "  - allocate", line: 3, column: 5, key: "ops[0]",
    "unknown operation `allocate`; allowed: `alloc`, {free: N}, {alloc_n: N} or {inc_ref: N}")
  expectError(base + "  - free", line: 3, column: 5, key: "ops[0]", "`free` needs an argument")
  expectError(
    base + "  - alloc\n  - {free: -1}", line: 4, column: 12, key: "ops[1].free", "must be at least 0, got -1")
  expectError(
    base + "  - {alloc_n: 4000001}", line: 3, column: 15, key: "ops[0].alloc_n",
    "must be between 0 and 4000000, got 4000001")
  expectError(base + "  - {free: 1, inc_ref: 2}", line: 3, column: 5, key: "ops[0]", "exactly one key")
  expectError(
    base + "  - {realloc: 1}", line: 3, column: 6, key: "ops[0].realloc",
    "unknown key `realloc`; allowed: free, alloc_n, inc_ref")
  expectError(base + "  - [alloc]", line: 3, column: 5, key: "ops[0]", "found a list")
  expectError(base + "  - 3", line: 3, column: 5, key: "ops[0]", "found the integer 3")
  expectError(base + "  - {inc_ref: x}", line: 3, column: 15, key: "ops[0].inc_ref", "expected an integer")
  expectError(
    "cache: {pages: 4, page_size: 16}\nops: alloc", line: 2, column: 6, key: "ops", "expected a list")
}

// MARK: - Unknown keys and shapes

@Test func unknownKeysListTheAllowedOnes() {
  expectError(
    "cache: {pages: 1, page_size: 1}\ncolour: red\nops: []", line: 2, column: 1, key: "colour",
    "unknown key `colour`; allowed: name, description, cache, scheduler, max_iterations, requests, events, ops"
  )
  expectError(
    "cache: {pages: 1, page_size: 1, pagesize: 4}\nops: []", line: 1, column: 33, key: "cache.pagesize",
    "unknown key `pagesize`; allowed: pages, page_size")
  expectError(
    head + "  - {id: A, prompt: 1, output: 1, priority: 2}", line: 3, column: 35, key: "requests[0].priority",
    "unknown key `priority`; allowed: id, arrive, prompt, output")
  expectError(
    "cache: {pages: 1, page_size: 1}\nscheduler: {batch: 2}\nrequests: []", line: 2, column: 13,
    key: "scheduler.batch", "unknown key `batch`; allowed: policy, max_batch, prefix_cache, on_oom, decode")
  expectError(
    "cache: {pages: 1, page_size: 1}\n[a]: 1\nops: []", line: 2, column: 1, key: "",
    "expected a key name, found a list")
}

@Test func textFields() throws {
  let scenario = try #require(
    parsed("name: 2024\ndescription: |\n  two\n  lines\ncache: {pages: 1, page_size: 1}\nops: []"))
  #expect(scenario.name == "2024")
  #expect(scenario.description == "two\nlines\n")
  expectError(
    "name: [a]\ncache: {pages: 1, page_size: 1}\nops: []", line: 1, column: 7, key: "name",
    "expected text, found a list")
  expectError(
    "description:\ncache: {pages: 1, page_size: 1}\nops: []", line: 1, column: 13, key: "description",
    "expected text, found null")
}

@Test func duplicateKeys() {
  expectError(
    "cache: {pages: 1, page_size: 1}\nops: []\ncache: {pages: 2, page_size: 1}", line: 1, column: 1, key: "",
    "duplicate key `cache`")
}

// MARK: - Not a scenario

@Test func emptyScenario() {
  for text in ["", "   \n\n", "# only a comment\n  # and another\n", "---\n", "---\n...\n"] {
    let error = failure(text)
    #expect(
      error?.message.hasPrefix("no scenario keys: the file is empty or only comments") == true,
      "\(text.debugDescription)")
    #expect(error?.line == 0)
    #expect(error?.key == "")
    #expect(error?.description.hasPrefix("t.yaml: no scenario keys") == true)
  }
}

@Test func topLevelMustBeAMapping() {
  expectError("- a\n- b\n", line: 1, column: 1, key: "", "expected a mapping at the top level, found a list")
  expectError(
    "just text", line: 1, column: 1, key: "", "expected a mapping at the top level, found the string")
  expectError("42", line: 1, column: 1, key: "", "expected a mapping at the top level, found the integer 42")
}

@Test func invalidYAMLHasAPosition() {
  expectError("cache: {pages: [1, 2\nops: []\n", line: 2, column: 4, key: "", "invalid yaml")
  expectError("cache:\n  pages: 1\n page_size: 2\n", line: 3, column: 2, key: "", "invalid yaml")
  expectError("cache: {pages: 1, page_size: 1}\n\tops: []\n", line: 2, column: 1, key: "", "invalid yaml")
  expectError("cache: *nothing\n", line: 1, column: 8, key: "", "invalid yaml: found undefined alias")
  expectError(
    "cache: {pages: 1, page_size: 1}\nops: []\n---\nops: []\n", line: 3, column: 1, key: "",
    "more than one document")
  let error = failure("a: \u{0}\u{1}\u{2}")
  #expect(error?.message.hasPrefix("invalid yaml") == true)
  #expect(error?.line == 1)
  #expect(error?.column == 4)
}

@Test func deepNestingIsRefused() {
  let depth = 5000
  let text = "ops: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
  let error = failure(text)
  #expect(error?.message.contains("nested too deeply") == true, "\(String(describing: error))")
  #expect((error?.line ?? 0) > 0)
}

@Test func byteOrderMarkIsSkipped() throws {
  let scenario = try #require(parsed("\u{FEFF}cache: {pages: 1, page_size: 1}\nops: []"))
  #expect(scenario.cache == CacheConfig(pages: 1, pageSize: 1))
}

@Test func anchorsAndAliasesWork() throws {
  let scenario = try #require(
    parsed(
      head + "  - {id: A, prompt: &shared [1, 2, 3], output: 1}\n  - {id: B, prompt: *shared, output: 1}"))
  #expect(scenario.requests.map(\.prompt) == [.tokens([1, 2, 3]), .tokens([1, 2, 3])])
}

// MARK: - Fuzz

@Test func garbageNeverCrashes() {
  var random = SplitMix64(state: 0x6B76_7363_6F70_65)
  let seeds = [
    """
    name: fuzz
    cache: {pages: 8, page_size: 64}
    scheduler: {policy: paged, max_batch: 8, prefix_cache: true, on_oom: wait, decode: all}
    max_iterations: 100
    requests:
      - {id: A, arrive: 0, prompt: 120, output: 60}
      - {id: B, arrive: 1, prompt: [5, 9, 9, 2], output: 3}
      - {id: C, prompt: {blocks: [0, 7, 9], block_size: 100, length: 300}, output: 5}
    events:
      - {at: 4, abort: A}
    """,
    """
    cache:
      pages: 4
      page_size: 16
    scheduler: {policy: astrai-seed}
    ops: [alloc, {free: 0}, {alloc_n: 2}, {inc_ref: 1}]
    """,
  ]
  for seed in seeds { #expect(throws: Never.self) { try ScenarioLoader.parse(seed, file: "fuzz.yaml") } }
  let pieces = [
    "[", "]", "{", "}", ":", "- ", "\n", "  ", "\t", "#", "&a ", "*a", "!!int ", "!x ", "'", "\"", "|", ">",
    "? ", ",", "---\n", "...", "%YAML 1.1\n", "\\", "~", "null", "-1", "0x", "99999999999999999999999", "1.5",
    ".inf", "true", "é", "\u{0}", "\u{7F}", "\u{FEFF}", "💥", "\r", "<<: ", "@", "`",
  ]
  var inputs: [String] = []
  for round in 0..<600 {
    var text: String
    switch round % 3 {
    case 0:
      // A valid seed with a few random edits.
      var scalars = Array(seeds[round / 3 % 2].unicodeScalars)
      for _ in 0..<Int.random(in: 1...6, using: &random) {
        let index = Int.random(in: 0..<scalars.count, using: &random)
        switch Int.random(in: 0..<3, using: &random) {
        case 0: scalars.remove(at: index)
        case 1: scalars.insert(contentsOf: pieces.randomElement(using: &random)!.unicodeScalars, at: index)
        default: scalars[index] = Unicode.Scalar(UInt8.random(in: 0...127, using: &random))
        }
        if scalars.isEmpty { scalars = Array("x".unicodeScalars) }
      }
      var view = String.UnicodeScalarView()
      view.append(contentsOf: scalars)
      text = String(view)
    case 1:
      // Random pieces of YAML syntax.
      text = ""
      for _ in 0..<Int.random(in: 0...40, using: &random) {
        text += pieces.randomElement(using: &random)!
      }
    default:
      // Random bytes, decoded leniently.
      let bytes = (0..<Int.random(in: 0...200, using: &random)).map { _ in
        UInt8.random(in: 0...255, using: &random)
      }
      text = String(decoding: bytes, as: UTF8.self)
    }
    inputs.append(text)
  }
  var parsedCount = 0
  for text in inputs {
    do {
      _ = try ScenarioLoader.parse(text, file: "fuzz.yaml")
      parsedCount += 1
    } catch {
      #expect(error.file == "fuzz.yaml")
      #expect(error.line >= 0 && error.column >= 0)
      #expect(!error.message.isEmpty)
    }
  }
  #expect(inputs.count == 600)
  #expect(parsedCount < inputs.count)
}
