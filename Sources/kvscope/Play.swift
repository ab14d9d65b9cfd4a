import ArgumentParser
import Foundation
import KVEngine
import KVScenario
import KVTerminal
import KVText
import KVView

/// `kvscope FILE` / `kvscope play FILE`: the live view.
struct Play: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Open a scenario in the live view (the default command).",
    discussion: "Keys: ? in the view lists them all. q quits."
  )

  @Argument(help: "A scenario file (YAML), a trace (.kvtrace), or with --import a workload trace.")
  var file: String

  @Option(
    help:
      "Record a trace (JSON Lines) to this file from the start. `r` in the view stops and starts recording.")
  var record: String?

  @Flag(help: "For a trace: use the lines up to the first bad one instead of failing.")
  var partial = false

  @OptionGroup var direct: DirectImport
  @Flag(help: "Predict, then reveal: ask before each step whose result can be worked out (Q in the view).")
  var quiz = false

  @OptionGroup var display: DisplayOptions

  func run() throws {
    let terminal = LiveSession.terminal(display)
    let opening = ViewOpening(terminal: terminal, title: file)
    let read = opening.read { () throws(Input.Failure) in try direct.read(file, partial: partial) }
    let timeline = opening.build(read.value.scenario, actions: read.value.actions)
    var controller = LiveController(timeline: timeline)
    if quiz { controller.startQuiz() }
    try LiveSession.run(controller, on: terminal, display: display, record: record, notes: read.notes)
  }
}

/// The live view's loop: render, draw, read a key, react. The terminal is restored on every exit.
enum LiveSession {
  /// The terminal of the live view, opened before the file is read: without one, the command exits with
  /// status 2 (and no trace file is created).
  static func terminal(_ display: DisplayOptions) -> Terminal {
    ViewTerminal.open(
      display: display, view: "the live view",
      instead:
        "Use `kvscope check FILE` for a summary or `kvscope frame FILE --step N` for the screen as text.")
  }

  /// Runs the view on `terminal` until it quits; `notes` about the file are printed once the terminal is
  /// restored.
  static func run(
    _ controller: LiveController, on terminal: Terminal, display: DisplayOptions, record: String? = nil,
    notes: [String] = []
  ) throws {
    var controller = controller
    let recording = LiveRecording(path: record, name: controller.timeline.scenario.name)
    // However the loop ends: finish an open trace, restore the terminal, and only then say where the
    // trace went, so that the line lands on the normal screen and stays there.
    defer {
      let line = recording.close(controller.timeline)
      terminal.close()
      notes.forEach(Input.warn)
      if let line { Input.warn(line) }
      if let quiz = controller.quizSummary { print(quiz) }
    }
    if record != nil {
      do {
        let path = try recording.start(controller.timeline)
        controller.view.recording = true
        controller.view.message = StatusMessage("recording to \(path)")
      } catch {
        terminal.close()
        Input.fail("\(error)")
      }
    }
    controller.view.unicode = display.unicode(on: terminal)
    while true {
      terminal.draw(controller.render(width: terminal.width, height: terminal.height))
      let timeout = controller.view.playing ? max(1, 1000 / controller.view.speed) : -1
      var key = terminal.readKey(timeoutMilliseconds: timeout) ?? .tick
      // Keys typed faster than the screen is drawn are all handled before the next drawing (up to a
      // screenful of them), so the view keeps up with a held key or a paste.
      for _ in 0..<Self.keysPerDrawing {
        for effect in controller.handle(key) {
          switch effect {
          case .quit: return
          case .redrawAll: terminal.redrawAll()
          case .applied(let step, let action):
            recording.applied(step: step, action: action, in: &controller)
          case .toggleRecording:
            recording.toggle(&controller)
          }
        }
        recording.catchUp(&controller)
        guard let next = terminal.readKey(timeoutMilliseconds: 0) else { break }
        key = next
      }
    }
  }

  /// The most keys handled between two drawings of the screen.
  static let keysPerDrawing = 256
}

/// Recording in the live view: `--record PATH` starts at once, `r` stops and starts again (a new file
/// each time). Actions are written the moment they are applied; step lines follow the view forward,
/// and stopping or quitting writes the rest of the run and the end line.
final class LiveRecording {
  private let requested: String?
  private let name: String
  private var recorder: TraceRecorder?
  private var started = 0

  init(path: String?, name: String) {
    requested = path
    self.name = name
  }

  var isActive: Bool { recorder != nil }

  /// The next file: the `--record` path first, then the same with `-2`, `-3`, ...; without `--record`,
  /// `NAME-YYYYMMDD-HHMMSS.kvtrace` in the current directory. An existing file is never overwritten
  /// except the `--record` path itself.
  private func nextPath() -> String {
    started += 1
    if let requested, started == 1 { return requested }
    let stem: String
    let ext: String
    if let requested {
      let url = URL(fileURLWithPath: requested)
      ext = url.pathExtension.isEmpty ? TraceFormat.fileExtension : url.pathExtension
      stem = url.pathExtension.isEmpty ? requested : String(requested.dropLast(ext.count + 1))
    } else {
      let formatter = DateFormatter()
      formatter.dateFormat = "yyyyMMdd-HHmmss"
      let safe = String(
        name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }.prefix(40))
      stem = "\(safe.isEmpty ? "kvscope" : safe)-\(formatter.string(from: Date()))"
      ext = TraceFormat.fileExtension
    }
    var candidate = requested == nil ? "\(stem).\(ext)" : "\(stem)-\(started).\(ext)"
    var n = requested == nil ? 1 : started
    while FileManager.default.fileExists(atPath: candidate) {
      n += 1
      candidate = "\(stem)-\(n).\(ext)"
    }
    return candidate
  }

  /// Opens a new trace and writes the run up to the current step.
  func start(_ timeline: Timeline) throws(TraceWriteError) -> String {
    let path = nextPath()
    recorder = try TraceRecorder(path: path, timeline: timeline, kvscopeVersion: KVScope.version)
    return path
  }

  /// Writes the rest of the run and the end line; returns a line for the user.
  @discardableResult
  func stop(_ timeline: Timeline) throws(TraceWriteError) -> String? {
    guard let recorder else { return nil }
    self.recorder = nil
    try recorder.finish(timeline)
    return "trace written to \(recorder.path) (\(recorder.stepsWritten) steps)"
  }

  func toggle(_ controller: inout LiveController) {
    do {
      if isActive {
        controller.view.recording = false
        controller.view.message = try stop(controller.timeline).map { StatusMessage($0) }
      } else {
        let path = try start(controller.timeline)
        controller.view.recording = true
        controller.view.message = StatusMessage("recording to \(path)")
      }
    } catch {
      fail(error, &controller)
    }
  }

  func applied(step: Int, action: UserAction, in controller: inout LiveController) {
    do {
      try recorder?.applied(step: step, action: action, timeline: controller.timeline)
    } catch {
      fail(error, &controller)
    }
  }

  func catchUp(_ controller: inout LiveController) {
    do {
      try recorder?.catchUp(controller.timeline, to: controller.timeline.current.step)
    } catch {
      fail(error, &controller)
    }
  }

  private func fail(_ error: TraceWriteError, _ controller: inout LiveController) {
    recorder = nil
    controller.view.recording = false
    controller.view.message = StatusMessage("recording stopped: \(error)", isError: true)
  }

  /// At quit: finishes an open trace; returns the line that says where it went (or why it did not),
  /// for the caller to print once the terminal is restored.
  func close(_ timeline: Timeline) -> String? {
    guard isActive else { return nil }
    do {
      return try stop(timeline)
    } catch {
      return "\(error)"
    }
  }
}

/// How the live view draws: shared by `play` and `replay`.
struct DisplayOptions: ParsableArguments {
  @Flag(help: "No colors (also when NO_COLOR is set).")
  var noColor = false

  @Flag(help: "Draw with ASCII characters only (automatic when the locale is not UTF-8).")
  var ascii = false

  /// Whether a view on `terminal` may draw Unicode: the locale allows it and `--ascii` is not given.
  func unicode(on terminal: Terminal) -> Bool { terminal.unicode && !ascii }
}

/// The terminal of a full-screen view (the live view, the compare view).
enum ViewTerminal {
  /// Opens the terminal with the display options, or exits with status 2 saying that `view` needs a
  /// terminal and what to use `instead`.
  static func open(display: DisplayOptions, view: String, instead: String) -> Terminal {
    do {
      return try Terminal.open(noColor: display.noColor)
    } catch {
      Input.fail("\(error); \(view) needs a terminal. \(instead)")
    }
  }
}
