import ArgumentParser
import Foundation
import KVEngine
import KVScenario
import KVText
import KVView

/// `kvscope compare FILE --policy A --policy B`, or `kvscope compare A.yaml B.yaml`: the same requests
/// in several runs, and where they part ways.
struct Compare: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the same requests under several policies or settings and show where they part ways.",
    discussion: """
      One file with --policy twice or more runs it under each policy; several files (the same requests,
      other settings such as the pool size) run each as it is, or under each --policy. With a terminal:
      a live view, one column per run. Without one, or with --table: a table; --json: one JSON object.
      Exit status: 0, or 1 when a run could not run or its checker found something; 2 on bad input.
      """
  )

  @Argument(help: "Scenario files (YAML); traces give their scenario.")
  var files: [String]

  @Option(
    name: .customLong("policy"), help: "Run under this policy (\(Policies.names)); repeat for more runs.")
  var policies: [String] = []

  @Flag(help: "Print one JSON object: the runs with their totals and latencies, and the divergences.")
  var json = false

  @Flag(help: "Print the comparison table even on a terminal.")
  var table = false

  @OptionGroup var display: DisplayOptions

  func run() throws {
    if json && table { Input.fail("--json and --table cannot be combined") }
    let plan = ComparePlan(files: files, policies: policies.map(Input.policy))
    let live = !json && !table && isatty(STDOUT_FILENO) == 1
    // The live view steps each run: one run gives both its record and its timeline.
    let runs = plan.runs.map { CompareRun($0, steppable: live) }
    let ran = runs.compactMap(\.record)
    let comparison = Comparison(runs: ran)
    let labels = runs.filter { $0.record != nil }.map(\.label)
    if live && ran.count >= 2 {
      for run in runs where run.error != nil { Input.warn("\(run.label) did not run: \(run.error!)") }
      let timelines = runs.compactMap(\.timeline)
      try ComparePlay.run(
        CompareController(comparison: comparison, timelines: timelines, labels: labels), display: display)
      return
    }
    var output = OutputBuffer()
    if json {
      output.write(JSONText.line(CompareReport(runs: runs, comparison: comparison, labels: labels)))
    } else {
      output.write(CompareReport.table(runs: runs, comparison: comparison, labels: labels))
    }
    output.flush()
    let failed = runs.contains { $0.record == nil || !($0.record?.findings.isEmpty ?? true) }
    if failed { throw ExitCode(1) }
  }
}

/// The runs a command line asks for: each file under each policy (or its own).
struct ComparePlan {
  struct Run {
    var label: String
    var file: String
    var scenario: Scenario
  }

  var runs: [Run] = []

  init(files: [String], policies: [PolicyID]) {
    guard !files.isEmpty else { Input.fail("compare needs a scenario file") }
    for file in files {
      let source = Input.source(file, partial: false)
      if !source.actions.isEmpty {
        Input.fail("\(file): a trace's recorded actions are not compared; compare its scenario file instead")
      }
      if source.scenario.isAllocatorOnly {
        Input.fail("\(file): compare needs a scheduler scenario (with `requests`)")
      }
      let base = URL(fileURLWithPath: file).lastPathComponent
      if policies.isEmpty {
        let policy = source.scenario.scheduler.policy
        runs.append(
          Run(
            label: files.count > 1 ? "\(base) (\(policy))" : "\(policy)", file: file,
            scenario: source.scenario))
      }
      for policy in policies {
        let label = files.count > 1 ? "\(base) (\(policy))" : "\(policy)"
        runs.append(Run(label: label, file: file, scenario: source.scenario.under(policy)))
      }
    }
    guard runs.count >= 2 else {
      Input.fail("compare needs at least two runs: give --policy twice, or two scenario files")
    }
    // The runs must be of the same requests.
    let first = runs[0]
    for run in runs.dropFirst() where run.scenario.requests != first.scenario.requests {
      let a = first.scenario.requests
      let b = run.scenario.requests
      let index =
        zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
      let what: String
      if index >= min(a.count, b.count) {
        what = "\(first.file) has \(a.count) requests, \(run.file) \(b.count)"
      } else if a[index].id != b[index].id {
        what = "request \(index + 1) is `\(a[index].id)` in one and `\(b[index].id)` in the other"
      } else {
        let x = a[index]
        let y = b[index]
        let field =
          x.arrive != y.arrive
          ? "arrive \(x.arrive) and \(y.arrive)"
          : x.output != y.output
            ? "output \(x.output) and \(y.output)"
            : "prompt of \(x.prompt.count) and \(y.prompt.count) tokens"
              + (x.prompt.count == y.prompt.count ? " (other tokens)" : "")
        what = "request `\(x.id)` differs: \(field)"
      }
      Input.fail("\(first.file) and \(run.file) do not run the same requests: \(what)")
    }
  }
}

/// One run: its record, or why it could not run.
struct CompareRun {
  var label: String
  var file: String
  var scenario: Scenario
  var record: RunRecord?
  /// For the live view (`steppable`), the timeline built in the same run as the record.
  var timeline: Timeline?
  var error: String?

  init(_ run: ComparePlan.Run, steppable: Bool) {
    label = run.label
    file = run.file
    scenario = run.scenario
    if let violation = run.scenario.violation {
      error = "\(run.file): \(run.scenario.message(violation))"
    } else if steppable {
      (record, timeline) = RunRecord.withTimeline(run.scenario)
    } else {
      record = RunRecord(scenario: run.scenario)
    }
  }
}

/// The comparison as JSON, and as a table.
struct CompareReport: Encodable {
  struct Latency: Encodable {
    var p50: Int
    var p90: Int
    var p99: Int
    var max: Int
    var count: Int

    init?(_ p: Percentiles?) {
      guard let p else { return nil }
      (p50, p90, p99, max, count) = (p.p50, p.p90, p.p99, p.max, p.count)
    }
  }

  struct Run: Encodable {
    var label: String
    var file: String
    var error: String?
    var totals: RunTotals?
    var findings: Int
    var admission: Latency?
    var firstToken: Latency?
    var finish: Latency?

    enum CodingKeys: String, CodingKey {
      case label, file, error, findings, admission, finish
      case firstToken = "first_token"
    }

    func encode(to encoder: Encoder) throws {
      try totals?.encode(to: encoder)
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(label, forKey: .label)
      try container.encode(file, forKey: .file)
      try container.encodeIfPresent(error, forKey: .error)
      try container.encode(findings, forKey: .findings)
      try container.encodeIfPresent(admission, forKey: .admission)
      try container.encodeIfPresent(firstToken, forKey: .firstToken)
      try container.encodeIfPresent(finish, forKey: .finish)
    }
  }

  struct Divergence: Encodable {
    var iteration: Int
    /// One sentence per run that ran, in the order of `labels`.
    var runs: [String]
  }

  var runs: [Run]
  var labels: [String]
  var comparesBlocks: Bool
  var divergenceCount: Int
  /// The first 1,000 divergences.
  var divergences: [Divergence]

  enum CodingKeys: String, CodingKey {
    case runs, labels, divergences
    case comparesBlocks = "compares_blocks"
    case divergenceCount = "divergence_count"
  }

  init(runs: [CompareRun], comparison: Comparison, labels: [String]) {
    self.runs = runs.map { run in
      let latencies = run.record?.latencies
      return Run(
        label: run.label, file: run.file, error: run.error, totals: run.record.map { RunTotals($0.final) },
        findings: run.record?.findings.count ?? 0, admission: Latency(latencies?.admission),
        firstToken: Latency(latencies?.firstToken), finish: Latency(latencies?.finish))
    }
    self.labels = labels
    comparesBlocks = comparison.comparesBlocks
    divergenceCount = comparison.divergences.count
    divergences = comparison.divergences.prefix(1_000).map { divergence in
      Divergence(
        iteration: divergence.iteration,
        runs: comparison.sentences(divergence))
    }
  }

  /// The plain-text table `compare` prints without a terminal.
  static func table(runs: [CompareRun], comparison: Comparison, labels: [String]) -> String {
    let name = runs.first?.scenario.name ?? ""
    var lines = ["compare: \(name), \(runs.count) runs"]
    func cells(_ value: (RunRecord) -> String) -> [String] { runs.map { $0.record.map(value) ?? "-" } }
    func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
    func latency(_ p: Percentiles?) -> String { p.map { "\($0.p50)/\($0.p90)/\($0.p99)/\($0.max)" } ?? "-" }
    func end(_ record: RunRecord) -> String {
      switch record.final.endReason {
      case .allRequestsDone?, .allOperationsDone?: return "done"
      case .stalled(let unfinished)?: return "stalled, \(unfinished) left"
      case .iterationLimit?: return "iteration limit"
      case nil: return "not finished"
      }
    }
    let rows: [(String, [String])] = [
      ("", runs.map(\.label)),
      ("iterations", cells { "\($0.final.iteration)" }),
      ("prefix hit rate", cells { percent($0.final.stats.prefixHitRate) }),
      ("prefix hit tokens", cells { "\($0.final.stats.prefixHitTokens)" }),
      ("preemptions", cells { "\($0.final.stats.preemptions)" }),
      ("tokens recomputed", cells { "\($0.final.stats.tokensRecomputed)" }),
      ("peak frames in use", cells { "\($0.final.stats.peakFramesInUse)" }),
      ("mean frames in use", cells { String(format: "%.1f", $0.final.stats.meanFramesInUse) }),
      ("iterations from arrival", runs.map { _ in "p50/p90/p99/max" }),
      ("  to admission", cells { latency($0.latencies.admission) }),
      ("  to first token", cells { latency($0.latencies.firstToken) }),
      ("  to finish", cells { latency($0.latencies.finish) }),
      ("end", cells(end)),
      ("findings", cells { "\($0.findings.count)" }),
    ]
    let width = 24
    let column = 2 + (rows.flatMap(\.1).map(\.count).max() ?? 0)
    for (title, cells) in rows {
      lines.append(
        title.padding(toLength: width, withPad: " ", startingAt: 0)
          + cells.map { String(repeating: " ", count: max(0, column - $0.count)) + $0 }.joined())
    }
    for run in runs where run.error != nil { lines.append("\(run.label) did not run: \(run.error!)") }
    for run in runs {
      guard let record = run.record, let finding = record.findings.first else { continue }
      lines.append("\(run.label): step \(finding.step): \(record.final.describe(finding))")
    }
    if let first = comparison.divergences.first {
      lines.append(
        "first divergence at iteration \(first.iteration) (\(comparison.divergences.count) iterations differ):"
      )
      for (label, sentence) in zip(labels, comparison.sentences(first)) {
        lines.append("  \(label): \(sentence)")
      }
    } else if comparison.runs.count >= 2 {
      lines.append("no divergence: the runs decide the same at every iteration")
    }
    return lines.joined(separator: "\n")
  }
}
