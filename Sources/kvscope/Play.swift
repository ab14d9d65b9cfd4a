import ArgumentParser
import Foundation
import KVEngine
import KVTerminal
import KVView

/// `kvscope FILE` / `kvscope play FILE`: the live view.
struct Play: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Open a scenario in the live view (the default command).",
    discussion: "Keys: ? in the view lists them all. q quits."
  )

  @Argument(help: "A scenario file (YAML).")
  var file: String

  @Flag(help: "No colors (also when NO_COLOR is set).")
  var noColor = false

  @Flag(help: "Draw with ASCII characters only (automatic when the locale is not UTF-8).")
  var ascii = false

  func run() throws {
    let timeline = Timeline(scenario: try Input.scenario(file))
    try LiveSession.run(LiveController(timeline: timeline), noColor: noColor, ascii: ascii)
  }
}

/// The live view's loop: render, draw, read a key, react. The terminal is restored on every exit.
enum LiveSession {
  static func run(_ controller: LiveController, noColor: Bool, ascii: Bool) throws {
    let terminal: Terminal
    do {
      terminal = try Terminal.open(noColor: noColor)
    } catch {
      Input.fail(
        "\(error); the live view needs a terminal. Use `kvscope check FILE` for a summary or `kvscope frame FILE --step N` for the screen as text."
      )
    }
    defer { terminal.close() }
    var controller = controller
    controller.view.unicode = terminal.unicode && !ascii
    while true {
      terminal.draw(controller.render(width: terminal.width, height: terminal.height))
      let timeout = controller.view.playing ? max(1, 1000 / controller.view.speed) : -1
      let key = terminal.readKey(timeoutMilliseconds: timeout) ?? .tick
      for effect in controller.handle(key) {
        switch effect {
        case .quit: return
        case .redrawAll: terminal.redrawAll()
        case .applied, .toggleRecording: break
        }
      }
    }
  }
}
