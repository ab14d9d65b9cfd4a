import Foundation

/// Runs the real `kvscope` binary, directly or inside a detached tmux session.
enum Harness {
  /// The package root (for scenario paths).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  /// The kvscope binary built next to this test bundle.
  static var binary: String {
    let exe =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments[0]
    var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
    while directory.path != "/" {
      let candidate = directory.appendingPathComponent("kvscope").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      directory = directory.deletingLastPathComponent()
    }
    return root + "/.build/debug/kvscope"
  }

  struct Output {
    /// The exit status, or 128 + the signal that ended it.
    var status: Int32
    var stdout: String
    var stderr: String
    /// The signal that ended it, if one did.
    var signal: Int32? = nil
    /// True when it ran past its time bound and was killed.
    var timedOut = false
  }

  /// Runs `program` with `arguments` and waits for it. Uses posix_spawn and waitpid, with output to
  /// files: Foundation's `Process` waits for every holder of its descriptors, and a tmux server started
  /// by `new-session` keeps them forever. With `timeout`, it is killed after that many seconds.
  @discardableResult
  static func run(
    _ program: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double? = nil
  ) throws -> Output {
    let directory = FileManager.default.temporaryDirectory.path
    let outPath = "\(directory)/kvscope-e2e-\(UUID().uuidString).out"
    let errPath = "\(directory)/kvscope-e2e-\(UUID().uuidString).err"
    defer {
      unlink(outPath)
      unlink(errPath)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    // Every test wants the package root as working directory.
    if FileManager.default.currentDirectoryPath != root {
      _ = FileManager.default.changeCurrentDirectoryPath(root)
    }
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    let argv = ([program] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    // The child (and a tmux server it starts) gets default signal handling and no blocked signals,
    // whatever the test runner's thread had.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, program, &actions, &attributes, argv, envp)
    guard spawned == 0 else { throw HarnessError(message: "cannot run \(program): error \(spawned)") }
    var status: Int32 = 0
    var timedOut = false
    if let timeout {
      let deadline = Date().addingTimeInterval(timeout)
      while true {
        let done = waitpid(pid, &status, WNOHANG)
        if done == pid || (done == -1 && errno != EINTR) { break }
        if Date() > deadline {
          timedOut = true
          kill(pid, SIGKILL)
          while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
          break
        }
        usleep(2_000)
      }
    } else {
      while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
    let signal = status & 0x7f
    let signaled = signal != 0 && signal != 0x7f
    return Output(
      status: signaled ? 128 + signal : (status >> 8) & 0xff,
      stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "<stdout is not UTF-8>",
      stderr: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self),
      signal: signaled ? signal : nil, timedOut: timedOut)
  }

  struct HarnessError: Error {
    var message: String
  }

  /// `kvscope ARGS`.
  @discardableResult
  static func kvscope(_ arguments: [String]) throws -> Output { try run(binary, arguments) }

  /// A fresh path in the temporary directory, ending in `suffix`.
  static func temporaryPath(_ suffix: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "kvscope-test-\(UUID().uuidString)\(suffix)"
    )
    .path
  }

  /// Writes `text` to a fresh temporary file and returns its path.
  static func temporaryFile(_ text: String, suffix: String = ".yaml") throws -> String {
    let path = temporaryPath(suffix)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }
}

/// A tmux server of its own (a private socket), running one session.
final class TmuxSession {
  let socket = "kvscope-e2e-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  let name = "e2e"

  static var available: Bool { FileManager.default.isExecutableFile(atPath: tmuxPath) }
  static let tmuxPath =
    ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"].first {
      FileManager.default.isExecutableFile(atPath: $0)
    } ?? "/usr/bin/tmux"

  /// Starts `command` (a shell command line) in a detached session of the given size.
  init(command: String, width: Int, height: Int) throws {
    try tmux(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command])
  }

  deinit { _ = try? tmux(["kill-server"]) }

  @discardableResult
  func tmux(_ arguments: [String]) throws -> String {
    try Harness.run(
      TmuxSession.tmuxPath, ["-L", socket, "-f", "/dev/null"] + arguments,
      environment: ["TERM": "xterm-256color"]
    )
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
    if try waitFor(timeout: timeout, { $0.contains(text) }) != nil { return true }
    print("screen while waiting for '\(text)':\n\(try screen())")
    return false
  }
}
