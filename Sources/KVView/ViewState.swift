import KVEngine
import KVText

/// A pane of the live view that can take focus and scroll.
public enum Pane: String, Sendable, CaseIterable {
  case frames, tables, queues, code, log
}

/// A message shown on the command line row after a command.
public struct StatusMessage: Equatable, Sendable {
  public var text: String
  public var isError: Bool

  public init(_ text: String, isError: Bool = false) {
    self.text = text
    self.isError = isError
  }
}

/// Everything about the view that is not engine state: focus, scrolling, overlays, play mode.
public struct ViewState: Equatable, Sendable {
  public var focus: Pane = .frames
  /// First visible row (or item) of each pane.
  public var scroll: [Pane: Int] = [:]
  /// The help overlay is open.
  public var showHelp = false
  /// The `:` command line being typed, or nil when closed.
  public var commandLine: String?
  /// The result of the last command or key.
  public var message: StatusMessage?
  public var playing = false
  /// Steps per second while playing.
  public var speed = 4
  /// What one play tick advances.
  public var playGranularity: Granularity = .step
  /// Box-drawing and block characters allowed (a UTF-8 locale).
  public var unicode = true
  /// A request whose frames are highlighted (`:find ID`).
  public var selectedRequest: Int?
  /// A frame whose details are shown.
  public var selectedFrame: Int?
  /// Frames per cell in the frames panel: 0 chooses automatically (1 when they fit).
  public var zoom = 0
  /// First frame shown when the frames panel does not show the whole pool.
  public var viewportStart = 0
  /// A title for the status line when the source is not a scenario file (a trace, for example).
  public var sourceLabel: String?
  /// True when the run is being recorded.
  public var recording = false
  /// The kind of event `:next` or `:prev` chose last; `e` and `E` jump to the next and previous one.
  public var eventKind: EventKind?
  /// Predict-then-reveal (`--quiz`, `Q`): nil until first turned on.
  public var quiz: QuizSession?

  public init() {}
}
