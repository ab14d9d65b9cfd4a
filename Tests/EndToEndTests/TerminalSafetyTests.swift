import Foundation
import Testing

/// Issue 14: no escape sequence and no overlong line reaches the terminal from any input.
struct TerminalSafetyTests {
  static func write(_ text: String, _ suffix: String = ".yaml") throws -> String {
    try Harness.temporaryFile(text, suffix: suffix)
  }

  /// Control characters in the display columns of a text: none but the newlines between lines.
  static func controls(_ text: String) -> [Unicode.Scalar] {
    text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) }
  }

  @Test func controlCharactersInNamesAndIdsAreRejectedWithAPosition() throws {
    let name = try Self.write(
      "name: \"\\e[2J\\e[?1049h\"\ncache: {pages: 8, page_size: 16}\nrequests: [{id: A, prompt: 3, output: 2}]\n"
    )
    defer { unlink(name) }
    let output = try Harness.kvscope(["check", name])
    #expect(output.status == 2)
    #expect(output.stderr.contains("\(name):1:7: name: "), "\(output.stderr)")
    #expect(output.stderr.contains("control character U+001B"), "\(output.stderr)")
    #expect(Self.controls(output.stdout + output.stderr).isEmpty)

    let id = try Self.write(
      "cache: {pages: 8, page_size: 16}\nrequests: [{id: \"A\\nB\", prompt: 3, output: 2}]\n")
    defer { unlink(id) }
    let idOutput = try Harness.kvscope(["frame", id])
    #expect(idOutput.status == 2)
    #expect(idOutput.stderr.contains(":2:17: requests[0].id: "), "\(idOutput.stderr)")
    #expect(idOutput.stderr.contains("U+000A"), "\(idOutput.stderr)")

    let c1 = try Self.write("description: \"a\\x9Bb\"\ncache: {pages: 8, page_size: 16}\nops: [alloc]\n")
    defer { unlink(c1) }
    let c1Output = try Harness.kvscope(["check", c1])
    #expect(c1Output.status == 2)
    #expect(c1Output.stderr.contains("description: "), "\(c1Output.stderr)")
  }

  @Test func traceIdsWithControlCharactersAreRejected() throws {
    let trace = try Self.write(
      #"{"format":"kvscope-trace","version":2,"kvscope":"t","scenario":{"cache":{"pages":8,"page_size":16},"requests":[{"id":"A","prompt":3,"output":2}]}}"#
        + "\n"
        + #"{"type":"action","step":0,"action":{"add":{"id":"\u001b[2J","prompt":3,"output":2}}}"# + "\n",
      ".kvtrace")
    defer { unlink(trace) }
    let output = try Harness.kvscope(["check", trace])
    #expect(output.status == 2)
    #expect(output.stderr.contains(":2: action.add.id: "), "\(output.stderr)")
    #expect(Self.controls(output.stdout + output.stderr).isEmpty, "\(output.stderr)")
  }

  @Test func checkAndFrameStayInsideTheTerminalWithAnyFileName() throws {
    // A file name reaches the output as given: it carries an escape sequence here.
    let directory = FileManager.default.temporaryDirectory.path + "/kvscope-\u{1b}[2J-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/s.yaml"
    try "cache: {pages: 8, page_size: 16}\nrequests: [{id: A, prompt: 3, output: 2}]\n".write(
      toFile: path, atomically: true, encoding: .utf8)
    let check = try Harness.kvscope(["check", path])
    #expect(check.status == 0, "\(check.stderr)")
    #expect(Self.controls(check.stdout).isEmpty, "\(check.stdout)")
    let missing = try Harness.kvscope(["check", directory + "/missing\u{1b}[2J.yaml"])
    #expect(missing.status == 2)
    #expect(Self.controls(missing.stderr).isEmpty, "\(missing.stderr)")
  }

  /// Wide characters in names, descriptions and ids do not push the frame past its width.
  @Test(arguments: ["漢字のシナリオ名前テスト", "🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀", "ａｂｃ"])
  func frameKeepsItsSizeWithWideCharacters(_ wide: String) throws {
    let ids = (0..<6).map { "\(wide)\($0)" }
    let requests = ids.map { "  - {id: \"\($0)\", prompt: 20, output: 3}" }.joined(separator: "\n")
    let path = try Self.write(
      "name: \"\(String(repeating: wide, count: 8))\"\ndescription: \"\(wide)\"\n"
        + "cache: {pages: 16, page_size: 4}\nrequests:\n\(requests)\n")
    defer { unlink(path) }
    for step in [0, 5, 20, 40] {
      let output = try Harness.kvscope(["frame", "--step", "\(step)", "--size", "120x40", path])
      #expect(output.status == 0, "\(output.stderr)")
      let lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
      #expect(lines.count == 40)
      for line in lines {
        let columns = line.reduce(0) { $0 + (Self.isWide($1) ? 2 : 1) }
        #expect(columns <= 120, "\(columns) columns: \(line)")
      }
      #expect(Self.controls(output.stdout).isEmpty)
    }
  }

  /// A reference of its own for the test (not the code under test): CJK, Hangul, fullwidth forms, emoji.
  static func isWide(_ character: Character) -> Bool {
    guard let scalar = character.unicodeScalars.first else { return false }
    switch scalar.value {
    case 0x1100...0x115F, 0x2E80...0x9FFF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFF00...0xFF60,
      0x1F300...0x1FAFF, 0x20000...0x3FFFD:
      return true
    default:
      return false
    }
  }
}
