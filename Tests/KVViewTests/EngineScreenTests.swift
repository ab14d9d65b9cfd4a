import Testing

@testable import KVEngine
@testable import KVView

/// The engine policies on screen: the free queue head first, the null block, hashed free blocks, and
/// the engines' routines in the code panel.
struct EngineScreenTests {
  /// `scenarios/vllm-v1-walkthrough.yaml`.
  static let vllm = Scenario(
    name: "vLLM v1 walkthrough", cache: CacheConfig(pages: 8, pageSize: 4),
    scheduler: SchedulerConfig(policy: .vllmV1, maxBatch: 4, prefixCache: true, maxBatchedTokens: 16),
    requests: [
      RequestSpec(id: "A", prompt: .tokens([1, 2, 3, 4, 5, 6, 7, 8]), output: 2),
      RequestSpec(id: "B", prompt: .tokens([1, 2, 3, 4, 5, 6, 7, 8]), output: 2),
      RequestSpec(id: "C", arrive: 2, prompt: .length(5), output: 9),
      RequestSpec(id: "D", arrive: 2, prompt: .length(5), output: 9),
      RequestSpec(id: "E", arrive: 3, prompt: .tokens([1, 2, 3, 4, 9]), output: 2),
      RequestSpec(id: "F", arrive: 10, prompt: .length(4), output: 1),
    ])

  /// `scenarios/nano-vllm-walkthrough.yaml`.
  static let nano = Scenario(
    name: "nano-vllm walkthrough", cache: CacheConfig(pages: 6, pageSize: 4),
    scheduler: SchedulerConfig(policy: .nanoVLLM, maxBatch: 4, maxBatchedTokens: 8),
    requests: [
      RequestSpec(id: "A", prompt: .length(12), output: 8),
      RequestSpec(id: "B", prompt: .length(4), output: 8),
      RequestSpec(id: "C", arrive: 3, prompt: .length(3), output: 2),
    ])

  /// The first step whose action `matches` accepts.
  static func firstStep(_ timeline: Timeline, _ matches: (StepAction) -> Bool) -> Int? {
    timeline.states(0...timeline.totalSteps).first { matches($0.event.action) }?.step
  }

  @Test func vllmSameStepHitAndPreemption() {
    var timeline = Timeline(scenario: Self.vllm)
    let hit = Self.firstStep(timeline) { if case .incRef(_, 1?) = $0 { true } else { false } }
    #expect(hit != nil)
    timeline.seek(to: hit ?? 0)
    Golden.check("vllm-same-step-hit-120x40", Fixtures.render(timeline, width: 120, height: 40).text)
    let preempt = Self.firstStep(timeline) { if case .preempted = $0 { true } else { false } }
    #expect(preempt != nil)
    timeline.seek(to: preempt ?? 0)
    Golden.check("vllm-preempt-120x40", Fixtures.render(timeline, width: 120, height: 40).text)
  }

  @Test func nanoFreeDequeAndPreemption() {
    var timeline = Timeline(scenario: Self.nano)
    let preempt = Self.firstStep(timeline) { if case .preempted = $0 { true } else { false } }
    #expect(preempt != nil)
    timeline.seek(to: preempt ?? 0)
    Golden.check("nano-preempt-120x40", Fixtures.render(timeline, width: 120, height: 40).text)
    timeline.seek(to: (preempt ?? 0) + 2)
    Golden.check("nano-evict-80x24", Fixtures.render(timeline, width: 80, height: 24).text)
  }
}
