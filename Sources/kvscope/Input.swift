import ArgumentParser
import Foundation
import KVEngine
import KVScenario
import KVText

/// Reading the file a command was given, with errors that end the program with status 2.
enum Input {
  /// What a command opens: a scenario file, or a trace (its header's scenario and recorded actions).
  struct Source {
    var scenario: Scenario
    /// User actions by the step after which they run (empty for a scenario).
    var actions: [Int: UserAction] = [:]
    var trace: Trace?
  }

  /// Loads a scenario or a trace, told apart by content (a trace's first line is a JSON header with
  /// `"format": "kvscope-trace"`); errors exit with status 2.
  static func source(_ path: String, partial: Bool = false) -> Source {
    settle { () throws(Failure) in try read(path, partial: partial) }
  }

  /// Reads a trace; with `partial`, a bad line ends it (with a note on standard error).
  static func trace(_ path: String, partial: Bool) -> Trace {
    settle { () throws(Failure) in try readTrace(path, partial: partial) }
  }

  /// What reading a file gave, with the notes to print on standard error (a trace cut by `--partial`).
  struct Read<Value> {
    var value: Value
    var notes: [String] = []
  }

  /// Why a file could not be read: the message names the file, line and column.
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// `source` without exiting: for a view that must restore the terminal before it says why.
  static func read(_ path: String, partial: Bool = false) throws(Failure) -> Read<Source> {
    guard TraceFormat.isTrace(path: path) else {
      do {
        return Read(value: Source(scenario: try ScenarioLoader.load(path: path)))
      } catch {
        throw Failure(description: "\(error)")
      }
    }
    let trace = try readTrace(path, partial: partial)
    return Read(
      value: Source(scenario: trace.value.scenario, actions: trace.value.actions, trace: trace.value),
      notes: trace.notes)
  }

  /// `trace` without exiting.
  static func readTrace(_ path: String, partial: Bool) throws(Failure) -> Read<Trace> {
    do {
      let trace = try TraceReader.read(path: path, partial: partial)
      guard let stopped = trace.stoppedBy else { return Read(value: trace) }
      return Read(value: trace, notes: ["\(stopped)\n  --partial: using lines 1-\(trace.lastValidLine)"])
    } catch {
      throw Failure(description: "\(error)")
    }
  }

  /// The value `body` reads, its notes printed; or its failure printed and exit with status 2.
  static func settle<Value>(_ body: () throws(Failure) -> Read<Value>) -> Value {
    do {
      let read = try body()
      read.notes.forEach(warn)
      return read.value
    } catch {
      fail(error.description)
    }
  }

  /// A policy named on the command line, or a clear failure.
  static func policy(_ name: String) -> PolicyID {
    guard let id = PolicyID(rawValue: name) else {
      fail("--policy must be one of \(Policies.names), got '\(name)'")
    }
    return id
  }

  /// `scenario` under the policy `name`, or a clear failure when it cannot run there.
  static func scenario(_ scenario: Scenario, under name: String, file: String) -> Scenario {
    let moved = scenario.under(policy(name))
    if let violation = moved.violation {
      fail("\(file): under --policy \(name): \(moved.message(violation))")
    }
    return moved
  }

  /// Writes `text` to the file `path`, or to standard output without one. A regular file is replaced
  /// atomically (a reader never sees half of it); a device or pipe such as `/dev/stdout` is written to.
  static func write(_ text: String, to path: String?) {
    guard let path else { return FileHandle.standardOutput.write(Data(text.utf8)) }
    let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
    let atomic = type == nil || type == .typeRegular
    do {
      try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: atomic ? .atomic : [])
    } catch {
      fail("cannot write \(path): \(error.localizedDescription)")
    }
  }

  /// Prints `message` to standard error.
  static func warn(_ message: String) {
    // A message can quote the input (a key, a file name): its control characters are not sent as such.
    FileHandle.standardError.write(Data("kvscope: \(TerminalText.safe(message, keepNewlines: true))\n".utf8))
  }

  /// Prints `message` to standard error and exits with status 2.
  static func fail(_ message: String) -> Never {
    warn(message)
    Foundation.exit(2)
  }

  /// Parses `WIDTHxHEIGHT`.
  static func size(_ text: String) -> (width: Int, height: Int)? {
    let parts = text.lowercased().split(separator: "x")
    guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), (1...1000).contains(w),
      (1...1000).contains(h)
    else { return nil }
    return (w, h)
  }
}

/// Writes lines to standard output through one buffer (fast for millions of JSON lines).
struct OutputBuffer {
  private var buffer: [UInt8] = []

  mutating func write(_ line: String) {
    buffer.append(contentsOf: line.utf8)
    buffer.append(10)
    if buffer.count > 1 << 16 { flush() }
  }

  mutating func flush() {
    guard !buffer.isEmpty else { return }
    FileHandle.standardOutput.write(Data(buffer))
    buffer.removeAll(keepingCapacity: true)
  }
}
