import ArgumentParser
import Foundation
import KVEngine
import KVScenario

/// The options of `kvscope bench peer`: where vLLM's Python environment and the benchmark script are.
struct PeerOptions: ParsableArguments {
  @Option(
    help: """
      The Python of vLLM's environment (default: $KVSCOPE_VLLM_PYTHON, else \
      ~/.cache/kvscope-differential/vllm-venv/bin/python).
      """)
  var python: String?

  @Option(help: "vLLM's side of the peer benchmark (run from the repository root, or give its path).")
  var peerScript = "Tests/Differential/peer_bench.py"

  @Flag(
    help: """
      Set up vLLM's environment first: setup-vllm-venv.sh next to the script downloads CPU PyTorch and \
      vllm==0.33.0 from the package index (once).
      """)
  var download = false

  /// The Python to run: --python, else $KVSCOPE_VLLM_PYTHON, else the environment the set-up script makes.
  var pythonPath: String {
    if let python { return python }
    let environment = ProcessInfo.processInfo.environment
    if let python = environment["KVSCOPE_VLLM_PYTHON"], !python.isEmpty { return python }
    let cache =
      environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache"
    return cache + "/kvscope-differential/vllm-venv/bin/python"
  }

  /// The set-up script: next to the benchmark script.
  var setupScript: String {
    NSString(string: NSString(string: peerScript).deletingLastPathComponent).appendingPathComponent(
      "setup-vllm-venv.sh")
  }
}

/// Why the peer benchmark has no figure, with the lines that explain it.
struct PeerSkipped: Error {
  var reason: String
  var details: [String] = []
}

/// What `peer_bench.py` prints: vLLM's scheduler run to the end on the workload.
struct PeerResult: Decodable {
  var engine: String
  var version: String
  var iterations: Int
  var seconds: Double
  var requests: Int
}

extension Bench {
  /// Requests of the trace `peer` runs when --limit is 0: vLLM's side takes about 20 s on them, import
  /// included.
  static let peerDefaultLimit = 1_000

  /// vLLM's time per iteration over kvscope's that the issue asks for.
  static let peerTarget = 20.0

  /// kvscope's `vllm-v1` policy against vLLM 0.33.0's own scheduler and block pool (Python, from the
  /// wheel), on the same slice of the trace: seconds per iteration of each, and their ratio. When vLLM's
  /// side cannot run, says why; that ends the command with status 1 only when `required`.
  static func peer(_ path: String, limit: Int, options: PeerOptions, required: Bool) throws {
    do {
      try measurePeer(path, limit: limit > 0 ? limit : peerDefaultLimit, options: options)
    } catch let skipped as PeerSkipped {
      print("peer: skipped: \(skipped.reason)")
      for line in skipped.details { print("  \(line)") }
      if required { throw ExitCode(1) }
    }
  }

  private static func measurePeer(_ path: String, limit: Int, options: PeerOptions) throws {
    guard FileManager.default.fileExists(atPath: options.peerScript) else {
      throw PeerSkipped(
        reason:
          "no \(options.peerScript) here: run kvscope from the repository root or pass --peer-script PATH")
    }
    let python = try peerPython(options)
    let scenario = try mooncake(path, limit: limit, policy: .vllmV1)
    let runs = 3
    let (iterations, kvscopeSeconds) = timeEngine(scenario, runs: runs)
    print(
      "peer: the first \(scenario.requests.count) requests of \(URL(fileURLWithPath: path).lastPathComponent) under vllm-v1, \(scenario.cache.pages) frames of \(scenario.cache.pageSize) tokens"
    )
    print(
      String(
        format: "  kvscope:        %d iterations in %.3f s (median of %d runs): %8.2f us per iteration",
        iterations, kvscopeSeconds, runs, kvscopeSeconds * 1e6 / Double(iterations)))
    let (vllm, wall) = try runVLLM(
      scenario, python: python, script: options.peerScript, maxIterations: iterations * 4 + 1_000)
    print(
      "  vLLM \(vllm.version) (Python): "
        + String(
          format:
            "%d iterations in %.3f s (scheduling loop only; %.0f s with import and load): %8.2f us per iteration",
          vllm.iterations, vllm.seconds, wall, vllm.seconds * 1e6 / Double(max(vllm.iterations, 1))))
    let agree = vllm.iterations == iterations && vllm.requests == scenario.requests.count
    if !agree {
      print(
        "  !!! ITERATION COUNTS DIFFER: kvscope \(iterations) iterations of \(scenario.requests.count) requests, vLLM \(vllm.iterations) of \(vllm.requests): the vllm-v1 policy does not match vLLM on this workload (Tests/Differential/run-vllm.sh finds where); the ratio below is per iteration of each"
      )
    }
    let ratio = (vllm.seconds / Double(max(vllm.iterations, 1))) / (kvscopeSeconds / Double(iterations))
    print(
      String(format: "  vLLM / kvscope per iteration: %.1f x  (target >= %.0f x): ", ratio, peerTarget)
        + (agree ? (ratio >= peerTarget ? "met" : "missed") : "not comparable: the runs differ"))
  }

  /// The Python of vLLM's environment, set up first with --download.
  private static func peerPython(_ options: PeerOptions) throws -> String {
    var python = options.pythonPath
    if options.download {
      fflush(nil)
      let setup = try ChildRun.run("/bin/bash", [options.setupScript], keepStandardError: false)
      guard setup.status == 0 else {
        throw PeerSkipped(
          reason:
            "setting up vLLM's environment with \(options.setupScript) failed (\(setup.ending)); its messages are above"
        )
      }
      let directory = setup.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
      if options.python == nil && !directory.isEmpty { python = directory + "/bin/python" }
    }
    guard FileManager.default.isExecutableFile(atPath: python) else {
      throw PeerSkipped(
        reason: "no vLLM environment: \(python) does not exist",
        details: [
          "`kvscope bench peer --download` sets it up (\(options.setupScript): CPU PyTorch and vllm==0.33.0 from the package index, once),",
          "or pass --python PATH or set KVSCOPE_VLLM_PYTHON to the Python of an environment with vllm 0.33.0.",
        ])
    }
    return python
  }

  /// Iterations of `scenario` and the median seconds of `runs` runs of kvscope's engine over them.
  private static func timeEngine(_ scenario: Scenario, runs: Int) -> (iterations: Int, seconds: Double) {
    let clock = ContinuousClock()
    var times: [Double] = []
    var iterations = 0
    for _ in 0..<runs {
      var state = EngineState(scenario: scenario)
      let elapsed = clock.measure { state.run(to: Int.max) }
      times.append(seconds(elapsed))
      iterations = state.iteration
    }
    return (iterations, median(times))
  }

  /// Runs `peer_bench.py` on `scenario`'s workload (written as `check --iterations` writes it): its
  /// result, and the wall time of the whole Python process.
  private static func runVLLM(_ scenario: Scenario, python: String, script: String, maxIterations: Int)
    throws -> (PeerResult, wall: Double)
  {
    let workload = ChildRun.temporaryPath(".json")
    defer { try? FileManager.default.removeItem(atPath: workload) }
    do {
      try Data(Check.workloadLine(scenario).utf8).write(to: URL(fileURLWithPath: workload))
    } catch {
      throw PeerSkipped(reason: "cannot write the workload to \(workload): \(error.localizedDescription)")
    }
    fflush(nil)
    let clock = ContinuousClock()
    let start = clock.now
    let child = try ChildRun.run(python, [script, workload, "--max-iterations", String(maxIterations)])
    let wall = clock.now - start
    let lastLine = child.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
    guard child.status == 0,
      let result = try? JSONDecoder().decode(PeerResult.self, from: Data(lastLine.utf8))
    else {
      let what = child.status == 0 ? "printed no result line" : "failed (\(child.ending))"
      let tail = child.tail
      let missing = tail.contains { $0.contains("ModuleNotFoundError") || $0.contains("ImportError") }
      throw PeerSkipped(
        reason: "vLLM's side (\(python) \(script)) \(what)"
          + (missing
            ? ": it lacks a module; `kvscope bench peer --download` sets up an environment with vllm 0.33.0"
            : ""),
        details: tail)
    }
    return (result, seconds(wall))
  }
}

/// A program run to its end with its standard output (and standard error, unless it goes to ours) kept.
struct ChildRun {
  var status: Int32
  var signaled: Bool
  var standardOutput: String
  var standardError: String

  /// How it ended, in words.
  var ending: String { signaled ? "killed by signal \(status)" : "exit status \(status)" }

  /// The last lines of its standard error (else of its standard output), for a failure message.
  var tail: [String] {
    let text = standardError.isEmpty ? standardOutput : standardError
    return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(12).map(String.init)
  }

  /// Runs `program` with `arguments`, output to temporary files (no pipe to fill up); a program that
  /// cannot start is a `PeerSkipped`.
  static func run(_ program: String, _ arguments: [String], keepStandardError: Bool = true) throws -> ChildRun
  {
    let outputPath = temporaryPath(".out")
    let errorPath = temporaryPath(".err")
    defer {
      try? FileManager.default.removeItem(atPath: outputPath)
      try? FileManager.default.removeItem(atPath: errorPath)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    guard FileManager.default.createFile(atPath: outputPath, contents: nil),
      FileManager.default.createFile(atPath: errorPath, contents: nil),
      let output = FileHandle(forWritingAtPath: outputPath),
      let error = FileHandle(forWritingAtPath: errorPath)
    else {
      throw PeerSkipped(reason: "cannot create temporary files in \(NSTemporaryDirectory())")
    }
    process.standardOutput = output
    if keepStandardError { process.standardError = error }
    do {
      try process.run()
    } catch {
      throw PeerSkipped(reason: "cannot run \(program): \(error.localizedDescription)")
    }
    process.waitUntilExit()
    try? output.close()
    try? error.close()
    return ChildRun(
      status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
      standardOutput: read(outputPath), standardError: read(errorPath))
  }

  /// A fresh path in the temporary directory, ending in `suffix`.
  static func temporaryPath(_ suffix: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "kvscope-peer-\(UUID().uuidString)\(suffix)"
    ).path
  }

  private static func read(_ path: String) -> String {
    String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
  }
}
