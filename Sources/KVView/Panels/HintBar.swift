import KVEngine

/// The bottom row: the key map's hints that apply to this view, the most useful ones that fit.
struct HintBar: Panel {
  /// The hints that apply, in the order they show.
  let hints: [Hint]
  let g: Glyphs

  init(view: ViewState, timeline: Timeline, g: Glyphs) {
    let applying = KeyMap.entries.flatMap(\.hints).filter { $0.condition.holds(view, timeline) }
    hints = applying.filter { !$0.trailing } + applying.filter(\.trailing)
    self.g = g
  }

  /// A bar of `hints` in this order (another view's key table).
  init(hints: [Hint], g: Glyphs) {
    self.hints = hints
    self.g = g
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    let texts = hints.map(drawn)
    let separator = "  "
    var kept = Array(repeating: false, count: hints.count)
    var used = 0
    for priority in Set(hints.map(\.priority)).sorted() {
      for (i, hint) in hints.enumerated() where hint.priority == priority {
        let cost = texts[i].count + (used == 0 ? 0 : separator.count)
        if used + cost <= rect.width {
          kept[i] = true
          used += cost
        }
      }
    }
    let bar = texts.indices.filter { kept[$0] }.map { texts[$0] }.joined(separator: separator)
    grid.put(bar, x: rect.x, y: rect.y, in: rect, style: TextStyle(.hint))
  }

  /// The hint's text with the arrows drawn as the screen's glyphs.
  private func drawn(_ hint: Hint) -> String {
    var text = ""
    for character in hint.text {
      switch character {
      case "←": text += g.left
      case "→": text += g.right
      case "↑": text += g.up
      case "↓": text += g.down
      default: text.append(character)
      }
    }
    return text
  }
}
