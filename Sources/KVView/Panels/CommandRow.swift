/// The row above the hints: the `:` command line being typed, or the last message. A command longer
/// than the row shows its end (where the cursor is) after an ellipsis that marks the hidden start; a
/// message given while it is typed (the line is full) is shown after it.
struct CommandRow: Panel {
  /// The command line being typed, or nil when closed.
  let commandLine: String?
  let message: StatusMessage?
  let g: Glyphs

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    let y = rect.y
    if let commandLine {
      let note = message.map { "  " + Fmt.clip($0.text, rect.width / 2, ellipsis: g.ellipsis) } ?? ""
      let room = max(0, rect.width - 2 - note.count)
      let shown =
        commandLine.count > room
        ? g.ellipsis + String(commandLine.suffix(max(0, room - g.ellipsis.count))) : commandLine
      let x = grid.put(":" + shown, x: rect.x, y: y, in: rect, style: TextStyle(.accent, bold: true))
      grid.set(g.cursor, x: x, y: y, style: TextStyle(.accent))
      if let message {
        grid.put(note, x: x + 1, y: y, in: rect, style: TextStyle(message.isError ? .finding : .accent))
      }
    } else if let message {
      grid.put(
        Fmt.clip(message.text, rect.width, ellipsis: g.ellipsis), x: rect.x, y: y, in: rect,
        style: TextStyle(message.isError ? .finding : .accent, bold: message.isError))
    }
  }
}
