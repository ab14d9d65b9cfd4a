import PropertyBased
import Testing

@testable import KVEngine

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A tape of random numbers that builds a scenario. Drawing past its end gives 0, so shrinking the
/// tape (shorter, smaller numbers) shrinks the scenario.
struct Tape {
  let values: [Int]
  var index = 0

  init(_ values: [Int]) { self.values = values }

  mutating func draw(_ range: ClosedRange<Int>) -> Int {
    let value = index < values.count ? values[index] : 0
    index += 1
    return range.lowerBound + value % range.count
  }

  mutating func chance(_ percent: Int) -> Bool { draw(0...99) < percent }
}

/// A random `paged` scenario. Every request fits the pool alone, so that only `on_oom: wait` may deadlock.
func randomPagedScenario(_ tape: inout Tape) -> Scenario {
  let pages = tape.draw(1...64)
  let pageSize = tape.draw(1...16)
  let maxBatch = tape.draw(1...8)
  let prefix = tape.draw(0...1) == 1
  let onOOM = OOMAction.allCases[tape.draw(0...OOMAction.allCases.count - 1)]
  let decode: DecodeOrder = tape.draw(0...3) == 0 ? .largestGroup : .all
  let capacity = pages * pageSize
  // A few shared prefixes over a tiny vocabulary, so that requests share pages.
  let prefixes = (0..<3).map { _ in (0..<tape.draw(0...24)).map { _ in tape.draw(1...3) } }
  let count = tape.draw(1...12)
  var requests: [RequestSpec] = []
  for i in 0..<count {
    let arrive = tape.draw(0...10)
    let output = min(tape.draw(0...20), capacity)
    let maxPrompt = capacity - output
    let prompt = randomPrompt(&tape, prefixes: prefixes, maxLength: maxPrompt, lengths: 0...max(1, capacity))
    requests.append(RequestSpec(id: "R\(i)", arrive: arrive, prompt: prompt, output: output))
  }
  var events: [ScenarioEvent] = []
  for _ in 0..<tape.draw(0...3) where tape.draw(0...1) == 1 {
    events.append(ScenarioEvent(at: tape.draw(0...15), action: .abort("R\(tape.draw(0...count - 1))")))
  }
  return Scenario(
    name: "random", cache: CacheConfig(pages: pages, pageSize: pageSize),
    scheduler: SchedulerConfig(
      policy: .paged, maxBatch: maxBatch, prefixCache: prefix, onOOM: onOOM, decode: decode),
    requests: requests, events: events, maxIterations: 3_000)
}

/// A prompt of at most `maxLength` tokens: mostly one of three `prefixes` and a random tail over a
/// tiny vocabulary (so that requests share pages), else a length drawn from `lengths`.
func randomPrompt(_ tape: inout Tape, prefixes: [[Int]], maxLength: Int, lengths: ClosedRange<Int>) -> Prompt
{
  if tape.draw(0...2) > 0 {
    let base = prefixes[tape.draw(0...2)]
    let tail = (0..<tape.draw(0...10)).map { _ in tape.draw(1...3) }
    return .tokens(Array((base + tail).prefix(maxLength)))
  }
  return .length(min(tape.draw(lengths), maxLength))
}

/// A compact description of a scenario for failure messages.
func describe(_ s: Scenario) -> String {
  var text =
    "pages \(s.cache.pages) page_size \(s.cache.pageSize) max_batch \(s.scheduler.maxBatch) prefix \(s.scheduler.prefixCache) on_oom \(s.scheduler.onOOM.rawValue) decode \(s.scheduler.decode.rawValue)\n"
  for r in s.requests {
    let prompt: String
    switch r.prompt {
    case .length(let n): prompt = "\(n)"
    case .tokens(let t): prompt = "\(t)"
    case .blocks(let ids, let size, let length): prompt = "blocks \(ids) x\(size) len \(length)"
    }
    text += "  {id: \(r.id), arrive: \(r.arrive), prompt: \(prompt), output: \(r.output)}\n"
  }
  for e in s.events { text += "  at \(e.at): \(e.action)\n" }
  return text
}

/// Multiplies the property-test counts: `KVENGINE_PROPERTY_SCALE=20 swift test ...` for a long hunt.
let propertyScale: Int =
  getenv("KVENGINE_PROPERTY_SCALE").flatMap { Int(String(cString: $0)) }.map { max(1, $0) } ?? 1

let tapeGenerator = Gen.int(in: 0...1_000_000).array(of: 40...400)

struct PropertyTests {
  /// Runs a scenario to its end by hand, with a bound on steps so that a loop cannot hang the test.
  static func runToEnd(_ scenario: Scenario, stepLimit: Int = 400_000) -> EngineState? {
    var state = EngineState(scenario: scenario)
    var steps = 0
    while state.advance() {
      steps += 1
      if steps > stepLimit { return nil }
    }
    return state
  }

  static func checkPagedRun(_ scenario: Scenario) {
    let description = describe(scenario)
    guard let ended = runToEnd(scenario) else {
      Issue.record("the run did not end within the step limit:\n\(description)")
      return
    }
    #expect(
      ended.endReason.map { if case .iterationLimit = $0 { true } else { false } } != true,
      "\(String(describing: ended.endReason)) \n\(description)")
    let timeline = Timeline(scenario: scenario)
    #expect(timeline.totalSteps == ended.step)
    let kinds = Set(timeline.findings.map(\.kind))
    let deadlocked = kinds == [.deadlock]
    if scenario.scheduler.onOOM == .wait {
      #expect(kinds.isEmpty || deadlocked, "\(timeline.findings.map(\.detail))\n\(description)")
    } else {
      #expect(kinds.isEmpty, "\(timeline.findings.map(\.detail))\n\(description)")
    }
    let final = timeline.final
    if !deadlocked {
      #expect(final.allFramesReleased, "frames not released: refs \(Array(final.pool.refs))\n\(description)")
      #expect(final.requests.allSatisfy { $0.status == .finished || $0.status == .aborted }, "\(description)")
      #expect(
        final.requests.allSatisfy { $0.status != .finished || $0.output == $0.spec.output }, "\(description)")
      #expect(final.endReason == .allRequestsDone, "\(String(describing: final.endReason))\n\(description)")
      // No abort event names a request that finished... unless it finished first: a request with
      // no abort event and no OOM abort must finish.
      let abortedIDs = Set(
        scenario.events.map { e -> String in
          if case .abort(let id) = e.action { return id } else { return "" }
        })
      if scenario.scheduler.onOOM != .abort {
        for r in final.requests where !abortedIDs.contains(r.id) {
          #expect(r.status == .finished, "\(r.id) is \(r.status)\n\(description)")
        }
      }
    }
    if !scenario.scheduler.prefixCache {
      #expect(final.pool.cached.isEmpty && final.pool.lru.count == 0)
    }
    #expect(final.pool.refs.allSatisfy { $0 >= 0 })
  }

  @Test func randomPagedScenariosRunClean() async {
    await propertyCheck(count: 1_200 * propertyScale, input: tapeGenerator) { values in
      var tape = Tape(values)
      Self.checkPagedRun(randomPagedScenario(&tape))
    }
  }

  /// Tight pools: few pages, long outputs, so that out-of-memory paths run often.
  @Test func randomTightPagedScenariosRunClean() async {
    await propertyCheck(count: 600 * propertyScale, input: tapeGenerator) { values in
      var tape = Tape(values)
      var scenario = randomPagedScenario(&tape)
      scenario.cache.pages = 1 + scenario.cache.pages % 8
      let capacity = scenario.cache.pages * scenario.cache.pageSize
      scenario.requests = scenario.requests.map { spec in
        var spec = spec
        spec.output = min(spec.output + 4, capacity)
        let maxPrompt = capacity - spec.output
        switch spec.prompt {
        case .length(let n): spec.prompt = .length(min(n, maxPrompt))
        case .tokens(let t): spec.prompt = .tokens(Array(t.prefix(maxPrompt)))
        case .blocks: break
        }
        return spec
      }
      Self.checkPagedRun(scenario)
    }
  }

  /// Random scenarios under a timeline with tiny checkpoint budgets: seeking gives the stepped states.
  @Test func randomTimelinesSeekConsistently() async {
    await propertyCheck(
      count: 60 * propertyScale, input: tapeGenerator, Gen.int(in: 1...6), Gen.int(in: 2...5)
    ) {
      values, interval, maxCheckpoints in
      var tape = Tape(values)
      let scenario = randomPagedScenario(&tape)
      guard Self.runToEnd(scenario, stepLimit: 20_000) != nil else { return }
      let reference = T.run(scenario).map(Snapshot.init)
      var timeline = Timeline(scenario: scenario, interval: interval, maxCheckpoints: maxCheckpoints)
      #expect(timeline.totalSteps == reference.count - 1)
      var rng = SplitMix64(state: UInt64(values.first ?? 0))
      var mismatches = 0
      for _ in 0..<40 {
        let step = Int(rng.next() % UInt64(reference.count))
        timeline.seek(to: step)
        if Snapshot(timeline.current) != reference[step] { mismatches += 1 }
        timeline.move(.step, forward: false)
        if Snapshot(timeline.current) != reference[max(0, step - 1)] { mismatches += 1 }
      }
      #expect(mismatches == 0, "\(describe(scenario))")
    }
  }

  /// Random allocator operations on a checked pool: the free bit is set exactly when the frame has
  /// refcount 0 and is not cached; cached frames at refcount 0 are exactly the LRU list.
  @Test func randomPoolOperationsKeepTheInvariants() async {
    await propertyCheck(count: 400 * propertyScale, input: Gen.int(in: 1...20), tapeGenerator) {
      size, values in
      var tape = Tape(values)
      var pool = PagePool(count: size, checked: true)
      var nextKey: UInt64 = 1
      for _ in 0..<tape.draw(1...120) {
        let before = pool
        switch tape.draw(0...5) {
        case 0, 1:
          let trace = pool.alloc()
          if let lowest = before.freeMask.lowest {
            #expect(trace.frame == lowest && trace.evictedKey == nil)
            let word = before.freeMask.word(lowest >> 6)
            #expect(trace.lsb == word & (~word &+ 1))
            #expect(trace.wordAfter == word & ~trace.lsb)
          } else if let head = before.lru.frames.first {
            #expect(trace.frame == head)
            #expect(trace.evictedKey == before.cached[Int32(head)]?.key)
            #expect(!pool.isCached(head))
          } else {
            #expect(trace.frame == -1 && pool == before)
          }
          if trace.frame >= 0 { #expect(pool.refs[trace.frame] == 1) }
        case 2:
          let frame = tape.draw(-1...size)
          let trace = pool.free(frame)
          if !before.contains(frame) {
            #expect(trace.misuse == .badIndex && pool == before)
          } else if before.refs[frame] == 0 {
            #expect(trace.misuse == .doubleFree && pool == before)
          } else {
            #expect(trace.misuse == nil && pool.refs[frame] == before.refs[frame] - 1)
          }
        case 3:
          let frame = tape.draw(-1...size)
          let trace = pool.incRef(frame)
          if !before.contains(frame) {
            #expect(trace.misuse == .badIndex && pool == before)
          } else if before.freeMask.contains(frame) {
            #expect(trace.misuse == .incRefFreeFrame && pool == before)
          } else {
            #expect(trace.misuse == nil && pool.refs[frame] == before.refs[frame] + 1)
            #expect(trace.lru == before.lru.contains(frame))
          }
        case 4:
          // The engine records only allocated frames.
          let frame = tape.draw(0...size - 1)
          if pool.refs[frame] > 0 {
            let key =
              tape.chance(20)
              ? UInt64(tape.draw(1...4))
              : {
                nextKey += 1
                return nextKey + 100
              }()
            let page = CachedPage(key: key, parent: 0, request: frame, page: 0)
            let recorded = pool.record(frame, page: page)
            #expect(recorded == (before.frameForKey[key] == nil && before.cached[Int32(frame)] == nil))
            if recorded {
              #expect(pool.lookup(key: key, parent: 0, matches: { $0.request == Int32(frame) }) == frame)
            }
          }
        default:
          let frame = tape.draw(0...size - 1)
          if let page = pool.cached[Int32(frame)] {
            #expect(pool.lookup(key: page.key, parent: page.parent, matches: { $0 == page }) == frame)
            #expect(pool.lookup(key: page.key, parent: page.parent &+ 1, matches: { $0 == page }) == nil)
            #expect(pool.lookup(key: page.key, parent: page.parent, matches: { _ in false }) == nil)
          }
        }
        for f in 0..<size {
          let refs = pool.refs[f]
          let cached = pool.isCached(f)
          #expect(refs >= 0)
          #expect(pool.freeMask.contains(f) == (refs == 0 && !cached), "frame \(f)")
          #expect(pool.lru.contains(f) == (refs == 0 && cached), "frame \(f)")
        }
        #expect(pool.freeCount + pool.lru.count + pool.usedCount == size)
        #expect(pool.usedCount == pool.refs.filter { $0 > 0 }.count)
        #expect(pool.cached.count == pool.frameForKey.count)
        for (key, frame) in pool.frameForKey { #expect(pool.cached[frame]?.key == key) }
      }
    }
  }

  /// The bitmask against a Set model under random inserts and removes, including across summary words.
  @Test func randomBitmaskOperations() async {
    await propertyCheck(count: 200 * propertyScale, input: Gen.int(in: 1...20_000), tapeGenerator) {
      count, values in
      var tape = Tape(values)
      var mask = FreeBitmask(count: count, allSet: tape.draw(0...1) == 1)
      var model = Set(mask.population == count ? Array(0..<count) : [])
      for value in values {
        let frame = value % count
        if tape.draw(0...1) == 1 {
          mask.insert(frame)
          model.insert(frame)
        } else {
          mask.remove(frame)
          model.remove(frame)
        }
      }
      #expect(mask.population == model.count)
      #expect(mask.lowest == model.min())
      for value in values.prefix(30) {
        let from = value % count
        #expect(mask.next(from: from) == model.filter { $0 >= from }.min())
      }
    }
  }

  /// A large pool's `alloc` hands out the lowest free frame through the mask's cursor, against a Set
  /// model, under runs of allocations and frees that empty words and refill lower ones; a snapshot
  /// taken midway keeps its own frames and cursor.
  @Test func randomLargePoolAllocationsTakeTheLowestFreeFrame() async {
    await propertyCheck(count: 40 * propertyScale, input: Gen.int(in: 65...6_000), tapeGenerator) {
      count, values in
      var tape = Tape(values)
      var pool = PagePool(count: count, checked: true)
      var free = Set(0..<count)
      var snapshot: (pool: PagePool, free: Set<Int>)?
      for value in values {
        if tape.draw(0...2) > 0 {
          for _ in 0..<tape.draw(1...100) {
            let frame = pool.alloc().frame
            #expect(frame == free.min() ?? -1)
            free.remove(frame)
          }
        } else {
          for offset in 0..<tape.draw(1...100) {
            let frame = (value &* 7 &+ offset) % count
            if !free.contains(frame) {
              _ = pool.free(frame)
              free.insert(frame)
            }
          }
        }
        if snapshot == nil && tape.chance(10) { snapshot = (pool, free) }
      }
      #expect(pool.freeCount == free.count)
      if var (old, oldFree) = snapshot {
        #expect(old.freeMask.lowest == oldFree.min())
        let frame = old.alloc().frame
        #expect(frame == oldFree.min() ?? -1)
        oldFree.remove(frame)
        #expect(old.freeCount == oldFree.count)
      }
    }
  }
}

/// A random `vllm-v1` or `nano-vllm` scenario within the policy's limits: every request's prompt and
/// output fit the usable pool, it generates at least one token, and (vLLM) the token budget covers
/// the batch. Prompts share prefixes; budgets are small enough to chunk.
func randomEngineScenario(_ tape: inout Tape, policy: PolicyID) -> Scenario {
  let type = policy.type
  let pageSize = tape.draw(type.limits.minPageSize...16)
  let pages = tape.draw(2...48)
  let usable = type.usablePages(pages)
  let capacity = usable * pageSize
  let maxBatch = tape.draw(1...8)
  let budget = max(type.limits.budgetCoversBatch ? maxBatch : 1, tape.draw(1...64))
  let prefixes = (0..<3).map { _ in (0..<tape.draw(0...24)).map { _ in tape.draw(1...3) } }
  var requests: [RequestSpec] = []
  for i in 0..<tape.draw(1...12) {
    let output = min(tape.draw(1...24), capacity)
    let maxPrompt = capacity - output
    let prompt = randomPrompt(&tape, prefixes: prefixes, maxLength: maxPrompt, lengths: 1...max(1, capacity))
    requests.append(RequestSpec(id: "R\(i)", arrive: tape.draw(0...8), prompt: prompt, output: output))
  }
  var events: [ScenarioEvent] = []
  if type.capabilities.contains(.aborts) {
    for _ in 0..<tape.draw(0...2) where tape.draw(0...2) == 0 {
      events.append(
        ScenarioEvent(at: tape.draw(0...12), action: .abort("R\(tape.draw(0...requests.count - 1))")))
    }
  }
  let prefix: Bool? = type.keys.contains(.prefixCache) ? tape.draw(0...3) > 0 : nil
  return Scenario(
    name: "random \(policy)", cache: CacheConfig(pages: pages, pageSize: pageSize),
    scheduler: SchedulerConfig(
      policy: policy, maxBatch: maxBatch, prefixCache: prefix, maxBatchedTokens: budget),
    requests: requests, events: events, maxIterations: 5_000)
}

struct EnginePolicyPropertyTests {
  /// No finding, every request finished or aborted, every usable frame back in the free queue with
  /// refcount 0, and the null block never handed out.
  static func checkEngineRun(_ scenario: Scenario) {
    let description = describe(scenario)
    var ended = EngineState(scenario: scenario)
    var findings: [Finding] = []
    ended.run(to: 400_000, observe: { findings += $0.findings })
    guard ended.isDone else {
      Issue.record("the run did not end within the step limit:\n\(description)")
      return
    }
    #expect(findings.isEmpty, "\(findings.map(\.detail))\n\(description)")
    #expect(ended.endReason == .allRequestsDone, "\(String(describing: ended.endReason))\n\(description)")
    #expect(ended.requests.allSatisfy { $0.status == .finished || $0.status == .aborted }, "\(description)")
    #expect(
      ended.requests.allSatisfy { $0.status != .finished || $0.output == $0.spec.output }, "\(description)")
    let pool = ended.pool
    #expect(pool.refs.allSatisfy { $0 == 0 }, "refs \(Array(pool.refs))\n\(description)")
    let usable = (0..<pool.count).filter { $0 != pool.reserved }
    #expect(pool.freeQueue.frames.sorted() == usable, "queue \(pool.freeQueue.frames)\n\(description)")
  }

  @Test(arguments: [PolicyID.vllmV1, .nanoVLLM])
  func randomScenariosRunClean(policy: PolicyID) async {
    await propertyCheck(count: 1_000 * propertyScale, input: tapeGenerator) { values in
      var tape = Tape(values)
      Self.checkEngineRun(randomEngineScenario(&tape, policy: policy))
    }
  }
}
