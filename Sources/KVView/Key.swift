/// A key press, as the terminal layer decodes it. The view reacts to these; it never sees curses codes.
public enum Key: Equatable, Sendable {
  case character(Character)
  case control(Character)
  case up, down, left, right
  case pageUp, pageDown, home, end
  case tab, backTab
  case enter, escape, backspace
  case function(Int)
  /// The terminal changed size.
  case resize
  /// A timer tick with no key (drives play mode).
  case tick
}
