/// The help overlay, centered on the screen: a key table's rows in one or two columns, its notes, the
/// `:` commands and the scenario's description.
struct HelpOverlay: Panel {
  /// The rows of the key table: the keys, what they do.
  let keyRows: [(keys: String, action: String)]
  /// Sentences under the key table.
  let notes: [String]
  /// The `:` commands, or nil for a view without a command line.
  let commands: String?
  /// The scenario's description, shown under the commands when it is not empty.
  let description: String
  let g: Glyphs

  /// The live view's help: its key map and its `:` commands.
  init(description: String, g: Glyphs) {
    var keyRows: [(keys: String, action: String)] = []
    var notes: [String] = []
    for entry in KeyMap.entries {
      switch entry.help {
      case .row(let keys, let action): keyRows.append((keys, action))
      case .note(let text): notes.append(text)
      }
    }
    notes.append(FramesPanel.marks(g))
    self.init(keyRows: keyRows, notes: notes, commands: CommandParser.usage, description: description, g: g)
  }

  init(
    keyRows: [(keys: String, action: String)], notes: [String], commands: String?, description: String,
    g: Glyphs
  ) {
    self.keyRows = keyRows
    self.notes = notes
    self.commands = commands
    self.description = description
    self.g = g
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    let width = rect.width
    let height = rect.height
    let boxWidth = min(width - 2, 96)
    let innerWidth = boxWidth - 4
    let rows = keyRows.map { (asciiKeys($0.keys), asciiKeys($0.action)) }
    let notes = notes.map(asciiKeys)
    let keyWidth = rows.map { $0.0.count }.max() ?? 0
    let columnWidth = keyWidth + 2 + (rows.map { $0.1.count }.max() ?? 0)
    let columns = innerWidth >= columnWidth * 2 + 2 ? 2 : 1
    let gap = max(2, min(6, innerWidth - columnWidth * 2))
    let perColumn = (rows.count + columns - 1) / columns
    var body: [(String, TextStyle)] = []
    for row in 0..<perColumn {
      var text = ""
      for column in 0..<columns {
        let index = column * perColumn + row
        guard index < rows.count else { continue }
        let (keys, action) = rows[index]
        let cell = Fmt.padded(keys, keyWidth) + "  " + action
        text += column == 0 && columns > 1 ? Fmt.padded(cell, columnWidth + gap) : cell
      }
      body.append((text, TextStyle(.normal)))
    }
    for note in notes { body.append((note, TextStyle(.dim))) }
    if let commands {
      body.append(("", TextStyle()))
      for line in Fmt.wrap(commands, width: innerWidth, indent: 2) {
        body.append((line, TextStyle(.accent)))
      }
    }
    let description = description.trimmingSpaces
    if !description.isEmpty {
      body.append(("", TextStyle()))
      for line in Fmt.wrap(description, width: innerWidth) { body.append((line, TextStyle(.dim))) }
    }
    let boxHeight = min(height - 2, body.count + 3)
    let box = Rect(
      x: rect.x + (width - boxWidth) / 2, y: rect.y + max(1, (height - boxHeight) / 2), width: boxWidth,
      height: boxHeight)
    grid.fill(x: box.x, y: box.y, width: box.width, height: box.height)
    grid.box(box, title: "help: keys", focused: true, glyphs: g)
    let inner = Rect(x: box.x + 2, y: box.y + 1, width: innerWidth, height: max(0, boxHeight - 3))
    for (i, line) in body.prefix(inner.height).enumerated() {
      grid.put(line.0, x: inner.x, y: inner.y + i, in: inner, style: line.1)
    }
    grid.put(" Esc closes ", x: box.maxX - 14, y: box.maxY - 1, in: box, style: TextStyle(.hint))
  }

  /// Arrows as words when the screen is ASCII.
  private func asciiKeys(_ text: String) -> String {
    guard !g.unicode else { return text }
    return text.replacingOccurrences("→", "Right").replacingOccurrences("←", "Left")
      .replacingOccurrences("↑", "Up").replacingOccurrences("↓", "Down")
  }
}
