import KVScenario

/// The current batch's events in a box, one line each (a store's blocks, parent and tokens, then how
/// its chain met the cache), cut with a count of the lines left out when the box is full.
struct BatchEventsPanel: Panel {
  let lines: [(String, TextStyle)]
  let title: String
  let g: Glyphs

  /// The events of batch `index` of `history`.
  init(history: KVEventHistory, batch index: Int, g: Glyphs) {
    self.g = g
    let batch = history.stream.batches[index]
    let contexts = history.storeContexts(of: index)
    var storeIndex = 0
    var lines: [(String, TextStyle)] = []
    for event in batch.events {
      switch event {
      case .stored(let s):
        let tokens = s.tokenCounts.reduce(0, +)
        let after = s.parent.map { EventText.short($0, g) } ?? "none"
        var head =
          "+ stored \(s.hashes.count) block\(s.hashes.count == 1 ? "" : "s"), \(tokens) tok, after \(after)"
        if let medium = s.medium { head += " (\(medium))" }
        lines.append((head, TextStyle(.touched, bold: true)))
        lines.append(("  " + s.hashes.map { EventText.short($0, g) }.joined(separator: " "), TextStyle()))
        if storeIndex < contexts.count {
          lines.append(("  " + Self.sentence(contexts[storeIndex], g), TextStyle(.dim)))
        }
        storeIndex += 1
      case .removed(let hashes, let medium):
        var head = "- removed \(hashes.count) block\(hashes.count == 1 ? "" : "s")"
        if let medium { head += " (\(medium))" }
        lines.append((head, TextStyle(.finding, bold: true)))
        lines.append(("  " + hashes.map { EventText.short($0, g) }.joined(separator: " "), TextStyle()))
      case .cleared:
        lines.append(("AllBlocksCleared: every cached block is gone", TextStyle(.finding, bold: true)))
      case .created(let levels):
        let pools = levels.map(Fmt.grouped).joined(separator: ", ")
        lines.append(("created: blocks per cache level \(pools)", TextStyle(.accent)))
      case .updated(let hash, let change):
        lines.append(("updated \(EventText.short(hash, g)): \(change)", TextStyle(.accent)))
      }
    }
    let summary = history.summaries[index]
    if summary.unknownRemovals > 0 {
      lines.append(
        (
          "\(summary.unknownRemovals) removed block(s) were not resident: stored before the recording?",
          TextStyle(.finding)
        ))
    }
    if lines.isEmpty { lines.append(("no events in this batch", TextStyle(.dim))) }
    self.lines = lines
    title =
      "batch \(Fmt.grouped(index + 1)): \(batch.events.count) event\(batch.events.count == 1 ? "" : "s"), ts \(batch.ts), line \(batch.line)"
  }

  /// How a store's chain met the cache, in words.
  static func sentence(_ context: KVEventHistory.StoreContext, _ g: Glyphs) -> String {
    switch context {
    case .root: "starts a sequence"
    case .extends(let blocks, let tokens):
      "extends \(blocks) cached block\(blocks == 1 ? "" : "s") (\(tokens) tok): a hit or the same request"
    case .branches(let blocks, let tokens):
      "shares \(blocks) cached block\(blocks == 1 ? "" : "s") (\(tokens) tok) with another sequence: a prefix hit"
    case .detached(let parent):
      "parent \(EventText.short(parent, g)) not resident: evicted, or before the recording"
    }
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    guard rect.width >= 10, rect.height >= 3 else { return }
    grid.box(rect, title: Fmt.clip(title, rect.width - 4, ellipsis: g.ellipsis), focused: false, glyphs: g)
    let inner = rect.inner
    // Long lines wrap, their continuation indented.
    var wrapped: [(String, TextStyle)] = []
    for (text, style) in lines {
      let lead = String(text.prefix { $0 == " " })
      for piece in Fmt.wrap(text, width: max(1, inner.width - lead.count), indent: 2) {
        wrapped.append((lead + piece, style))
      }
    }
    var shown = wrapped
    if shown.count > inner.height {
      shown = Array(shown.prefix(max(0, inner.height - 1)))
      shown.append(("\(g.ellipsis) \(wrapped.count - shown.count) more lines", TextStyle(.dim)))
    }
    for (row, (text, style)) in shown.enumerated() {
      grid.put(
        Fmt.clip(text, inner.width, ellipsis: g.ellipsis), x: inner.x, y: inner.y + row, in: inner,
        style: style)
    }
  }
}
