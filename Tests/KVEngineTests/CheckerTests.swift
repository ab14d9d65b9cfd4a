import PropertyBased
import Testing

@testable import KVEngine

/// The checker sees violations whole on small pools and through the touched frames on large ones.
struct CheckerTests {
  @Test(arguments: [16, 2048])
  func frameFreedUnderARunningRequestIsReported(pages: Int) {
    let scenario = T.paged(pages: pages, pageSize: 4, [T.req("A", 8, out: 10)])
    var timeline = Timeline(scenario: scenario)
    let states = timeline.states(0...timeline.totalSteps)
    let step = states.firstIndex { $0.requests[0].status == .running && $0.phase == .decode }!
    let frame = states[step].requests[0].pageTable[0]
    timeline.seek(to: step)
    let at = timeline.apply(.pool(.free(frame)))
    let found = timeline.findings.filter { $0.step == at + 1 }
    #expect(found.map(\.kind) == [.refcountBelowHolders])
    #expect(found.first?.frame == frame)
    if case .refcountBelowHolders(_, let holders)? = found.first?.detail {
      #expect(holders == [0])
    } else {
      Issue.record("expected refcount-below-holders, got \(String(describing: found.first?.detail))")
    }
  }

  @Test(arguments: [8, 2048])
  func seedViolationsAreNamedOnce(pages: Int) {
    // inc_ref of a free frame on the seed pool: named once by the engine; the checker does not
    // report the same frame again while the mismatch stays open.
    let states = T.run(
      T.ops(pages: pages, checked: false, [.incRef(3), .alloc, .incRef(3), .free(3), .free(3)]))
    let kinds = T.kinds(T.findings(states))
    #expect(kinds == [.incRefFreeFrame, .incRefFreeFrame])
    #expect(states.last!.pool.refs[3] == 0 && states.last!.pool.freeMask.contains(3))
  }

  @Test func largePoolsRunCleanUnderPartialChecks() async {
    await propertyCheck(count: 200 * propertyScale, input: tapeGenerator) { values in
      var tape = Tape(values)
      var scenario = randomPagedScenario(&tape)
      scenario.cache.pages = 1025 + scenario.cache.pages
      PropertyTests.checkPagedRun(scenario)
    }
  }
}
