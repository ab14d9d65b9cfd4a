import Testing

@testable import KVEngine

/// Runs of the same requests compared: facts per iteration, divergences, latencies.
struct ComparisonTests {
  static let requests = [
    T.req("A", tokens: [1, 2, 3, 4, 5, 6, 7, 8], out: 2),
    T.req("B", tokens: [1, 2, 3, 4, 5, 6, 7, 8], out: 2),
    T.req("C", at: 2, 5, out: 3),
  ]

  @Test func identicalRunsNeverDiverge() {
    let s = T.engine(.vllmV1, pages: 8, pageSize: 4, Self.requests)
    let comparison = Comparison(runs: [RunRecord(scenario: s), RunRecord(scenario: s)])
    #expect(comparison.divergences.isEmpty && comparison.comparesBlocks)
  }

  @Test func factsRecordAdmissionsHitsAndFinishes() {
    let record = RunRecord(scenario: T.engine(.vllmV1, pages: 8, pageSize: 4, Self.requests))
    #expect(record.facts[0].admitted == [0, 1] && record.facts[0].hits == [0: 0, 1: 1])
    #expect(record.facts[0].blocks.contains(BlockChoice(request: 1, page: 0, frame: 1)))
    #expect(record.facts[1].finished == [0, 1])
    #expect(record.times.map(\.admitted) == [0, 0, 2] && record.times.map(\.firstToken) == [0, 0, 2])
    #expect(record.times.map(\.finished) == [1, 1, 4])
    let latencies = record.latencies
    #expect(latencies.finish == Percentiles([1, 1, 2]))
  }

  @Test func vllmAndNanoPartAtTheSameStepHit() {
    let vllm = RunRecord(scenario: T.engine(.vllmV1, pages: 8, pageSize: 4, Self.requests))
    let nano = RunRecord(scenario: T.engine(.nanoVLLM, pages: 8, pageSize: 4, Self.requests))
    let comparison = Comparison(runs: [vllm, nano])
    #expect(!comparison.comparesBlocks)
    #expect(comparison.divergences.first?.iteration == 0)
    #expect(comparison.divergences.first?.facts.map { $0.hits[1] } == [1, 0])
  }

  @Test func blocksCountWhenPoolsNumberAlike() {
    let one = [T.req("A", 2, out: 1), T.req("B", at: 2, 2, out: 1)]
    let paged = RunRecord(scenario: T.paged(pages: 4, pageSize: 2, one))
    #expect(
      Comparison(runs: [paged, RunRecord(scenario: T.engine(.nanoVLLM, pages: 4, pageSize: 2, one))])
        .comparesBlocks)
    #expect(
      !Comparison(runs: [paged, RunRecord(scenario: T.paged(pages: 5, pageSize: 2, one))]).comparesBlocks)
    // The same decisions with other blocks differ only when blocks count.
    var a = IterationFacts()
    a.admitted = [1, 0]
    a.blocks = [BlockChoice(request: 0, page: 0, frame: 3)]
    var b = a
    b.admitted = [0, 1]
    b.blocks = [BlockChoice(request: 0, page: 0, frame: 1)]
    #expect(a.normalized(withBlocks: false) == b.normalized(withBlocks: false))
    #expect(a.normalized(withBlocks: true) != b.normalized(withBlocks: true))
  }

  @Test func aRecordBuiltWithItsTimelineIsTheSame() {
    let s = T.engine(.vllmV1, pages: 8, pageSize: 4, Self.requests)
    let alone = RunRecord(scenario: s)
    let (record, timeline) = RunRecord.withTimeline(s)
    #expect(record.facts == alone.facts && record.times == alone.times)
    #expect(record.final.step == alone.final.step && timeline.totalSteps == alone.final.step)
    #expect(timeline.samples.count == Timeline(scenario: s).samples.count)
  }

  @Test func percentilesByNearestRank() {
    let p = Percentiles(Array(1...100))!
    #expect(p.p50 == 50 && p.p90 == 90 && p.p99 == 99 && p.max == 100 && p.count == 100)
    #expect(
      Percentiles([7])
        == Percentiles([7, 7]).map {
          var q = $0
          q.count = 1
          return q
        })
    #expect(Percentiles([]) == nil)
  }
}
