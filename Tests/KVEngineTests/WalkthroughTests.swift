import Testing

@testable import KVEngine

/// The animation's numbers (8 frames, page_size 64): A 120 tokens -> frames 0,1; B 90 -> 2,3; A grows
/// to [0, 1, 4]; A finishes -> 11110011.
struct WalkthroughTests {
  static let scenario = Scenario(
    name: "walkthrough", cache: CacheConfig(pages: 8, pageSize: 64),
    scheduler: SchedulerConfig(policy: .astraiSeed, maxBatch: 8),
    requests: [
      RequestSpec(id: "A", arrive: 0, prompt: .length(120), output: 60),
      RequestSpec(id: "B", arrive: 1, prompt: .length(90), output: 40),
    ])

  @Test func masksAppearInOrder() {
    let timeline = Timeline(scenario: Self.scenario)
    let masks = timeline.states(0...timeline.totalSteps).map { $0.pool.freeMask.binary() }
    var distinct: [String] = []
    for mask in masks where distinct.last != mask { distinct.append(mask) }
    #expect(distinct.starts(with: ["11111111", "11111110", "11111100", "11111000", "11110000", "11100000"]))
    #expect(distinct.contains("11110011"))
    #expect(timeline.findings.isEmpty)
    #expect(timeline.final.pool.freeMask.binary() == "11111111")
  }

  @Test func tableOfAGrowsToFrame4() {
    let timeline = Timeline(scenario: Self.scenario)
    let states = timeline.states(0...timeline.totalSteps)
    let a = states.map { $0.requests[0].pageTable }
    #expect(a.contains([0, 1, 4]))
    let grow = states.first { $0.requests[0].pageTable == [0, 1, 4] }!
    if case .alloc(let trace, .grow(_, let position, let needed, let have)) = grow.event.action {
      #expect(trace.frame == 4)
      #expect(trace.wordBefore == 0b1111_0000)
      #expect(trace.lsb == 0b1_0000)
      #expect(needed == 3 && have == 2)
      #expect(position == 128)
    } else {
      Issue.record("expected a growth alloc, got \(grow.event.action)")
    }
  }
}
