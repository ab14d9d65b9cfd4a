import Foundation
import Testing

/// `kvscope export svg` and `kvscope export cast`, run as a user would.
struct ExportCommandTests {
  static let walkthrough = "scenarios/walkthrough.yaml"

  static func temporaryPath(_ suffix: String) -> String { Harness.temporaryPath(suffix) }

  @Test func svgDefaultsToTheLastStepAndStandardOutput() throws {
    let output = try Harness.kvscope(["export", "svg", Self.walkthrough])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stdout.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "))
    #expect(output.stdout.contains("step 582 of 582"))
    #expect(output.stdout.contains("free_mask = 11111111 = 0xFF"))
  }

  @Test func svgWritesTheFileWholeAndTheSameAsStandardOutput() throws {
    let path = Self.temporaryPath(".svg")
    defer { unlink(path) }
    let written = try Harness.kvscope(["export", "svg", Self.walkthrough, "--step", "13", "-o", path])
    #expect(written.status == 0 && written.stdout.isEmpty, "\(written.stderr)")
    let printed = try Harness.kvscope(["export", "svg", Self.walkthrough, "--step", "13"])
    #expect(try String(contentsOfFile: path, encoding: .utf8) == printed.stdout)
    // A device is written to, never replaced.
    let device = try Harness.kvscope(["export", "svg", Self.walkthrough, "--step", "13", "-o", "/dev/stdout"])
    #expect(device.status == 0 && device.stdout == printed.stdout, "\(device.stderr)")
    #expect(printed.stdout.contains("free_mask = 11110000 = 0xF0"))
  }

  @Test func readmePictureIsWhatTheCommandWrites() throws {
    let readme = try String(contentsOfFile: Harness.root + "/README.md", encoding: .utf8)
    #expect(readme.contains("(docs/walkthrough-step-55.svg)"))
    #expect(
      readme.contains(
        "kvscope export svg scenarios/walkthrough.yaml --step 55 -o docs/walkthrough-step-55.svg"))
    let committed = try String(
      contentsOfFile: Harness.root + "/docs/walkthrough-step-55.svg", encoding: .utf8)
    let output = try Harness.kvscope(["export", "svg", Self.walkthrough, "--step", "55"])
    #expect(committed == output.stdout, "regenerate docs/walkthrough-step-55.svg with the README's command")
  }

  @Test func castHeaderFramesAndLastScreen() throws {
    let path = Self.temporaryPath(".cast")
    defer { unlink(path) }
    let run = try Harness.run(
      Harness.binary,
      [
        "export", "cast", Self.walkthrough, "--from", "50", "--to", "56", "--size", "100x30", "--delay",
        "0.5",
        "-o", path,
      ],
      environment: ["SOURCE_DATE_EPOCH": "1700000000"])
    #expect(run.status == 0, "\(run.stderr)")
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    let header = try #require(
      try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    #expect(header["version"] as? Int == 2)
    #expect(header["width"] as? Int == 100)
    #expect(header["height"] as? Int == 30)
    #expect(header["timestamp"] as? Int == 1_700_000_000)
    #expect((header["title"] as? String)?.contains("Paged KV cache walkthrough") == true)
    #expect((header["env"] as? [String: String])?["TERM"] == "xterm-256color")
    let events = try lines.dropFirst().map { line -> (Double, String, String) in
      let array = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any])
      #expect(array.count == 3)
      return (
        try #require((array[0] as? NSNumber)?.doubleValue), try #require(array[1] as? String),
        try #require(array[2] as? String)
      )
    }
    #expect(events.count == 7, "one frame per step from 50 to 56")
    #expect(events.map(\.0) == [0, 0.5, 1, 1.5, 2, 2.5, 3])
    #expect(events.allSatisfy { $0.1 == "o" })
    var screen = TerminalReplay(width: 100, height: 30)
    for event in events { screen.feed(event.2) }
    let frame = try Harness.kvscope(["frame", Self.walkthrough, "--step", "56", "--size", "100x30"])
    #expect(screen.text == frame.stdout.trimmingCharacters(in: .newlines))
  }

  @Test(arguments: [
    (
      ["export", "svg", walkthrough, "--step", "583"], "--step 583 is outside the run: steps go from 0 to 582"
    ),
    (["export", "svg", walkthrough, "--step=-1"], "--step -1 is outside the run"),
    (["export", "svg", "scenarios/nope.yaml"], "nope.yaml"),
    (["export", "svg", walkthrough, "--policy", "lru"], "--policy must be one of"),
    (
      ["export", "svg", walkthrough, "-o", "/nonexistent-dir/x.svg"],
      "cannot write /nonexistent-dir/x.svg: the folder /nonexistent-dir does not exist"
    ),
    (["export", "cast", walkthrough, "--to", "900"], "--to 900 is outside the run"),
    (["export", "cast", walkthrough, "--from", "9", "--to", "3"], "--from 9 is after --to 3"),
    (["export", "cast", walkthrough, "--size", "0x0"], "--size must look like 120x40"),
    (["export", "cast", walkthrough, "--size", "wide"], "--size must look like 120x40"),
    (["export", "cast", walkthrough, "--delay", "0"], "--delay must be a number of seconds above 0"),
    (["export", "cast", walkthrough, "--to", "3", "-o", "/nonexistent-dir/x.cast"], "cannot write"),
    (
      ["export", "cast", walkthrough, "--to", "3", "-o", "scenarios"],
      "cannot write scenarios: it is a folder"
    ),
  ])
  func badInputExitsTwoWithAMessage(arguments: [String], message: String) throws {
    let output = try Harness.kvscope(arguments)
    #expect(output.status == 2)
    #expect(output.stderr.contains(message), "\(output.stderr)")
    #expect(output.stdout.isEmpty)
  }

  @Test func everyPolicyExports() throws {
    for name in ["walkthrough", "prefix-sharing", "vllm-v1-walkthrough", "nano-vllm-walkthrough"] {
      let svg = try Harness.kvscope(["export", "svg", "scenarios/\(name).yaml", "--step", "40"])
      #expect(svg.status == 0, "\(name): \(svg.stderr)")
      #expect(svg.stdout.hasSuffix("</svg>\n"))
      let cast = try Harness.kvscope([
        "export", "cast", "scenarios/\(name).yaml", "--from", "38", "--to", "40",
      ])
      #expect(cast.status == 0, "\(name): \(cast.stderr)")
      #expect(cast.stdout.split(separator: "\n").count == 4, "\(name): a header and three frames")
    }
  }
}

/// Replays terminal output onto a grid of characters: cursor positioning (`CSI row;col H`), clearing
/// (`CSI 2J`, `CSI K`); other escape sequences (colours) are read and ignored.
struct TerminalReplay {
  let width: Int
  let height: Int
  private var rows: [[Character]]
  private var x = 0
  private var y = 0

  init(width: Int, height: Int) {
    self.width = width
    self.height = height
    rows = Array(repeating: Array(repeating: " ", count: width), count: height)
  }

  mutating func feed(_ data: String) {
    var rest = data[...]
    while let c = rest.popFirst() {
      guard c == "\u{1B}" else {
        if y < height && x < width { rows[y][x] = c }
        x += 1
        continue
      }
      guard rest.first == "[" else { continue }
      rest.removeFirst()
      var parameters = ""
      while let p = rest.first, !p.isLetter { parameters.append(rest.removeFirst()) }
      let numbers = parameters.split(separator: ";").map { Int($0) ?? 0 }
      switch rest.popFirst() {
      case "H":
        y = max(0, (numbers.first ?? 1) - 1)
        x = max(0, (numbers.count > 1 ? numbers[1] : 1) - 1)
      case "J": rows = Array(repeating: Array(repeating: " ", count: width), count: height)
      case "K": if y < height { for i in min(x, width)..<width { rows[y][i] = " " } }
      default: break
      }
    }
  }

  /// The screen as `kvscope frame` prints it: trailing spaces removed.
  var text: String {
    rows.map { row in
      var line = String(row)
      while line.last == " " { line.removeLast() }
      return line
    }.joined(separator: "\n")
  }
}
