import CNcurses
import KVView

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why the terminal could not be opened.
public struct TerminalError: Error, CustomStringConvertible {
  /// A message for the user, e.g. "stdout is not a terminal".
  public let message: String

  /// Makes an error with `message`.
  public init(_ message: String) { self.message = message }

  public var description: String { message }
}

/// The real terminal, through ncurses: copies a `Grid` to the screen and reads keys as `Key` values.
///
/// Only one terminal may be open at a time. `open` installs handlers so that SIGINT, SIGTERM, SIGHUP
/// and SIGQUIT restore the terminal and exit with 128 + the signal number (130, 143, 129, 131), and
/// crash signals restore the terminal before the crash is reported. Ctrl-Z (SIGTSTP) and resizes
/// (SIGWINCH) are handled by ncurses: suspending restores the terminal, and `fg` redraws the screen.
public final class Terminal {
  private var screen: OpaquePointer?
  private let colored: Bool
  private var styles: [StyleRole: (attributes: attr_t, pair: Int16)] = [:]

  /// True when the locale's character set is UTF-8: the renderer may use box-drawing and block
  /// characters. Otherwise it must draw ASCII only (`draw` maps anything else to an ASCII fallback).
  public let unicode: Bool

  /// Whether colors are in use (the terminal has them, and neither `noColor` nor `NO_COLOR` is set).
  public var usesColor: Bool { colored }

  /// The terminal's width in columns (updated after a `.resize` key).
  public var width: Int { screen == nil ? 0 : Int(kv_getmaxx(kv_stdscr())) }

  /// The terminal's height in rows (updated after a `.resize` key).
  public var height: Int { screen == nil ? 0 : Int(kv_getmaxy(kv_stdscr())) }

  private init(screen: OpaquePointer, unicode: Bool, colored: Bool) {
    self.screen = screen
    self.unicode = unicode
    self.colored = colored
  }

  deinit { close() }

  /// Opens the terminal and switches it to full-screen mode: cbreak (Ctrl-C and Ctrl-Z still
  /// signal), no echo, keypad keys decoded, cursor hidden, a 25 ms Esc delay, and colors on the
  /// terminal's default background unless `noColor` is true or `NO_COLOR` is set and non-empty.
  ///
  /// - Throws: `TerminalError` when stdin or stdout is not a terminal, `TERM` is not set, or the
  ///   terminal type is unknown. Nothing is written to the terminal in that case.
  public static func open(noColor: Bool = false) throws -> Terminal {
    guard isatty(STDOUT_FILENO) != 0 else { throw TerminalError("stdout is not a terminal") }
    guard isatty(STDIN_FILENO) != 0 else { throw TerminalError("stdin is not a terminal") }
    guard let term = getenv("TERM").map({ String(cString: $0) }), !term.isEmpty else {
      throw TerminalError("TERM is not set")
    }
    setlocale(LC_ALL, "")
    // Only the character set matters here; keep number formatting and parsing locale-independent.
    setlocale(LC_NUMERIC, "C")
    let unicode = localeIsUTF8()

    _ = registerExitHook
    // Before newterm, so ncurses leaves SIGINT/SIGTERM to us. The shim keeps the saved actions in
    // per-object-file statics, so install and restore must both be called from this file.
    kv_install_signal_handlers()
    guard let screen = newterm(nil, kv_stdout(), kv_stdin()) else {
      kv_restore_signal_handlers()
      throw TerminalError("unknown terminal type '\(term)'")
    }
    set_term(screen)
    cbreak()
    noecho()
    keypad(kv_stdscr(), true)
    defineOtherHomeAndEnd()
    intrflush(kv_stdscr(), false)
    curs_set(0)
    set_escdelay(25)

    let noColorEnv = getenv("NO_COLOR").map { String(cString: $0) } ?? ""
    var colored = false
    if !noColor, noColorEnv.isEmpty, has_colors() {
      colored = start_color() != ERR
    }
    let terminal = Terminal(screen: screen, unicode: unicode, colored: colored)
    terminal.setUpStyles()
    return terminal
  }

  /// Home and End as other terminals send them (tmux and screen, rxvt, xterm's two modes), for when
  /// `TERM` names another terminal than the one in use (an xterm entry inside tmux is common): without
  /// this, `ESC [4~` would be read as Esc, `[`, `4` and `~`. Sequences the entry already has are kept.
  private static func defineOtherHomeAndEnd() {
    let sequences: [(String, Int32)] = [
      ("\u{1b}[1~", KEY_HOME), ("\u{1b}[7~", KEY_HOME), ("\u{1b}[H", KEY_HOME), ("\u{1b}OH", KEY_HOME),
      ("\u{1b}[4~", KEY_END), ("\u{1b}[8~", KEY_END), ("\u{1b}[F", KEY_END), ("\u{1b}OF", KEY_END),
    ]
    for (sequence, code) in sequences where key_defined(sequence) == 0 {
      define_key(sequence, code)
    }
  }

  /// Restores the terminal (cursor visible, echo on, the normal screen back) and releases it.
  /// Safe to call more than once; also called when the terminal is deallocated.
  public func close() {
    guard let screen else { return }
    self.screen = nil
    endwin()
    delscreen(screen)
    kv_restore_signal_handlers()
  }

  /// Copies `grid` to the screen: cell (x, y) of the grid goes to column x of row y, clipped to the
  /// terminal's size; any part of the terminal outside the grid is cleared. Style roles map to
  /// colors (when in use) and attributes; `Cell.bold` and `Cell.reverse` add their attributes.
  public func draw(_ grid: Grid) {
    guard screen != nil else { return }
    let window = kv_stdscr()
    werase(window)
    let rows = min(grid.height, height)
    let columns = min(grid.width, width)
    var cell = cchar_t()
    var text: [wchar_t] = [0, 0]
    for y in 0..<rows {
      for x in 0..<columns {
        let source = grid[x, y]
        text[0] = wchar_t(bitPattern: displayScalar(source.character).value)
        let style = style(for: source.role)
        var attributes = style.attributes
        if source.bold { attributes |= kv_a_bold() }
        if source.reverse { attributes |= kv_a_reverse() }
        setcchar(&cell, text, attributes, style.pair, nil)
        // Writing the bottom-right cell returns ERR (the cursor cannot advance) but still draws.
        mvwadd_wch(window, Int32(y), Int32(x), &cell)
      }
    }
    wnoutrefresh(window)
    doupdate()
  }

  /// Repaints the whole screen from scratch (for Ctrl-L), e.g. after another program wrote over it.
  public func redrawAll() {
    guard screen != nil else { return }
    wrefresh(kv_curscr())
  }

  /// Waits up to `timeoutMilliseconds` for a key (a negative timeout waits for ever) and returns it,
  /// or nil on timeout. Keys with no `Key` value (e.g. Insert, Ctrl-arrows) are skipped.
  public func readKey(timeoutMilliseconds: Int) -> Key? {
    guard screen != nil else { return nil }
    let window = kv_stdscr()
    let deadline = timeoutMilliseconds >= 0 ? monotonicMilliseconds() + timeoutMilliseconds : nil
    while true {
      var wait = -1
      if let deadline { wait = max(0, deadline - monotonicMilliseconds()) }
      wtimeout(window, Int32(clamping: wait))
      var code: wint_t = 0
      let result = wget_wch(window, &code)
      if result == ERR {
        // Timeout, or interrupted by a signal (e.g. after Ctrl-Z and fg): give the caller a turn.
        return nil
      }
      let key =
        result == KEY_CODE_YES
        ? Self.decodeKeyCode(Int32(bitPattern: code)) : Self.decodeCharacter(UInt32(code))
      // After a resize the terminal may hold output drawn for the old size: the next drawing clears
      // the screen and writes every cell, instead of only what changed.
      if key == .resize { clearok(window, true) }
      if let key { return key }
      if let deadline, monotonicMilliseconds() >= deadline { return nil }
    }
  }

  // MARK: Keys

  /// Decodes a curses key code (get_wch returned KEY_CODE_YES).
  static func decodeKeyCode(_ code: Int32) -> Key? {
    switch code {
    case KEY_UP: return .up
    case KEY_DOWN: return .down
    case KEY_LEFT: return .left
    case KEY_RIGHT: return .right
    case KEY_PPAGE, KEY_A3: return .pageUp
    case KEY_NPAGE, KEY_C3: return .pageDown
    case KEY_HOME, KEY_A1: return .home
    case KEY_END, KEY_C1: return .end
    case KEY_BTAB: return .backTab
    case KEY_ENTER: return .enter
    case KEY_BACKSPACE: return .backspace
    case KEY_RESIZE: return .resize
    default:
      for n in 1...12 where code == kv_key_f(Int32(n)) { return .function(n) }
      return nil
    }
  }

  /// Decodes a character get_wch returned.
  static func decodeCharacter(_ value: UInt32) -> Key? {
    switch value {
    case 9: return .tab
    case 10, 13: return .enter
    case 27: return .escape
    case 8, 127: return .backspace
    case 0: return .control("@")
    case 1...26: return .control(Character(Unicode.Scalar(UInt8(value) + 0x60)))
    case 28...31: return .control(Character(Unicode.Scalar(UInt8(value) + 0x40)))
    case 0x80..<0xA0: return nil
    default:
      guard let scalar = Unicode.Scalar(value) else { return nil }
      return .character(Character(scalar))
    }
  }

  // MARK: Styles

  private enum Color {
    static let palette: [Int16] = [
      Int16(COLOR_BLUE), Int16(COLOR_RED), Int16(COLOR_GREEN),
      Int16(COLOR_MAGENTA), Int16(COLOR_CYAN), Int16(COLOR_YELLOW),
    ]
  }

  /// Pairs 1...6 are the owner palette (blue, red, green, magenta, cyan, yellow) on the default
  /// background; pair 7 is dark gray when the terminal has 16 colors or more.
  private func setUpStyles() {
    let bold = kv_a_bold()
    let dim = kv_a_dim()
    let reverse = kv_a_reverse()
    var grayPair: Int16 = 0
    var background: Int16 = -1
    if colored {
      if use_default_colors() == ERR { background = Int16(COLOR_BLACK) }
      for (index, color) in Color.palette.enumerated() {
        init_pair(Int16(index + 1), color, background)
      }
      if kv_colors() >= 16, background == -1 {
        init_pair(7, 8, background)
        grayPair = 7
      }
    }
    func pair(_ color: Int32) -> Int16 {
      colored ? Int16(Color.palette.firstIndex(of: Int16(color))! + 1) : 0
    }
    let dimStyle: (attr_t, Int16) = grayPair != 0 ? (0, grayPair) : (dim, 0)
    styles = [
      .normal: (0, 0),
      .dim: dimStyle,
      .title: (bold, 0),
      .free: dimStyle,
      .cached: (0, pair(COLOR_YELLOW)),
      .shared: (bold, pair(COLOR_MAGENTA)),
      .touched: (reverse | bold, 0),
      .finding: (bold, pair(COLOR_RED)),
      .accent: (colored ? 0 : bold, pair(COLOR_CYAN)),
      .currentLine: (reverse, 0),
      .selected: (reverse | bold, 0),
      .hint: (reverse, 0),
    ]
  }

  private func style(for role: StyleRole) -> (attributes: attr_t, pair: Int16) {
    if case .owner(let index) = role {
      guard colored else { return (0, 0) }
      let count = Color.palette.count
      return (0, Int16((index % count + count) % count + 1))
    }
    return styles[role] ?? (0, 0)
  }

  // MARK: Characters

  /// The scalar to put in a cell: in ASCII mode an ASCII fallback; in UTF-8 mode the character's
  /// first scalar when it takes one column, "?" otherwise (the grid has one cell per column).
  private func displayScalar(_ character: Character) -> Unicode.Scalar {
    if !unicode { return Self.asciiFallback(character).unicodeScalars.first! }
    let scalar = character.unicodeScalars.first!
    if scalar.isASCII {
      return scalar.value < 0x20 || scalar.value == 0x7F ? " " : scalar
    }
    return kv_wcwidth(wchar_t(bitPattern: scalar.value)) == 1 ? scalar : "?"
  }

  /// An ASCII stand-in for `character`: box drawing becomes `+ - |`, block shades `#` or `.`,
  /// arrows `> < ^ v`, a few common symbols their usual ASCII look-alikes, anything else `?`.
  /// ASCII characters come back unchanged (control characters become a space).
  public static func asciiFallback(_ character: Character) -> Character {
    guard let scalar = character.unicodeScalars.first else { return " " }
    let v = scalar.value
    if v < 0x80 { return v < 0x20 || v == 0x7F ? " " : Character(scalar) }
    switch v {
    // Box drawing: horizontal lines, vertical lines, everything else (corners, tees, crosses).
    case 0x2500, 0x2501, 0x2504, 0x2505, 0x2508, 0x2509, 0x254C, 0x254D, 0x2550, 0x2574, 0x2576, 0x2578,
      0x257A, 0x257C, 0x257E:
      return "-"
    case 0x2502, 0x2503, 0x2506, 0x2507, 0x250A, 0x250B, 0x254E, 0x254F, 0x2551, 0x2575, 0x2577, 0x2579,
      0x257B, 0x257D, 0x257F:
      return "|"
    case 0x2500...0x257F: return "+"
    // Block elements: light shade reads as empty, the rest as filled.
    case 0x2591: return "."
    case 0x2580...0x259F: return "#"
    // Geometric shapes.
    case 0x25A0, 0x25AA, 0x25AC, 0x25AE: return "#"
    case 0x25A1, 0x25AB, 0x25AD, 0x25AF: return "."
    case 0x25B2, 0x25B3, 0x25B4, 0x25B5: return "^"
    case 0x25B6, 0x25B7, 0x25B8, 0x25B9, 0x25BA, 0x25BB: return ">"
    case 0x25BC, 0x25BD, 0x25BE, 0x25BF: return "v"
    case 0x25C0, 0x25C1, 0x25C2, 0x25C3, 0x25C4, 0x25C5: return "<"
    case 0x25CB, 0x25CC, 0x25EF: return "o"
    case 0x25C6, 0x25C7, 0x25C8, 0x25CF, 0x2022, 0x2023, 0x2043, 0x2219: return "*"
    // Arrows.
    case 0x2190, 0x21D0, 0x27F5, 0x27F8, 0x2039, 0x00AB, 0x276E: return "<"
    case 0x2192, 0x21D2, 0x27F6, 0x27F9, 0x203A, 0x00BB, 0x276F, 0x279C, 0x27A4: return ">"
    case 0x2191, 0x21D1: return "^"
    case 0x2193, 0x21D3: return "v"
    case 0x2194, 0x21D4: return "-"
    case 0x2195, 0x21D5: return "|"
    // Punctuation and symbols.
    case 0x00A0, 0x2000...0x200A, 0x202F: return " "
    case 0x00B7, 0x2026, 0x22C5: return "."
    case 0x2010...0x2015, 0x2212: return "-"
    case 0x2018, 0x2019, 0x201A, 0x2032: return "'"
    case 0x201C, 0x201D, 0x201E, 0x2033: return "\""
    case 0x00D7, 0x2715, 0x2716, 0x2717, 0x2718: return "x"
    case 0x2713, 0x2714: return "+"
    case 0x2264: return "<"
    case 0x2265: return ">"
    case 0x2260: return "#"
    case 0x2248: return "~"
    default: return "?"
    }
  }
}

// MARK: Helpers

/// Registered once: restores the terminal if the process exits (exit(), or returning from main)
/// while a terminal is still open. endwin() does nothing harmful when no screen is active.
private let registerExitHook: Void = {
  atexit {
    if isendwin() == false { endwin() }
  }
}()

private func localeIsUTF8() -> Bool {
  guard let codeset = kv_codeset() else { return false }
  let name = String(cString: codeset).lowercased().filter { $0 != "-" && $0 != "_" }
  return name == "utf8"
}

private func monotonicMilliseconds() -> Int {
  var now = timespec()
  clock_gettime(CLOCK_MONOTONIC, &now)
  return Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000
}
