/// A rectangle of the grid.
struct Rect: Equatable, Sendable {
  var x: Int
  var y: Int
  var width: Int
  var height: Int

  var maxX: Int { x + width }
  var maxY: Int { y + height }
  /// The inside of a box drawn on this rectangle.
  var inner: Rect { Rect(x: x + 1, y: y + 1, width: max(0, width - 2), height: max(0, height - 2)) }
  var isEmpty: Bool { width <= 0 || height <= 0 }
}

extension Grid {
  /// Writes text clipped to a rectangle's columns, on row `y` if it lies inside it.
  @discardableResult
  mutating func put(_ text: String, x: Int, y: Int, in rect: Rect, style: TextStyle = TextStyle()) -> Int {
    guard y >= rect.y, y < rect.maxY, y >= 0, y < height else { return x }
    guard x < rect.maxX else { return x }
    if x >= rect.x { return put(text, x: x, y: y, style: style, maxX: rect.maxX) }
    // Starts left of the rectangle: skip the hidden characters.
    let skip = rect.x - x
    let shown = String(text.dropFirst(skip))
    return put(shown, x: rect.x, y: y, style: style, maxX: rect.maxX)
  }

  /// Sets one cell if it lies inside the grid.
  mutating func set(_ character: Character, x: Int, y: Int, style: TextStyle = TextStyle()) {
    guard x >= 0, y >= 0, x < width, y < height else { return }
    self[x, y] = Cell(character, role: style.role, bold: style.bold, reverse: style.reverse)
  }

  /// Draws a box with a title in its top border. The focused pane's border and title use `.selected`.
  mutating func box(
    _ rect: Rect, title: String, focused: Bool, glyphs g: Glyphs, titleRole: StyleRole = .title
  ) {
    guard rect.width >= 2, rect.height >= 2 else { return }
    let border = TextStyle(focused ? .selected : .dim, bold: focused)
    let right = rect.maxX - 1
    let bottom = rect.maxY - 1
    set(g.tl, x: rect.x, y: rect.y, style: border)
    set(g.tr, x: right, y: rect.y, style: border)
    set(g.bl, x: rect.x, y: bottom, style: border)
    set(g.br, x: right, y: bottom, style: border)
    if rect.width > 2 {
      for column in (rect.x + 1)..<right {
        set(g.h, x: column, y: rect.y, style: border)
        set(g.h, x: column, y: bottom, style: border)
      }
    }
    if rect.height > 2 {
      for row in (rect.y + 1)..<bottom {
        set(g.v, x: rect.x, y: row, style: border)
        set(g.v, x: right, y: row, style: border)
      }
    }
    if !title.isEmpty && rect.width > 4 {
      let label = focused ? "[ \(title) ]" : " \(title) "
      put(
        label, x: rect.x + 1, y: rect.y, style: TextStyle(focused ? .selected : titleRole, bold: true),
        maxX: right)
    }
  }
}

enum Fmt {
  /// `12345678` as `12,345,678`.
  static func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return value < 0 ? "-" + out : out
  }

  /// Words of `text` packed into lines of at most `width` characters (long words are cut).
  static func wrap(_ text: String, width: Int, indent: Int = 0) -> [String] {
    guard width > 0 else { return [] }
    var lines: [String] = []
    var line = ""
    let pad = String(repeating: " ", count: min(indent, max(0, width - 1)))
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
      var word = Substring(word)
      while true {
        let candidate = line.isEmpty ? (lines.isEmpty ? "" : pad) + word : line + " " + word
        if candidate.count <= width {
          line = String(candidate)
          break
        }
        if !line.isEmpty {
          lines.append(line)
          line = ""
          continue
        }
        // A word longer than a line: cut it.
        let room = width - (lines.isEmpty ? 0 : pad.count)
        let head = word.prefix(max(1, room))
        lines.append((lines.isEmpty ? "" : pad) + head)
        word = word.dropFirst(head.count)
        if word.isEmpty { break }
      }
    }
    if !line.isEmpty || lines.isEmpty { lines.append(line) }
    return lines
  }

  /// `text` cut to `width` characters, ending with an ellipsis when cut.
  static func clip(_ text: String, _ width: Int, ellipsis: String) -> String {
    guard width > 0 else { return "" }
    if text.count <= width { return text }
    return String(text.prefix(max(0, width - ellipsis.count))) + ellipsis.prefix(width)
  }

  static func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
  }

  static func rightAligned(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
  }
}

extension String {
  /// Every occurrence of `target` replaced.
  public func replacingOccurrences(_ target: String, _ replacement: String) -> String {
    guard !target.isEmpty else { return self }
    var result = ""
    var rest = Substring(self)
    while let range = rest.firstRange(of: target) {
      result += rest[..<range.lowerBound]
      result += replacement
      rest = rest[range.upperBound...]
    }
    return result + rest
  }

  /// Without leading and trailing white space.
  var trimmingSpaces: String {
    var s = Substring(self)
    while let c = s.first, c.isWhitespace { s = s.dropFirst() }
    while let c = s.last, c.isWhitespace { s = s.dropLast() }
    return String(s)
  }
}
