import KVEngine
import KVView
import Testing

@testable import KVExport

/// Replays terminal output onto a grid of characters: the cursor positioning, erase and SGR sequences
/// the cast writer emits (SGR is read and ignored).
struct ScreenReplay {
  var width: Int
  var height: Int
  var rows: [[Character]]
  var x = 0
  var y = 0

  init(width: Int, height: Int) {
    self.width = width
    self.height = height
    rows = Array(repeating: Array(repeating: " ", count: width), count: height)
  }

  mutating func feed(_ data: String) {
    var characters = data[...]
    while let c = characters.first {
      characters = characters.dropFirst()
      guard c == "\u{1B}" else {
        if y < height && x < width { rows[y][x] = c }
        x += 1
        continue
      }
      guard characters.first == "[" else { continue }
      characters = characters.dropFirst()
      var parameters = ""
      while let p = characters.first, !p.isLetter {
        parameters.append(p)
        characters = characters.dropFirst()
      }
      guard let command = characters.first else { return }
      characters = characters.dropFirst()
      let numbers = parameters.split(separator: ";").map { Int($0) ?? 0 }
      switch command {
      case "H":
        y = max(0, (numbers.first ?? 1) - 1)
        x = max(0, (numbers.count > 1 ? numbers[1] : 1) - 1)
      case "J": rows = Array(repeating: Array(repeating: " ", count: width), count: height)
      case "K": if y < height { for i in min(x, width)..<width { rows[y][i] = " " } }
      default: break
      }
    }
  }

  /// The screen as `Grid.text` writes it: trailing spaces removed.
  var text: String {
    rows.map { row in
      var line = String(row)
      while line.last == " " { line.removeLast() }
      return line
    }.joined(separator: "\n")
  }
}

struct CastTests {
  @Test func everyFrameIsTheScreenOfItsStep() throws {
    let timeline = try Walkthrough.timeline()
    let cast = CastExport(width: 100, height: 30, delay: 0.25).cast(timeline, steps: 50...56, timestamp: 7)
    #expect(cast.events.count == 7)
    #expect(cast.events.map(\.microseconds) == (0..<7).map { $0 * 250_000 })
    var replay = ScreenReplay(width: 100, height: 30)
    var controller = LiveController(timeline: timeline)
    for (k, event) in cast.events.enumerated() {
      replay.feed(event.data)
      _ = controller.run(command: "goto \(50 + k)")
      #expect(replay.text == controller.render(width: 100, height: 30).text, "step \(50 + k)")
    }
    #expect(cast.events[0].data.hasPrefix("\u{1B}[0m\u{1B}[?25l\u{1B}[H\u{1B}[2J"))
    #expect(
      cast.events[1].data.count < cast.events[0].data.count, "later frames redraw the rows that changed")
  }

  @Test func headerAndEventsAreAsciicastV2() {
    var cast = Asciicast(
      width: 80, height: 24, timestamp: 1_700_000_000, title: "a \"b\"\n", env: ["TERM": "x"])
    cast.events = [
      Asciicast.Event(microseconds: 0, data: "\u{1B}[1;1Hhi\\"),
      Asciicast.Event(microseconds: 1_500_000, data: "\u{7F}\t"),
    ]
    #expect(
      cast.text == """
        {"version": 2, "width": 80, "height": 24, "timestamp": 1700000000, "duration": 1.500000, "title": "a \\"b\\"\\n", "env": {"TERM": "x"}}
        [0.000000, "o", "\\u001b[1;1Hhi\\\\"]
        [1.500000, "o", "\\u007f\\t"]

        """)
  }

  @Test func stylesBecomeTheLiveViewsColours() {
    let screen = AnsiScreen()
    #expect(screen.codes(Cell("A", role: .owner(0))) == [34])
    #expect(screen.codes(Cell("B", role: .owner(7))) == [31])
    #expect(screen.codes(Cell("x", role: .touched)) == [1, 7])
    #expect(screen.codes(Cell(" ")) == [])
    let plain = AnsiScreen(colored: false)
    #expect(plain.codes(Cell("A", role: .owner(0))) == [])
    #expect(plain.codes(Cell(".", role: .free)) == [2])
  }
}
