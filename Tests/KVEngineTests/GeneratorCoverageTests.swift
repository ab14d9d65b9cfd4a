import Testing

@testable import KVEngine

/// The random scenario generator must reach the interesting paths, or the property tests prove little.
struct GeneratorCoverageTests {
  @Test func randomScenariosReachTheInterestingPaths() {
    var rng = SplitMix64(state: 2024)
    var preempted = 0
    var evicted = 0
    var hit = 0
    var oomAborted = 0
    var eventAborted = 0
    var waited = 0
    var deadlocked = 0
    var emptyPrompts = 0
    let runs = 300
    for _ in 0..<runs {
      let values = (0..<(40 + Int(rng.next() % 361))).map { _ in Int(rng.next() % 1_000_001) }
      var tape = Tape(values)
      let scenario = randomPagedScenario(&tape)
      guard let final = PropertyTests.runToEnd(scenario) else { continue }
      if final.stats.preemptions > 0 { preempted += 1 }
      if final.stats.evictions > 0 { evicted += 1 }
      if final.stats.prefixHitPages > 0 { hit += 1 }
      if scenario.scheduler.onOOM == .abort
        && final.requests.contains(where: { $0.status == .aborted && $0.abortRequested })
      {
        oomAborted += 1
      }
      if !scenario.events.isEmpty && final.requests.contains(where: { $0.status == .aborted }) {
        eventAborted += 1
      }
      if scenario.scheduler.onOOM == .wait && final.endReason == .allRequestsDone
        && final.stats.decodedTokens > 0
      {
        waited += 1
      }
      if case .stalled? = final.endReason { deadlocked += 1 }
      if scenario.requests.contains(where: { $0.prompt.count == 0 }) { emptyPrompts += 1 }
    }
    print(
      "coverage of \(runs): preempted \(preempted) evicted \(evicted) hit \(hit) oomAborted \(oomAborted) eventAborted \(eventAborted) waitedOK \(waited) deadlocked \(deadlocked) emptyPrompts \(emptyPrompts)"
    )
    #expect(preempted >= 10)
    #expect(evicted >= 10)
    #expect(hit >= 30)
    #expect(oomAborted >= 5)
    #expect(eventAborted >= 10)
    #expect(deadlocked >= 3)
    #expect(emptyPrompts >= 5)
  }
}
