import ArgumentParser
import Foundation
import KVEngine
import KVScenario
import KVText

/// `kvscope check FILE`: runs a scenario to the end without a terminal.
struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a scenario to the end and report what the checker found.",
    discussion: "Exit status: 0 with no findings, 1 with findings, 2 on bad input."
  )

  @Argument(help: "A scenario file (YAML) or a trace (.kvtrace).")
  var file: String

  @Flag(help: "For a trace: use the lines up to the first bad one instead of failing.")
  var partial = false

  @Flag(help: "Print one JSON object: scenario, policy, steps, iterations, findings, final state and totals.")
  var json = false

  @Flag(help: "Print JSON Lines: one state per step, the state before any step first.")
  var states = false

  @Flag(
    help: """
      Print JSON Lines for a differential test against an engine: the workload with its token ids, \
      then the state at the end of each iteration (block tables, free queue, refcounts, hashed blocks).
      """)
  var iterations = false

  func run() throws {
    if [json, states, iterations].filter({ $0 }).count > 1 {
      Input.fail("--json, --states and --iterations cannot be combined")
    }
    let source = Input.source(file, partial: partial)
    let scenario = source.scenario
    if iterations {
      if scenario.isAllocatorOnly {
        Input.fail("\(file): --iterations needs a scheduler scenario (with `requests`)")
      }
      if !source.actions.isEmpty {
        Input.fail("\(file): --iterations needs a scenario without recorded actions")
      }
      return printIterations(scenario)
    }
    var state = EngineState(scenario: scenario)
    var findings: [Finding] = []
    var output = OutputBuffer()
    let printStates = states
    if printStates { output.write(JSONText.line(StateRecord(state))) }
    Timeline.run(
      &state, to: Int.max, actions: source.actions,
      observe: { step in
        if !step.findings.isEmpty { findings += step.findings }
        if printStates { output.write(JSONText.line(StateRecord(step))) }
      })
    if json {
      output.write(JSONText.line(CheckReport(scenario: scenario, final: state, findings: findings)))
    } else if !states {
      output.write(CheckReport.summary(scenario: scenario, file: file, final: state, findings: findings))
    }
    output.flush()
    if !findings.isEmpty { throw ExitCode(1) }
  }
}

extension Check {
  /// The workload, then one record per iteration: the last state of each, repeated over idle ones.
  func printIterations(_ scenario: Scenario) {
    var output = OutputBuffer()
    output.write(JSONText.line(WorkloadRecord(scenario)))
    var state = EngineState(scenario: scenario)
    var previous = state
    Timeline.run(
      &state, to: Int.max, actions: [:],
      observe: { step in
        for iteration in previous.iteration..<step.iteration {
          output.write(JSONText.line(IterationRecord(previous, iteration: iteration)))
        }
        previous = step
      })
    output.flush()
  }
}

/// The `--json` report of a run.
struct CheckReport: Encodable {
  var scenario: String
  var policy: String
  var steps: Int
  var iterations: Int
  var findings: [FindingRecord]
  var final: StateRecord
  var endReason: String
  var decodedTokens: Int
  var prefilledTokens: Int
  var peakFramesInUse: Int
  var meanFramesInUse: Double
  var prefixHitRate: Double
  var prefixHitPages: Int
  var evictions: Int
  var preemptions: Int
  var tokensRecomputed: Int

  enum CodingKeys: String, CodingKey {
    case scenario, policy, steps, iterations, findings, final, evictions, preemptions
    case endReason = "end_reason"
    case decodedTokens = "decoded_tokens"
    case prefilledTokens = "prefilled_tokens"
    case peakFramesInUse = "peak_frames_in_use"
    case meanFramesInUse = "mean_frames_in_use"
    case prefixHitRate = "prefix_hit_rate"
    case prefixHitPages = "prefix_hit_pages"
    case tokensRecomputed = "tokens_recomputed"
  }

  init(scenario: Scenario, final state: EngineState, findings: [Finding]) {
    let stats = state.stats
    self.scenario = scenario.name
    policy = scenario.scheduler.policy.rawValue
    steps = state.step
    iterations = state.iteration
    self.findings = findings.map { FindingRecord($0, in: state) }
    final = StateRecord(state)
    endReason = state.endReason.map(Text.endReason) ?? ""
    decodedTokens = stats.decodedTokens
    prefilledTokens = stats.prefilledTokens
    peakFramesInUse = stats.peakFramesInUse
    meanFramesInUse = (stats.meanFramesInUse * 100).rounded() / 100
    prefixHitRate = (stats.prefixHitRate * 10_000).rounded() / 10_000
    prefixHitPages = stats.prefixHitPages
    evictions = stats.evictions
    preemptions = stats.preemptions
    tokensRecomputed = stats.tokensRecomputed
  }

  /// The readable summary `check` prints.
  static func summary(scenario: Scenario, file: String, final state: EngineState, findings: [Finding])
    -> String
  {
    let stats = state.stats
    let config = scenario.scheduler
    var policy = config.policy.rawValue
    for key in config.policyType.keys {
      switch key {
      case .maxBatch: policy += ", max_batch \(config.maxBatch)"
      case .decode: policy += ", decode \(config.decode.rawValue)"
      case .prefixCache: policy += ", prefix_cache \(config.prefixCache)"
      case .onOOM: policy += ", on_oom \(config.onOOM.rawValue)"
      case .maxBatchedTokens: policy += ", max_batched_tokens \(config.maxBatchedTokens)"
      }
    }
    var lines = [
      "scenario:    \(scenario.name) (\(file))",
      "cache:       \(scenario.cache.pages) pages x \(scenario.cache.pageSize) tokens",
    ]
    if scenario.isAllocatorOnly {
      lines += [
        "ops:         \(scenario.ops?.count ?? 0) operations in \(state.step) steps",
        "frames:      \(state.pool.usedCount) in use at the end, peak \(stats.peakFramesInUse)",
      ]
    } else {
      lines += [
        "policy:      \(policy)",
        "steps:       \(state.step) in \(state.iteration) iterations (\(state.endReason.map(Text.endReason) ?? "not finished"))",
        "tokens:      \(stats.prefilledTokens) prefilled, \(stats.decodedTokens) decoded",
        "frames:      peak \(stats.peakFramesInUse) in use, mean \(format(stats.meanFramesInUse))",
        "prefix:      \(stats.prefixHitPages) page hits, hit rate \(format(stats.prefixHitRate * 100))%, \(stats.evictions) evictions",
        "preemptions: \(stats.preemptions), \(stats.tokensRecomputed) tokens recomputed",
      ]
    }
    if findings.isEmpty {
      lines.append("findings:    none")
    } else {
      lines.append("findings:    \(findings.count)")
      for finding in findings {
        lines.append("  step \(finding.step): \(state.describe(finding))")
      }
    }
    return lines.joined(separator: "\n")
  }

  private static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
