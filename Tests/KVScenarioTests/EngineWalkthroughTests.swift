import Foundation
import KVEngine
import KVScenario
import Testing

/// The shipped walkthroughs of the engine policies: the states at their characteristic moments, as
/// vLLM 0.33.0 and nano-vllm at bb823b3 reach them (checked with the differential harness).
struct EngineWalkthroughTests {
  static let scenarios = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios")

  /// The state at the end of each iteration, and every state.
  static func run(_ file: String) throws -> (ends: [EngineState], states: [EngineState]) {
    let scenario = try ScenarioLoader.load(path: scenarios.appendingPathComponent(file).path)
    var state = EngineState(scenario: scenario)
    var states = [state]
    var ends: [EngineState] = []
    Timeline.run(
      &state, to: Int.max, actions: [:],
      observe: { step in
        while ends.count < step.iteration { ends.append(states.last!) }
        states.append(step)
      })
    return (ends, states)
  }

  static func tables(_ state: EngineState) -> [String: [Int]] {
    Dictionary(
      uniqueKeysWithValues: state.requests.filter { $0.status != .pending }.map { ($0.id, $0.pageTable) })
  }

  @Test func vllm() throws {
    let (ends, states) = try Self.run("vllm-v1-walkthrough.yaml")
    #expect(states.allSatisfy { $0.findings.isEmpty })
    #expect(ends.count == 12 && ends.last?.requests.allSatisfy { $0.status == .finished } == true)
    // Iteration 0: block 0 is never handed out; B hits block 1 in the same step, capped at one block,
    // and recomputes its second block into block 3, indexed beside block 2.
    #expect(Self.tables(ends[0]) == ["A": [1, 2], "B": [1, 3]])
    #expect(ends[0].pool.freeQueue.frames == [4, 5, 6, 7])
    #expect(ends[0].pool.isIndexed(2) && ends[0].pool.isIndexed(3))
    // Iteration 1: unhashed blocks to the head, last freed first; hashed ones to the tail.
    #expect(ends[1].pool.freeQueue.frames == [5, 4, 6, 7, 2, 3, 1])
    // Iteration 2: LIFO reuse.
    #expect(Self.tables(ends[2])["C"] == [5, 4] && Self.tables(ends[2])["D"] == [6, 7])
    // Iteration 3: E hits free block 1 and evicts block 2's hash.
    #expect(Self.tables(ends[3])["E"] == [1, 2] && ends[3].pool.freeQueue.frames == [3])
    // Iteration 10: D, the last running request, is preempted; F waits: nothing is admitted.
    let d = ends[10].requests.first { $0.id == "D" }!
    let f = ends[10].requests.first { $0.id == "F" }!
    #expect(d.status == .preempted && d.pageTable.isEmpty && f.status == .waiting)
    #expect(ends[10].pool.freeQueue.frames == [1, 3, 7, 6, 2, 4, 5])
    let skipped = states.filter {
      if case .plan(.waiting, .schedule(_, _, true)) = $0.event.action { return true }
      return false
    }
    #expect(skipped.map(\.iteration) == [10])
    #expect(ends[11].pool.freeQueue.frames == [1, 4, 5, 3, 7, 6, 2])
  }

  @Test func nanoVLLM() throws {
    let (ends, states) = try Self.run("nano-vllm-walkthrough.yaml")
    #expect(states.allSatisfy { $0.findings.isEmpty })
    #expect(ends.count == 12 && ends.last?.requests.allSatisfy { $0.status == .finished } == true)
    // Iteration 0: A's prompt chunked to the budget; its blocks are allocated whole.
    let a0 = ends[0].requests[0]
    #expect(a0.status == .waiting && a0.computed == 8 && a0.pageTable == [0, 1, 2])
    #expect(ends[0].requests[1].pageTable.isEmpty)
    // Iteration 1: a prefill-only step for A's rest and B.
    #expect(Self.tables(ends[1]) == ["A": [0, 1, 2], "B": [3]])
    #expect(ends[1].requests.prefix(2).allSatisfy { $0.status == .running })
    // Iteration 2: a decode step takes the last free blocks.
    #expect(Self.tables(ends[2]) == ["A": [0, 1, 2, 4], "B": [3, 5]] && ends[2].pool.freeQueue.count == 0)
    // Iteration 6: B, the last running sequence, is preempted for A.
    #expect(ends[6].requests[1].status == .preempted && Self.tables(ends[6])["A"] == [0, 1, 2, 4, 5])
    #expect(ends[6].pool.freeQueue.frames == [3])
    // Iteration 9: B comes back with a hit on its own first block, and C.
    #expect(Self.tables(ends[9])["B"] == [3, 5, 4] && Self.tables(ends[9])["C"] == [2])
    let decodes = states.filter {
      if case .plan(.decode, .schedule(_, _, let skipped)) = $0.event.action { return skipped }
      return false
    }
    #expect(decodes.map(\.iteration) == [0, 1, 9])
  }
}

@Test func engineLimitsAreRefusedWithThePolicyNamed() throws {
  func message(_ yaml: String) -> String {
    do {
      _ = try ScenarioLoader.parse(yaml, file: "x.yaml")
      return ""
    } catch { return error.description }
  }
  let v1 = "cache: {pages: 4, page_size: 2}\nscheduler: {policy: vllm-v1, max_batched_tokens: 8, max_batch: 2"
  #expect(
    message(v1 + ", on_oom: abort}\nrequests: [{id: A, prompt: 2, output: 1}]").contains(
      "scheduler.on_oom: only valid with policy paged, not vllm-v1"))
  #expect(
    message(v1 + "}\nrequests: [{id: A, prompt: 2, output: 0}]").contains(
      "requests[0].output: must be at least 1 under policy vllm-v1"))
  #expect(
    message(v1 + "}\nrequests: [{id: A, prompt: 5, output: 2}]").contains(
      "x.yaml:3:39: requests[0].output: request `A` needs 4 pages for its 5 prompt and 2 output tokens, more than the 3 usable pages under policy vllm-v1"
    ))
  #expect(
    message(
      v1.replacingOccurrences(of: "max_batch: 2", with: "max_batch: 9")
        + "}\nrequests: [{id: A, prompt: 2, output: 1}]"
    ).contains(
      "max_batched_tokens (8) must be at least max_batch (9) under policy vllm-v1"))
  let nano =
    "cache: {pages: 4, page_size: 1}\nscheduler: {policy: nano-vllm}\nrequests: [{id: A, prompt: 2, output: 1}]"
  #expect(message(nano).contains("cache.page_size: must be at least 2 under policy nano-vllm"))
  #expect(
    message(
      nano.replacingOccurrences(of: "page_size: 1", with: "page_size: 2") + "\nevents: [{at: 1, abort: A}]"
    )
    .contains("events: policy nano-vllm has no abort"))
  #expect(
    message(
      nano.replacingOccurrences(of: "{policy: nano-vllm}", with: "{policy: nano-vllm, prefix_cache: true}")
    )
    .contains("scheduler.prefix_cache: only valid with policy paged or vllm-v1, not nano-vllm"))
}
