import ArgumentParser
import Foundation
import KVEngine
import KVScenario

/// Reading the file a command was given, with errors that end the program with status 2.
enum Input {
  /// Loads a scenario, or prints the error (file, line, column, key) and exits with status 2.
  static func scenario(_ path: String) throws -> Scenario {
    do {
      return try ScenarioLoader.load(path: path)
    } catch {
      fail("\(error)")
    }
  }

  /// Prints `message` to standard error and exits with status 2.
  static func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("kvscope: \(message)\n".utf8))
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
