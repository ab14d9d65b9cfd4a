import KVText
import KVView

/// Turns grids into terminal output: each row placed with cursor positioning, styles as SGR colour and
/// attribute codes in the live view's colours (owners blue, red, green, magenta, cyan, yellow).
public struct AnsiScreen: Sendable {
  /// False: attributes only (bold, dim, reverse), as the live view draws with `--no-color`.
  public var colored: Bool

  public init(colored: Bool = true) { self.colored = colored }

  /// The output that turns a terminal showing `previous` (nil: anything) into one showing `grid`:
  /// the whole screen the first time, then only the rows that changed.
  public func output(_ grid: Grid, after previous: Grid?) -> String {
    var text = previous == nil ? "\u{1B}[0m\u{1B}[?25l\u{1B}[H\u{1B}[2J" : ""
    let comparable = previous.map { $0.width == grid.width && $0.height == grid.height } ?? false
    for y in 0..<grid.height {
      let row = grid.cells[(y * grid.width)..<((y + 1) * grid.width)]
      if comparable, let previous, previous.cells[(y * grid.width)..<((y + 1) * grid.width)] == row {
        continue
      }
      text += "\u{1B}[\(y + 1);1H" + line(row)
    }
    return text
  }

  /// One row: characters with SGR codes where the style changes; trailing plain blanks are erased
  /// instead of written.
  private func line(_ cells: ArraySlice<Cell>) -> String {
    var end = cells.endIndex
    while end > cells.startIndex, cells[end - 1].character == " ", codes(cells[end - 1]).isEmpty { end -= 1 }
    var text = ""
    var current: [Int] = []
    for cell in cells[cells.startIndex..<end] {
      let wanted = codes(cell)
      if wanted != current {
        text += "\u{1B}[" + ([0] + wanted).map(String.init).joined(separator: ";") + "m"
        current = wanted
      }
      text.append(TerminalText.cell(cell.character))
    }
    if !current.isEmpty { text += "\u{1B}[0m" }
    return text + "\u{1B}[K"
  }

  /// The SGR codes of a cell, without the leading reset; empty for the default style.
  func codes(_ cell: Cell) -> [Int] {
    var bold = cell.bold
    var reverse = cell.reverse
    var dim = false
    var color: Int?
    switch cell.role {
    case .normal: break
    case .dim, .free:
      if colored { color = 90 } else { dim = true }
    case .title: bold = true
    case .owner(let index): color = Self.ownerColors[(index % 6 + 6) % 6]
    case .cached: color = 33
    case .shared:
      bold = true
      color = 35
    case .touched, .selected:
      reverse = true
      bold = true
    case .finding:
      bold = true
      color = 31
    case .accent:
      if colored { color = 36 } else { bold = true }
    case .currentLine, .hint: reverse = true
    }
    var codes: [Int] = []
    if bold { codes.append(1) }
    if dim { codes.append(2) }
    if reverse { codes.append(7) }
    if colored, let color { codes.append(color) }
    return codes
  }

  /// Blue, red, green, magenta, cyan, yellow: the live view's owner palette.
  private static let ownerColors = [34, 31, 32, 35, 36, 33]
}
