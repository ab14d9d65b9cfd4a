import KVText

/// What a cell means; the terminal layer maps each role to a color and attributes.
public enum StyleRole: Equatable, Hashable, Sendable {
  case normal
  case dim
  case title
  /// Text of the request with this palette index.
  case owner(Int)
  case free
  case cached
  case shared
  /// The frames the last step touched.
  case touched
  case finding
  case accent
  /// The marked line of the code panel.
  case currentLine
  /// The active phase, the selected item, the focused pane's border.
  case selected
  case hint
}

/// One character cell of the screen: one column on a terminal. A character that would not take exactly
/// one column (a control, wide or zero-width character, from a name or id in a file) is stored as `?`,
/// as `kvscope frame` prints it, so that rows stay aligned at any width.
public struct Cell: Equatable, Sendable {
  public var character: Character {
    get { stored }
    set { stored = TerminalText.cell(newValue) }
  }
  private var stored: Character
  public var role: StyleRole
  public var bold: Bool
  public var reverse: Bool

  public init(
    _ character: Character = " ", role: StyleRole = .normal, bold: Bool = false, reverse: Bool = false
  ) {
    stored = TerminalText.cell(character)
    self.role = role
    self.bold = bold
    self.reverse = reverse
  }
}

/// A text style: a role plus attributes.
public struct TextStyle: Equatable, Sendable {
  public var role: StyleRole
  public var bold: Bool
  public var reverse: Bool

  public init(_ role: StyleRole = .normal, bold: Bool = false, reverse: Bool = false) {
    self.role = role
    self.bold = bold
    self.reverse = reverse
  }
}

/// The screen as an in-memory grid of cells. The renderer draws here; the curses layer copies it out.
public struct Grid: Equatable, Sendable {
  public let width: Int
  public let height: Int
  public private(set) var cells: [Cell]

  public init(width: Int, height: Int) {
    self.width = max(0, width)
    self.height = max(0, height)
    cells = Array(repeating: Cell(), count: self.width * self.height)
  }

  public subscript(x: Int, y: Int) -> Cell {
    get { cells[y * width + x] }
    set {
      guard x >= 0, y >= 0, x < width, y < height else { return }
      cells[y * width + x] = newValue
    }
  }

  /// Writes `text` from column `x` of row `y`, clipped at `maxX` (exclusive) and at the grid's edge.
  /// Returns the column after the last character written.
  @discardableResult
  public mutating func put(_ text: String, x: Int, y: Int, style: TextStyle = TextStyle(), maxX: Int? = nil)
    -> Int
  {
    guard y >= 0, y < height else { return x }
    let limit = min(maxX ?? width, width)
    var column = x
    for character in text {
      if column >= limit { break }
      if column >= 0 {
        cells[y * width + column] = Cell(
          character, role: style.role, bold: style.bold, reverse: style.reverse)
      }
      column += 1
    }
    return column
  }

  /// Fills a rectangle with one cell.
  public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, with cell: Cell = Cell()) {
    for row in max(0, y)..<min(height, y + h) {
      for column in max(0, x)..<min(width, x + w) {
        cells[row * width + column] = cell
      }
    }
  }

  /// One row as plain text, trailing spaces kept.
  public func line(_ y: Int) -> String {
    String(cells[(y * width)..<((y + 1) * width)].map(\.character))
  }

  /// The whole grid as plain text, one line per row, trailing spaces removed.
  public var text: String {
    (0..<height).map { line($0).replacingTrailingSpaces() }.joined(separator: "\n")
  }
}

extension String {
  fileprivate func replacingTrailingSpaces() -> String {
    var s = Substring(self)
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}
