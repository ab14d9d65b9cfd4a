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

  @Argument(help: "A scenario file (YAML), a trace (.kvtrace), or with --import a workload trace.")
  var file: String

  @Flag(help: "For a trace: use the lines up to the first bad one instead of failing.")
  var partial = false

  @Flag(help: "Print one JSON object: scenario, policy, steps, iterations, findings, final state and totals.")
  var json = false

  @Flag(help: "Print JSON Lines: one state per step, the state before any step first.")
  var states = false

  @Option(help: "Run the scenario under this policy instead of its own (\(Policies.names)).")
  var policy: String?

  @Flag(
    help: """
      Print JSON Lines for a differential test against an engine: the workload with its token ids, \
      then the state at the end of each iteration (block tables, free queue, refcounts, hashed blocks).
      """)
  var iterations = false

  @OptionGroup var direct: DirectImport

  func run() throws {
    if [json, states, iterations].filter({ $0 }).count > 1 {
      Input.fail("--json, --states and --iterations cannot be combined")
    }
    let source = direct.source(file, partial: partial, policy: policy)
    var scenario = source.scenario
    if let policy, direct.format == nil {
      scenario = Input.scenario(scenario, under: policy, file: file)
    }
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
    var output = OutputBuffer()
    if states { output.write(JSONText.line(StateRecord(state))) }
    // Without --states no step is observed: the state keeps the run's findings.
    Timeline.run(
      &state, to: Int.max, actions: source.actions,
      observe: states ? { step in output.write(JSONText.line(StateRecord(step))) } : nil)
    let findings = state.findingsSoFar
    if let trace = source.trace {
      for unreached in trace.unreachedActions(after: state) {
        Input.warn(
          "\(file):\(unreached.line): the action at step \(unreached.step) is never reached: the run ends at step \(unreached.lastStep)"
        )
      }
    }
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
  /// The first line of `--iterations`: the workload with its token ids, as a differential harness or
  /// the peer benchmark feeds it to a real engine.
  static func workloadLine(_ scenario: Scenario) -> String {
    JSONText.line(WorkloadRecord(scenario))
  }

  /// The workload, then one record per iteration: the last state of each, repeated over idle ones.
  func printIterations(_ scenario: Scenario) {
    var output = OutputBuffer()
    output.write(Self.workloadLine(scenario))
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

/// The totals of a run, under the names `check --json` and `compare --json` share.
struct RunTotals: Encodable {
  var policy: String
  var steps: Int
  var iterations: Int
  var endReason: String
  var decodedTokens: Int
  var prefilledTokens: Int
  var peakFramesInUse: Int
  var meanFramesInUse: Double
  var prefixHitRate: Double
  var prefixHitPages: Int
  var prefixHitTokens: Int
  var evictions: Int
  var preemptions: Int
  var tokensRecomputed: Int

  enum CodingKeys: String, CodingKey {
    case policy, steps, iterations, evictions, preemptions
    case endReason = "end_reason"
    case decodedTokens = "decoded_tokens"
    case prefilledTokens = "prefilled_tokens"
    case peakFramesInUse = "peak_frames_in_use"
    case meanFramesInUse = "mean_frames_in_use"
    case prefixHitRate = "prefix_hit_rate"
    case prefixHitPages = "prefix_hit_pages"
    case prefixHitTokens = "prefix_hit_tokens"
    case tokensRecomputed = "tokens_recomputed"
  }

  init(_ state: EngineState) {
    let stats = state.stats
    policy = state.policy.rawValue
    steps = state.step
    iterations = state.iteration
    endReason = state.endReason.map(Text.endReason) ?? ""
    decodedTokens = stats.decodedTokens
    prefilledTokens = stats.prefilledTokens
    peakFramesInUse = stats.peakFramesInUse
    meanFramesInUse = (stats.meanFramesInUse * 100).rounded() / 100
    prefixHitRate = (stats.prefixHitRate * 10_000).rounded() / 10_000
    prefixHitPages = stats.prefixHitPages
    prefixHitTokens = stats.prefixHitTokens
    evictions = stats.evictions
    preemptions = stats.preemptions
    tokensRecomputed = stats.tokensRecomputed
  }
}

/// The `--json` report of a run: the totals at the top level, with the findings and the final state.
struct CheckReport: Encodable {
  var scenario: String
  var totals: RunTotals
  var findings: [FindingRecord]
  var final: StateRecord

  enum CodingKeys: String, CodingKey {
    case scenario, findings, final
  }

  init(scenario: Scenario, final state: EngineState, findings: [Finding]) {
    self.scenario = scenario.name
    totals = RunTotals(state)
    self.findings = findings.map { FindingRecord($0, in: state) }
    final = StateRecord(state)
  }

  func encode(to encoder: Encoder) throws {
    try totals.encode(to: encoder)
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(scenario, forKey: .scenario)
    try container.encode(findings, forKey: .findings)
    try container.encode(final, forKey: .final)
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
    // Names come from the file (and the file name from the command line): nothing in them drives the
    // terminal.
    return lines.map { TerminalText.safe($0) }.joined(separator: "\n")
  }

  private static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
