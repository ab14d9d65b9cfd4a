import ArgumentParser
import CAllocRef
import Foundation
import KVEngine
import KVScenario
import KVText
import KVView

/// `kvscope bench`: prints the speed figures of the README. Run it on a release build.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Measure allocator, whole-trace, seek and render speed, and the vLLM peer ratio (use a release build).",
    discussion:
      "Each benchmark prints its figure and its target. Nothing is asserted: figures are for reading."
  )

  enum Part: String, ExpressibleByArgument, CaseIterable {
    case alloc, step, load, trace, seek, render, peer, all
  }

  @Argument(
    help: "Which benchmark: alloc, step, load, trace, seek, render, peer (against vLLM's scheduler) or all.")
  var part: Part = .all

  @Option(help: "The Mooncake trace for `trace`, `seek` and `peer`.")
  var trace: String = "../shared/traces/mooncake-conversation.jsonl"

  @Option(help: "Requests of the trace to run (0 = all; for `peer`, the first \(Bench.peerDefaultLimit)).")
  var limit: Int = 0

  @OptionGroup(title: "Peer benchmark") var peerOptions: PeerOptions

  func run() throws {
    #if DEBUG
      print("note: this is a debug build; figures are meaningful only with `swift build -c release`")
    #endif
    if part == .alloc || part == .all { Self.allocator() }
    if part == .step || part == .all { Self.stepThroughAllocN() }
    if part == .render || part == .all { Self.render() }
    if part == .load || part == .all { Self.load(trace, limit: limit) }
    if part == .trace || part == .seek || part == .all {
      let scenario = try Self.mooncake(trace, limit: limit)
      var plainRun: Double?
      if part != .seek {
        plainRun = Self.wholeTrace(scenario)
        Self.wholeTrace(try Self.mooncake(trace, limit: limit, policy: .vllmV1))
      }
      if part != .trace { Self.seek(scenario, plainRun: plainRun) }
    }
    if part == .peer || part == .all {
      try Self.peer(trace, limit: limit, options: peerOptions, required: part == .peer)
    }
  }

  static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }

  /// Peak resident memory of this process so far, in MiB.
  static var peakMemoryMiB: Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
  }

  /// Nanoseconds per alloc + free pair on a pool half full of scattered frames, in the pool's own pair
  /// loop: with one check for a sharing snapshot before the loop, or (`checkingEach`) at every call, as
  /// the engine's steps make them.
  static func allocPairNanoseconds(frames: Int, pairs: Int, checkingEach: Bool = false) -> Double {
    var pool = PagePool(count: frames, checked: true)
    var generator = SplitMix64(state: 42)
    var held: [Int] = []
    for _ in 0..<frames { held.append(pool.alloc().frame) }
    for frame in held where generator.next() % 2 == 0 { _ = pool.free(frame) }
    let clock = ContinuousClock()
    let start = clock.now
    let checksum = checkingEach ? pool.allocFreePairsCheckingEach(pairs) : pool.allocFreePairs(pairs)
    let elapsed = clock.now - start
    if checksum == -1 { print(checksum) }
    return seconds(elapsed) * 1e9 / Double(pairs)
  }

  /// The same measure for the C reference (`Sources/CAllocRef`): the same algorithm and setup, its
  /// loop compiled with it.
  static func referencePairNanoseconds(frames: Int, pairs: Int) -> Double {
    var pool = kvref_pool()
    guard kvref_pool_init(&pool, Int64(frames)) == 0 else { return .nan }
    defer { kvref_pool_destroy(&pool) }
    var generator = SplitMix64(state: 42)
    var held: [Int64] = []
    for _ in 0..<frames { held.append(kvref_alloc(&pool)) }
    for frame in held where generator.next() % 2 == 0 { _ = kvref_free(&pool, frame) }
    let clock = ContinuousClock()
    var checksum: Int64 = 0
    let elapsed = clock.measure { checksum = kvref_pairs(&pool, Int64(pairs)) }
    if checksum == -1 { print(checksum) }
    return seconds(elapsed) * 1e9 / Double(pairs)
  }

  /// The median of `values`.
  static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
  }

  /// Swift's pool against the C reference, each measured in turn five times (the median is kept), at
  /// 1,000 and 1,000,000 frames; and the pair with a sharing check at every call, as steps pay it.
  static func allocator() {
    let pairs = 5_000_000
    var swift: [Int: [Double]] = [:]
    var checkingEach: [Int: [Double]] = [:]
    var reference: [Int: [Double]] = [:]
    for _ in 0..<5 {
      for frames in [1_000, 1_000_000] {
        swift[frames, default: []].append(allocPairNanoseconds(frames: frames, pairs: pairs))
        checkingEach[frames, default: []].append(
          allocPairNanoseconds(frames: frames, pairs: pairs, checkingEach: true))
        reference[frames, default: []].append(referencePairNanoseconds(frames: frames, pairs: pairs))
      }
    }
    let small = median(swift[1_000]!)
    let large = median(swift[1_000_000]!)
    let smallC = median(reference[1_000]!)
    let largeC = median(reference[1_000_000]!)
    for (frames, size, ns, c) in [("1,000", 1_000, small, smallC), ("1,000,000", 1_000_000, large, largeC)] {
      print(
        "alloc+free pair, \(frames) frames: "
          + String(
            format: "%6.1f ns; C reference %5.1f ns; Swift / C %5.2f x  (target <= 1.3 x)", ns, c, ns / c))
      print(
        String(
          format: "  checking for a sharing snapshot at every call, as a step does: %5.1f ns",
          median(checkingEach[size]!)))
    }
    print(
      String(
        format: "cost at 1,000,000 / 1,000 frames: Swift %5.2f x, C %5.2f x  (target <= 1.2 x)",
        large / small,
        largeC / smallC))
  }

  /// Steps through `alloc_n(n)` one step at a time, as the live view's → key does, and prints the
  /// cost of one step for growing n on one pool of 100,000 frames: flat when stepping inside an
  /// operation is linear.
  static func stepThroughAllocN() {
    let clock = ContinuousClock()
    var perStep: [Double] = []
    for count in [1_000, 10_000, 100_000] {
      let scenario = Scenario(
        name: "alloc_n benchmark", cache: CacheConfig(pages: 100_000, pageSize: 16),
        scheduler: SchedulerConfig(policy: .paged), ops: [.allocN(count)])
      var state = EngineState(scenario: scenario)
      let elapsed = clock.measure { while state.advance() {} }
      perStep.append(seconds(elapsed) * 1e6 / Double(state.step))
      print(
        String(
          format: "step through alloc_n(%d) one step at a time: %8.2f us per step", count, perStep.last!))
    }
    print(String(format: "ratio 100,000 / 1,000:  %6.2f x  (target <= 2 x: linear)", perStep[2] / perStep[0]))
  }

  static func mooncake(_ path: String, limit: Int, policy: PolicyID = .paged) throws -> Scenario {
    var options = MooncakeImport.Options()
    options.policy = policy
    if limit > 0 { options.limit = limit }
    do {
      return try MooncakeImport.scenario(path: path, options: options)
    } catch {
      Input.fail("\(error)")
    }
  }

  /// Loading the trace as a scenario: from the YAML its import writes, and directly (`--import`).
  static func load(_ path: String, limit: Int) {
    let clock = ContinuousClock()
    var imported: Scenario?
    let direct = clock.measure { imported = try? mooncake(path, limit: limit) }
    guard let scenario = imported else { return }
    let text = ScenarioYAML.text(scenario)
    var loaded: Scenario?
    let parsed = clock.measure { loaded = try? ScenarioLoader.parse(text, file: "bench.yaml") }
    print(
      String(
        format: "load a %d-request scenario from YAML (%.1f MB): %.2f s  (target < 0.5 s)",
        scenario.requests.count, Double(text.utf8.count) / 1e6, seconds(parsed)))
    if loaded != scenario { print("  the YAML reads back as another scenario: a loader bug") }
    print(
      String(
        format: "import the trace directly (check TRACE --import mooncake): %.2f s", seconds(direct)))
  }

  /// Runs `scenario` to its end once and prints the time; returns it, in seconds.
  @discardableResult
  static func wholeTrace(_ scenario: Scenario) -> Double {
    let clock = ContinuousClock()
    var state = EngineState(scenario: scenario)
    var findings = 0
    let elapsed = clock.measure {
      state.run(to: Int.max)
      findings = state.stats.findings
    }
    print(
      "whole trace under \(scenario.scheduler.policy) "
        + String(
          format:
            "(%d requests, %d frames of %d): %.2f s wall, %d steps, %d findings, peak memory %.0f MiB  (target: the whole check, load included, < 5 s; < 1 GiB)",
          scenario.requests.count, scenario.cache.pages, scenario.cache.pageSize, seconds(elapsed),
          state.step,
          findings, peakMemoryMiB))
    print(
      String(
        format: "  prefix hit rate %.1f%%, %d preemptions, peak %d frames in use",
        state.stats.prefixHitRate * 100, state.stats.preemptions, state.stats.peakFramesInUse))
    return seconds(elapsed)
  }

  /// Builds the seekable timeline of `scenario` (against a plain run of it, `plainRun` seconds when
  /// `wholeTrace` has just timed one), seeks to random steps, and steps back one step at a time from
  /// where a seek and single steps forward have led.
  static func seek(_ scenario: Scenario, plainRun: Double? = nil) {
    let clock = ContinuousClock()
    let plain =
      plainRun
      ?? seconds(
        clock.measure {
          var state = EngineState(scenario: scenario)
          state.run(to: Int.max)
        })
    var timeline: Timeline?
    let built = clock.measure { timeline = Timeline(scenario: scenario) }
    guard var timeline else { return }
    print(
      String(
        format:
          "timeline of %d steps built in %.2f s (%.2f x a plain run's %.2f s; target < 2 x) with %d snapshots every %d steps; peak memory %.0f MiB  (target < 1 GiB)",
        timeline.totalSteps, seconds(built), seconds(built) / plain, plain,
        timeline.checkpointCount, timeline.checkpointInterval, peakMemoryMiB))
    var generator = SplitMix64(state: 7)
    var seekTimes: [Double] = []
    for _ in 0..<40 {
      let target = Int(generator.next() % UInt64(timeline.totalSteps + 1))
      seekTimes.append(seconds(clock.measure { timeline.seek(to: target) }))
    }
    print(
      String(
        format: "seek to a random step: mean %.1f ms, worst %.1f ms over %d seeks  (target: worst < 50 ms)",
        seekTimes.reduce(0, +) * 1000 / Double(seekTimes.count), seekTimes.max()! * 1000, seekTimes.count))
    var backTimes: [Double] = []
    for _ in 0..<5 {
      timeline.seek(to: Int(generator.next() % UInt64(timeline.totalSteps + 1)))
      for _ in 0..<3_000 { timeline.move(.step, forward: true) }
      for _ in 0..<20 {
        backTimes.append(seconds(clock.measure { timeline.move(.step, forward: false) }))
      }
    }
    print(
      String(
        format:
          "step back one step, after a seek and 3,000 single steps forward: mean %.2f ms, worst %.2f ms over %d  (target < 5 ms)",
        backTimes.reduce(0, +) * 1000 / Double(backTimes.count), backTimes.max()! * 1000, backTimes.count))
  }

  /// One frame of the live view at 200x60, half way through a run of 400 requests, on pools of
  /// 100,000 and 1,000,000 frames.
  static func render() {
    for frames in [100_000, 1_000_000] { render(frames: frames) }
  }

  static func render(frames pages: Int) {
    var requests: [RequestSpec] = []
    for index in 0..<400 {
      requests.append(
        RequestSpec(id: "r\(index)", arrive: index / 50, prompt: .length(1_500 + index * 7), output: 50))
    }
    let scenario = Scenario(
      name: "render benchmark", cache: CacheConfig(pages: pages, pageSize: 16),
      scheduler: SchedulerConfig(policy: .paged, maxBatch: 256, prefixCache: true), requests: requests)
    var controller = LiveController(timeline: Timeline(scenario: scenario))
    _ = controller.run(command: "goto \(controller.timeline.totalSteps / 2)")
    let clock = ContinuousClock()
    let renders = 50
    var cells = 0
    let elapsed = clock.measure {
      for _ in 0..<renders { cells &+= controller.render(width: 200, height: 60).cells.count }
    }
    let playing = clock.measure {
      for _ in 0..<renders {
        _ = controller.run(command: "goto \(controller.timeline.current.step + 1)")
        cells &+= controller.render(width: 200, height: 60).cells.count
      }
    }
    print(
      String(
        format:
          "render 200x60 with %d frames: %.2f ms per frame; one step forward and render (play): %.2f ms  (target < 5 ms)",
        pages, seconds(elapsed) * 1000 / Double(renders), seconds(playing) * 1000 / Double(renders)))
  }
}
