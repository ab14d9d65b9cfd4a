import Foundation

/// Runs the real `kvscope` binary, directly or inside a detached tmux session.
enum Harness {
  /// The package root (for scenario paths).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  /// The kvscope binary built next to this test bundle.
  static var binary: String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
    while directory.path != "/" {
      let candidate = directory.appendingPathComponent("kvscope").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      directory = directory.deletingLastPathComponent()
    }
    return root + "/.build/debug/kvscope"
  }

  struct Output {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  /// Runs `program` with `arguments` and waits for it.
  @discardableResult
  static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Output {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: root)
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Output(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  /// `kvscope ARGS`.
  @discardableResult
  static func kvscope(_ arguments: [String]) throws -> Output { try run(binary, arguments) }
}

/// A tmux server of its own (a private socket), running one session.
final class TmuxSession {
  let socket = "kvscope-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  let name = "e2e"

  static var available: Bool { FileManager.default.isExecutableFile(atPath: tmuxPath) }
  static let tmuxPath = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  } ?? "/usr/bin/tmux"

  /// Starts `command` (a shell command line) in a detached session of the given size.
  init(command: String, width: Int, height: Int) throws {
    try tmux(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command])
  }

  deinit { _ = try? tmux(["kill-server"]) }

  @discardableResult
  func tmux(_ arguments: [String]) throws -> String {
    try Harness.run(TmuxSession.tmuxPath, ["-L", socket, "-f", "/dev/null"] + arguments, environment: ["TERM": "xterm-256color"])
      .stdout
  }

  func send(_ keys: String...) throws { try tmux(["send-keys", "-t", name] + keys) }

  func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", name]) }

  /// A tmux format value of the pane, e.g. `#{alternate_on}`.
  func display(_ format: String) throws -> String {
    try tmux(["display-message", "-p", "-t", name, format]).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Polls the screen until `predicate` holds or `timeout` seconds pass; returns the last screen.
  @discardableResult
  func waitFor(timeout: Double = 10, _ predicate: (String) -> Bool) throws -> String? {
    let deadline = Date().addingTimeInterval(timeout)
    repeat {
      let text = try screen()
      if predicate(text) { return text }
      usleep(30_000)
    } while Date() < deadline
    return nil
  }

  func waitFor(_ text: String, timeout: Double = 10) throws -> Bool {
    try waitFor(timeout: timeout) { $0.contains(text) } != nil
  }
}
