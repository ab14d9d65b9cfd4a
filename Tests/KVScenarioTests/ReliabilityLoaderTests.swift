import Foundation
import KVEngine
import Testing

@testable import KVScenario

/// Issue 14: no input traps, hangs or reaches the terminal raw. The loader's side: bounds on every
/// integer the engine adds to, control characters in names and ids, and files that are not clean YAML.
struct ReliabilityLoaderTests {

  static let head = "cache: {pages: 8, page_size: 16}\n"

  // MARK: Integer bounds

  @Test func arriveIsBounded() {
    expectError(
      Self.head + "requests: [{id: A, arrive: 9223372036854775807, prompt: 3, output: 2}]", line: 2,
      column: 28, key: "requests[0].arrive", "must be between 0 and 1000000000")
    expectError(
      Self.head + "requests: [{id: A, arrive: 1000000001, prompt: 3, output: 2}]", line: 2, column: 28,
      key: "requests[0].arrive", "must be between 0 and 1000000000, got 1000000001")
    #expect(failure(Self.head + "requests: [{id: A, arrive: 1000000000, prompt: 3, output: 2}]") == nil)
  }

  @Test func eventTimeIsBounded() {
    expectError(
      Self.head + "requests: [{id: A, prompt: 3, output: 2}]\nevents: [{at: 9223372036854775807, abort: A}]",
      line: 3, column: 15, key: "events[0].at", "must be between 0 and 1000000000")
  }

  @Test func outputIsBounded() {
    expectError(
      Self.head + "requests: [{id: A, prompt: 3, output: 9223372036854775807}]", line: 2, column: 39,
      key: "requests[0].output", "must be between 0 and 1000000000")
  }

  static let traceHead =
    #"{"format":"kvscope-trace","version":2,"kvscope":"t","scenario":{"cache":{"pages":8,"page_size":16},"requests":[{"id":"A","prompt":3,"output":2}]}}"#

  static func traceFailure(_ text: String) -> ScenarioError? {
    do {
      _ = try TraceReader.parse(Data(text.utf8), file: "t.kvtrace")
      return nil
    } catch {
      return error
    }
  }

  @Test func addedRequestsAreBounded() {
    let arrive = Self.traceFailure(
      Self.traceHead + "\n"
        + #"{"type":"action","step":0,"action":{"add":{"id":"B","arrive":9223372036854775807,"prompt":3,"output":2}}}"#
        + "\n")
    #expect(arrive?.key == "action.add.arrive")
    #expect(
      arrive?.message.contains("must be between 0 and 1000000000") == true, "\(String(describing: arrive))")
    let output = Self.traceFailure(
      Self.traceHead + "\n"
        + #"{"type":"action","step":0,"action":{"add":{"id":"B","prompt":3,"output":9223372036854775807}}}"#
        + "\n")
    #expect(output?.key == "action.add.output")
  }

  @Test func importedArrivalsAndOutputsAreBounded() {
    var options = MooncakeImportOptions()
    options.iterationMs = 1
    let late = [
      MooncakeRecord(line: 1, timestamp: 0, inputLength: 16, outputLength: 1, hashIDs: [0]),
      MooncakeRecord(line: 2, timestamp: 1e300, inputLength: 16, outputLength: 1, hashIDs: [1]),
    ]
    #expect(throws: ScenarioError.self) {
      try MooncakeImporter.makeScenario(late, options: options, source: "m")
    }
    let long = [MooncakeRecord(line: 1, timestamp: 0, inputLength: 16, outputLength: 1 << 62, hashIDs: [0])]
    #expect(throws: ScenarioError.self) {
      try MooncakeImporter.makeScenario(long, options: options, source: "m")
    }
  }
}
