import Testing

@testable import KVEngine
@testable import KVView

/// The `:` command line keeps every character typed, shows the end being typed with a marker when the
/// start is hidden, and refuses with a message (never silently) past its limit.
struct CommandLineTests {
  static func type(_ text: String, into controller: inout LiveController) {
    for character in text { _ = controller.handle(.character(character)) }
  }

  static func opened() -> LiveController {
    var controller = LiveController(timeline: Timeline(scenario: Fixtures.walkthrough))
    _ = controller.handle(.character(":"))
    return controller
  }

  /// `add Z 1,2,...,N 3`: a command of any length that runs only when every character arrived.
  static func longAdd(tokens: Int) -> String {
    "add Z " + (1...tokens).map(String.init).joined(separator: ",") + " 3"
  }

  @Test func aLongCommandKeepsEveryCharacterAndRuns() throws {
    var controller = Self.opened()
    let command = Self.longAdd(tokens: 150)
    #expect(command.count > 400)
    Self.type(command, into: &controller)
    #expect(controller.view.commandLine == command)
    _ = controller.handle(.enter)
    let message = try #require(controller.view.message)
    #expect(!message.isError, "\(message.text)")
    #expect(controller.timeline.current.requests.contains { $0.id == "Z" && $0.spec.prompt.count == 150 })
  }

  @Test func theRowShowsTheEndWithAMarkerWhenTheStartIsHidden() {
    var view = ViewState()
    let command = Self.longAdd(tokens: 100)
    view.commandLine = command
    for (width, unicode) in [(80, true), (120, false)] {
      view.unicode = unicode
      let g = Glyphs(unicode: unicode)
      let grid = Fixtures.render(
        Timeline(scenario: Fixtures.walkthrough), view: view, width: width, height: 30)
      let row = grid.line(28)
      #expect(row.count == width)
      let expected = ":" + g.ellipsis + command.suffix(width - 2 - g.ellipsis.count) + String(g.cursor)
      #expect(row == expected, "\(row)")
    }
    view.commandLine = "find A"
    let short = Fixtures.render(Timeline(scenario: Fixtures.walkthrough), view: view, width: 80, height: 30)
    #expect(short.line(28).hasPrefix(":find A_"))
  }

  @Test func pastTheLimitACharacterIsRefusedWithAMessage() {
    var controller = Self.opened()
    let full = String(repeating: "x", count: LiveController.commandLineLimit)
    Self.type(full, into: &controller)
    #expect(controller.view.message == nil)
    _ = controller.handle(.character("y"))
    #expect(controller.view.commandLine == full)
    let message = controller.view.message
    #expect(message?.isError == true)
    #expect(
      message?.text.contains("\(LiveController.commandLineLimit)") == true, "\(String(describing: message))")
    let grid = controller.render(width: 120, height: 40)
    #expect(grid.line(38).contains("command line is full"), "\(grid.line(38))")
    #expect(grid.line(38).hasPrefix(":"))
    // Backspace makes room again and the message goes.
    _ = controller.handle(.backspace)
    #expect(controller.view.message == nil)
    _ = controller.handle(.character("y"))
    #expect(controller.view.commandLine == String(full.dropLast()) + "y")
  }
}
