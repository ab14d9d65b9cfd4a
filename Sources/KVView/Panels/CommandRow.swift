/// The row above the hints: the `:` command line being typed, or the last message.
struct CommandRow: Panel {
  /// The command line being typed, or nil when closed.
  let commandLine: String?
  let message: StatusMessage?
  let g: Glyphs

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    let y = rect.y
    if let commandLine {
      let room = rect.width - 2
      let shown = commandLine.count > room ? String(commandLine.suffix(room)) : commandLine
      let x = grid.put(":" + shown, x: rect.x, y: y, in: rect, style: TextStyle(.accent, bold: true))
      grid.set(g.cursor, x: x, y: y, style: TextStyle(.accent))
    } else if let message {
      grid.put(
        Fmt.clip(message.text, rect.width, ellipsis: g.ellipsis), x: rect.x, y: y, in: rect,
        style: TextStyle(message.isError ? .finding : .accent, bold: message.isError))
    }
  }
}
