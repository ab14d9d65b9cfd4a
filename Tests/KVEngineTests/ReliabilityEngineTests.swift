import Testing

@testable import KVEngine

/// Issue 14: the engine ends every run it is given, within its limits.
struct ReliabilityEngineTests {
  /// An idle jump to an arrival beyond `max_iterations` ends the run at the limit.
  @Test(arguments: [PolicyID.astraiSeed, .paged, .vllmV1, .nanoVLLM])
  func iterationLimitHoldsAcrossIdleJumps(_ policy: PolicyID) {
    let scenario = Scenario(
      name: "late", cache: CacheConfig(pages: 8, pageSize: 16), scheduler: SchedulerConfig(policy: policy),
      requests: [RequestSpec(id: "A", arrive: 1_000_000_000, prompt: .length(3), output: 2)],
      maxIterations: 1000)
    var state = EngineState(scenario: scenario)
    state.run(to: Int.max)
    #expect(state.endReason == .iterationLimit(1000))
    #expect(state.iteration == 1000)
  }

  /// Arrivals and aborts at the largest allowed iteration run without overflow.
  @Test func largestArrivalRuns() {
    let scenario = Scenario(
      name: "late", cache: CacheConfig(pages: 8, pageSize: 16),
      requests: [RequestSpec(id: "A", arrive: 1_000_000_000, prompt: .length(3), output: 2)],
      events: [ScenarioEvent(at: 1_000_000_000, action: .abort("A"))],
      maxIterations: 100_000_000)
    var state = EngineState(scenario: scenario)
    state.run(to: Int.max)
    #expect(state.endReason == .iterationLimit(100_000_000))
  }
}
