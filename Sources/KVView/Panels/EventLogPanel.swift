import KVEngine
import KVText

/// One step of the event log: what the step did and what it found.
struct LogEntry {
  var step: Int
  var text: String
  /// The step's findings as sentences.
  var findings: [String]

  init(_ state: EngineState) {
    step = state.step
    text = state.eventText
    findings = state.findings.map(state.describe)
  }
}

/// The event log: the last steps, newest at the bottom, the current one bold and wrapped so that it
/// reads whole, each step's findings under it; scrolling up goes back in time, down comes back.
struct EventLogPanel: Panel {
  /// The last steps, oldest first.
  let entries: [LogEntry]
  let currentStep: Int
  let focused: Bool
  let scroll: Int
  let g: Glyphs

  /// The panel for `recent` (the current state alone when empty).
  init(state: EngineState, recent: [LogEntry], view: ViewState, g: Glyphs) {
    entries = recent.isEmpty ? [LogEntry(state)] : recent
    currentStep = state.step
    focused = view.focus == .log
    scroll = view.scroll[.log] ?? 0
    self.g = g
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    grid.box(rect, title: "event log", focused: focused, glyphs: g)
    let inner = rect.inner
    guard inner.height > 0, inner.width > 0 else { return }
    var lines: [(String, TextStyle)] = []
    // Only the entries that can show are formatted.
    let needed = inner.height + max(0, scroll)
    var shown: [[(String, TextStyle)]] = []
    var count = 0
    for s in entries.reversed() {
      if count >= needed { break }
      var entry: [(String, TextStyle)] = []
      let text = "#\(s.step) " + s.text
      if s.step == currentStep {
        for piece in Fmt.wrap(text, width: inner.width, indent: 4) {
          entry.append((piece, TextStyle(.accent, bold: true)))
        }
      } else {
        entry.append((Fmt.clip(text, inner.width, ellipsis: g.ellipsis), TextStyle(.normal)))
      }
      for finding in s.findings {
        for piece in Fmt.wrap("! " + finding, width: inner.width, indent: 4) {
          entry.append((piece, TextStyle(.finding, bold: true)))
        }
      }
      count += entry.count
      shown.append(entry)
    }
    for entry in shown.reversed() { lines += entry }
    let offset = min(max(0, scroll), max(0, lines.count - inner.height))
    let end = lines.count - offset
    let start = max(0, end - inner.height)
    for (i, line) in lines[start..<end].enumerated() {
      grid.put(line.0, x: inner.x, y: inner.y + i, in: inner, style: line.1)
    }
    if offset > 0 {
      grid.put(
        "\(g.down) \(offset) newer", x: rect.maxX - 2 - "\(g.down) \(offset) newer".count, y: rect.maxY - 1,
        in: rect, style: TextStyle(.dim))
    }
  }
}
