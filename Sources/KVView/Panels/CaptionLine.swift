import KVEngine

/// The narration row: the scenario's note reached at the current step (`note 3/9  A arrives...`), or,
/// before the first, when that one comes.
struct CaptionLine: Panel {
  let narration: Narration
  let step: Int
  let g: Glyphs

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    let y = rect.y
    guard let (cue, position) = narration.cue(at: step) else {
      let text =
        narration.cues.first.map {
          "\(narration.notes.count) note\(narration.notes.count == 1 ? "" : "s"); the first at step \(Fmt.grouped($0.step))"
        } ?? "no note of this scenario is reached in this run"
      grid.put(
        Fmt.clip(text, rect.width, ellipsis: g.ellipsis), x: rect.x, y: y, in: rect, style: TextStyle(.dim))
      return
    }
    let label = "note \(position + 1)/\(narration.cues.count) "
    let x = grid.put(label, x: rect.x, y: y, in: rect, style: TextStyle(.accent))
    let text = narration.notes[cue.note].text
    grid.put(
      Fmt.clip(text, rect.maxX - x, ellipsis: g.ellipsis), x: x, y: y, in: rect,
      style: TextStyle(.normal, bold: true))
  }
}
