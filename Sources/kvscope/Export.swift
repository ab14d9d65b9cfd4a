import ArgumentParser
import Foundation
import KVEngine
import KVExport

/// `kvscope export svg|cast`: files for slides and web pages.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a picture of a step (SVG) or a recording of a range of steps (asciinema).",
    subcommands: [ExportSVG.self, ExportCast.self]
  )
}

/// What both exports read: the file, a trace's partial lines, another policy.
struct ExportInput: ParsableArguments {
  @Argument(help: "A scenario file (YAML) or a trace (.kvtrace).")
  var file: String

  @Flag(help: "For a trace: use the lines up to the first bad one instead of failing.")
  var partial = false

  @Option(help: "Run under this policy instead of the scenario's.")
  var policy: String?

  @Option(
    name: .shortAndLong, help: "Write the file here, replacing it whole (default or '-': standard output).")
  var output: String?

  /// The run, with its recorded actions for a trace (after checking that the output can be written).
  func timeline() -> Timeline {
    checkOutput()
    let source = Input.source(file, partial: partial)
    var scenario = source.scenario
    if let policy { scenario = Input.scenario(scenario, under: policy, file: file) }
    return Timeline(scenario: scenario, actions: source.actions)
  }

  /// `step` checked against the run, named `option` in the message.
  func checked(_ step: Int, _ option: String, in timeline: Timeline) -> Int {
    guard (0...timeline.totalSteps).contains(step) else {
      Input.fail("\(file): \(option) \(step) is outside the run: steps go from 0 to \(timeline.totalSteps)")
    }
    return step
  }

  /// Writes `text` to the output, or to standard output.
  func write(_ text: String) {
    Input.write(text, to: output == "-" ? nil : output)
  }

  /// Fails when the output's folder does not exist or the output is a folder.
  func checkOutput() {
    guard let output, output != "-" else { return }
    let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
    var isFolder: ObjCBool = false
    if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) || !isFolder.boolValue {
      Input.fail("cannot write \(output): the folder \(folder) does not exist")
    }
    if FileManager.default.fileExists(atPath: output, isDirectory: &isFolder), isFolder.boolValue {
      Input.fail("cannot write \(output): it is a folder")
    }
  }
}

/// `kvscope export svg FILE [--step N] [-o step.svg]`.
struct ExportSVG: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "svg",
    abstract: "Write an SVG picture of the cache at a step: page tables, frames, free mask, refs.",
    discussion: """
      The picture shows each request's page table with an arrow from every logical page to its frame, the
      frames coloured by owner (a shared frame split between its owners, free frames plain) with their
      refcounts and free bits, the free mask in binary (the free queue, head first, under vllm-v1 and
      nano-vllm), the refs and a legend. Steps are numbered as in `kvscope frame` and the live view (0 is
      the state before any step). A large pool is drawn up to frame 63, six page tables and eight pages
      each; the picture says what it left out.
      """
  )

  @OptionGroup var input: ExportInput

  @Option(help: "The step to draw (default: the last step).")
  var step: Int?

  func run() throws {
    let timeline = input.timeline()
    let step = input.checked(step ?? timeline.totalSteps, "--step", in: timeline)
    let state = timeline.state(at: step)
    input.write(CacheSVG(CacheDiagram(state: state, totalSteps: timeline.totalSteps)).xml)
  }
}

/// `kvscope export cast FILE [--from N] [--to M] [--size WxH] [--delay S] [-o walk.cast]`.
struct ExportCast: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cast",
    abstract:
      "Write an asciinema (asciicast v2) recording of the live view stepped from one step to another.",
    discussion: """
      Each frame is the screen `kvscope frame --step K --size WxH` draws, in the live view's colours, shown
      for --delay seconds. Play it with `asciinema play FILE`, or embed it in a web page with
      asciinema-player. The header's timestamp is SOURCE_DATE_EPOCH when set (for reproducible files),
      else the current time.
      """
  )

  @OptionGroup var input: ExportInput

  @Option(help: "The first step (default 0).")
  var from: Int = 0

  @Option(help: "The last step (default: the last step of the run).")
  var to: Int?

  @Option(help: "Screen size as WIDTHxHEIGHT.")
  var size: String = "120x40"

  @Option(help: "Seconds each step stays on screen.")
  var delay: Double = 0.5

  @Flag(help: "Draw with ASCII characters only.")
  var ascii = false

  @Flag(help: "No colours (bold, dim and reverse only).")
  var noColor = false

  func run() throws {
    guard let (width, height) = Input.size(size) else {
      Input.fail("--size must look like 120x40 (1 to 1000 each), got '\(size)'")
    }
    guard delay.isFinite, delay > 0, delay <= 3600 else {
      Input.fail("--delay must be a number of seconds above 0 and at most 3600, got \(delay)")
    }
    let timeline = input.timeline()
    let first = input.checked(from, "--from", in: timeline)
    let last = input.checked(to ?? timeline.totalSteps, "--to", in: timeline)
    guard first <= last else { Input.fail("--from \(first) is after --to \(last)") }
    var export = CastExport(width: width, height: height, delay: delay)
    export.unicode = !ascii
    export.colored = !noColor
    input.write(export.cast(timeline, steps: first...last, timestamp: Self.timestamp()).text)
  }

  /// SOURCE_DATE_EPOCH when set to a number, else now.
  static func timestamp() -> Int {
    if let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], let value = Int(text), value >= 0
    {
      return value
    }
    return Int(Date().timeIntervalSince1970)
  }
}
