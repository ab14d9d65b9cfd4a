import Foundation
import KVEngine
import KVTerminal
import KVView

/// Opening a file in the live view: the terminal is put in its mode first (so keys typed meanwhile are
/// not echoed), then the file is read and its run built under a progress line. `q` quits at once with
/// status 0 and the terminal restored; a bad file restores the terminal before its message.
final class ViewOpening {
  private let terminal: Terminal
  private let title: String
  private var lastDrawn: UInt64 = 0

  /// Steps between two looks at the clock and the keyboard while the run is built.
  private static let stride = 1024
  /// Nanoseconds between two redraws of the progress line.
  private static let redrawInterval: UInt64 = 100_000_000

  init(terminal: Terminal, title: String) {
    self.terminal = terminal
    self.title = title
  }

  /// Reads the file with `body` under "reading the file..."; on failure restores the terminal and exits
  /// with status 2 and the message. The notes of what was read are returned for after the view.
  func read<Value>(_ body: () throws(Input.Failure) -> Input.Read<Value>) -> Input.Read<Value> {
    draw(nil)
    do {
      return try body()
    } catch {
      terminal.close()
      Input.fail(error.description)
    }
  }

  /// Builds the run of `scenario` with `actions`, redrawing the progress and reading keys as it goes.
  func build(_ scenario: Scenario, actions: [Int: UserAction]) -> Timeline {
    draw(BuildProgress(steps: 0, iteration: 0, requestsDone: 0, requests: scenario.requests.count))
    return Timeline(
      scenario: scenario, actions: actions,
      observe: { state in
        guard state.step % Self.stride == 0 else { return }
        self.tick(state)
      })
  }

  /// Every `stride` steps: quits on `q`, redraws on a resize or when the last drawing is old.
  private func tick(_ state: EngineState) {
    var resized = false
    while let key = terminal.readKey(timeoutMilliseconds: 0) {
      switch key {
      case .character("q"), .character("Q"):
        terminal.close()
        Foundation.exit(0)
      case .resize: resized = true
      default: break
      }
    }
    if resized || DispatchTime.now().uptimeNanoseconds - lastDrawn >= Self.redrawInterval {
      draw(BuildProgress(state))
    }
  }

  private func draw(_ progress: BuildProgress?) {
    lastDrawn = DispatchTime.now().uptimeNanoseconds
    terminal.draw(
      OpeningScreen(title: title, progress: progress).render(width: terminal.width, height: terminal.height))
  }
}
