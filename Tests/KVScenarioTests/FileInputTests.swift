import Foundation
import KVEngine
import Testing

@testable import KVScenario

/// Issue 14: files that are not clean YAML or JSON Lines (a byte order mark, bytes that are not UTF-8,
/// nothing at all, a version written as a string) get a message that says what to do.
struct FileInputTests {
  static func traceFailure(_ text: String) -> ScenarioError? { ReliabilityLoaderTests.traceFailure(text) }

  // MARK: Files

  static func file(_ bytes: [UInt8], _ suffix: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.path + "/kvscope-rel-\(UUID().uuidString)\(suffix)"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
  }

  static let header =
    #"{"format":"kvscope-trace","version":2,"kvscope":"t","scenario":{"cache":{"pages":8,"page_size":16},"requests":[{"id":"A","prompt":3,"output":2}]}}"#

  @Test func traceHeaderWithInvalidUTF8IsRejectedWithItsColumn() throws {
    var bytes = Array(Self.header.utf8)
    let at = bytes.firstIndex(of: UInt8(ascii: "A"))!
    bytes.insert(0xFF, at: at + 1)
    do {
      _ = try TraceReader.parse(Data(bytes + [10]), file: "t.kvtrace")
      Issue.record("a header with byte 0xFF parsed")
    } catch {
      #expect(error.line == 1)
      #expect(error.column == at + 2, "\(error)")
      #expect(error.message.contains("not valid UTF-8"), "\(error)")
    }
    var early = Array(Self.header.utf8)
    early.insert(0xC3, at: 2)
    do {
      _ = try TraceReader.parse(Data(early + [10]), file: "t.kvtrace")
      Issue.record("a header with byte 0xC3 parsed")
    } catch {
      #expect(error.column == 3, "\(error)")
      #expect(error.message.contains("not valid UTF-8"), "\(error)")
    }
  }

  @Test func byteOrderMarkBeforeATraceOrAScenarioIsSkipped() throws {
    let trace = try Self.file([0xEF, 0xBB, 0xBF] + Array(Self.header.utf8) + [10], ".kvtrace")
    defer { unlink(trace) }
    #expect(TraceFormat.isTrace(path: trace))
    let read = try TraceReader.read(path: trace)
    #expect(read.scenario.requests.map(\.id) == ["A"])
    let yaml = try Self.file(
      [0xEF, 0xBB, 0xBF] + Array("cache: {pages: 8, page_size: 16}\nops: [alloc]\n".utf8), ".yaml")
    defer { unlink(yaml) }
    #expect(try ScenarioLoader.load(path: yaml).ops == [.alloc])
  }

  @Test(arguments: [#""1""#, "99999999999999999999999", "1.5", "-1"])
  func unsupportedVersionsSayWhichAreRead(_ version: String) {
    let text = Self.header.replacingOccurrences(of: #""version":2"#, with: #""version":\#(version)"#) + "\n"
    let error = Self.traceFailure(text)
    #expect(error?.key == "version", "\(String(describing: error))")
    #expect(error?.message.contains("is not supported") == true, "\(String(describing: error))")
    #expect(error?.message.contains("reads versions 1 and 2") == true, "\(String(describing: error))")
  }

  @Test func emptyScenarioFileSaysHowToStart() throws {
    for text in ["", "# only a comment\n"] {
      let error = failure(text)
      #expect(error?.message.hasPrefix("no scenario keys: the file is empty or only comments") == true)
      #expect(error?.message.contains("scenarios/walkthrough.yaml") == true, "\(String(describing: error))")
    }
  }

  @Test func nonUTF8ScenarioNamesTheFirstBadByte() throws {
    let path = try Self.file(
      Array("cache: {pages: 8, page_size: 16}\nname: ab".utf8) + [0xFF] + [10], ".yaml")
    defer { unlink(path) }
    do {
      _ = try ScenarioLoader.load(path: path)
      Issue.record("parsed")
    } catch {
      #expect(error.line == 2, "\(error)")
      #expect(error.column == 9, "\(error)")
      #expect(error.message.contains("byte 0xFF"), "\(error)")
    }
  }

  @Test func tooLargeScenarioStatesTheLimit() throws {
    let path = FileManager.default.temporaryDirectory.path + "/kvscope-rel-\(UUID().uuidString).yaml"
    #expect(FileManager.default.createFile(atPath: path, contents: nil))
    defer { unlink(path) }
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.truncate(atOffset: UInt64(ScenarioLoader.maxFileBytes) + 1)
    try handle.close()
    do {
      _ = try ScenarioLoader.load(path: path)
      Issue.record("parsed")
    } catch {
      #expect(error.message.contains("at most \(ScenarioLoader.maxFileBytes) bytes"), "\(error)")
    }
  }
}
