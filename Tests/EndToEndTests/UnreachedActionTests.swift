import Foundation
import Testing

/// Issue 14: a trace action at a step the run never reaches is reported, not silently dropped.
struct UnreachedActionTests {
  static let header =
    #"{"format":"kvscope-trace","version":2,"kvscope":"t","scenario":{"cache":{"pages":8,"page_size":16},"requests":[{"id":"A","prompt":3,"output":2}]}}"#

  static func trace(step: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.path + "/kvscope-unreached-\(UUID().uuidString).kvtrace"
    let text =
      header + "\n" + #"{"type":"action","step":\#(step),"action":{"add":{"id":"B","prompt":3,"output":2}}}"#
      + "\n"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test(arguments: ["100000000", "9223372036854775807"])
  func verifyFailsOnAnActionAfterTheRun(_ step: String) throws {
    let path = try Self.trace(step: step)
    defer { unlink(path) }
    let output = try Harness.kvscope(["replay", "--verify", path])
    #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
    #expect(output.stdout.contains("line 2 (step \(step))"), "\(output.stdout)")
    #expect(output.stdout.contains("never reached"), "\(output.stdout)")
    #expect(output.stdout.contains("the run ends at step "), "\(output.stdout)")
  }

  @Test(arguments: ["100000000", "9223372036854775807"])
  func checkWarnsOnAnActionAfterTheRun(_ step: String) throws {
    let path = try Self.trace(step: step)
    defer { unlink(path) }
    let output = try Harness.kvscope(["check", path])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stderr.contains("\(path):2: "), "\(output.stderr)")
    #expect(output.stderr.contains("step \(step)"), "\(output.stderr)")
    #expect(output.stderr.contains("never reached"), "\(output.stderr)")
  }

  @Test func anActionInsideTheRunIsNotReported() throws {
    let path = try Self.trace(step: "3")
    defer { unlink(path) }
    let check = try Harness.kvscope(["check", path])
    #expect(check.status == 0)
    #expect(check.stderr.isEmpty, "\(check.stderr)")
    let verify = try Harness.kvscope(["replay", "--verify", path])
    #expect(verify.status == 0, "\(verify.stdout)")
  }
}
