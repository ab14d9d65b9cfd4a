import KVTerminal
import KVView

/// The compare view's loop: render, draw, read a key, react, until `q`. The terminal is restored on
/// every exit; without a terminal the command exits with status 2.
enum ComparePlay {
  static func run(_ controller: CompareController, display: DisplayOptions) throws {
    let terminal = ViewTerminal.open(
      display: display, view: "the compare view",
      instead: "Use `kvscope check FILE` for a summary of each run.")
    defer { terminal.close() }
    var controller = controller
    controller.view.unicode = display.unicode(on: terminal)
    while true {
      terminal.draw(controller.render(width: terminal.width, height: terminal.height))
      // No play mode: wait for a key; a resize comes as a key and redraws at the new size.
      guard let key = terminal.readKey(timeoutMilliseconds: -1) else { continue }
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
