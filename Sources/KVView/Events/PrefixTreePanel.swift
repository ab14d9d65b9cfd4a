import KVScenario

/// The rows of a prefix tree as the view lists them: one per block, a chain continuing at the same
/// indent and a branch indented under its parent; folded, a run of two or more blocks that each have
/// one child and are neither stored nor removed in this batch shows as one row.
struct PrefixTreeRows {
  /// One row: a block, or a folded run of blocks.
  struct Row: Equatable {
    var node: PrefixTree.Node
    /// Blocks folded into this row (1 for a single block); `node` is the last of them.
    var blocks: Int
    /// Tokens of the folded blocks together.
    var tokens: Int
    var indent: Int
    /// The first block of the row starts a tree (it has no parent in the tree).
    var isRoot: Bool
  }

  private(set) var rows: [Row] = []

  init(tree: PrefixTree, folded: Bool) {
    // The indent and child count of the latest node at each level: a node's parent is the latest one
    // a level above it.
    var indents: [Int] = []
    var childCounts: [Int] = []
    for node in tree.nodes {
      let indent =
        node.level == 0 ? 0 : indents[node.level - 1] + (childCounts[node.level - 1] > 1 ? 1 : 0)
      if indents.count <= node.level {
        indents.append(indent)
        childCounts.append(node.children)
      } else {
        indents[node.level] = indent
        childCounts[node.level] = node.children
        indents.removeSubrange((node.level + 1)...)
        childCounts.removeSubrange((node.level + 1)...)
      }
      let plain = node.children == 1 && !node.storedNow && !node.removedNow && !node.detached
      if folded, plain, let last = rows.last, last.node.children == 1, last.indent == indent,
        last.node.level == node.level - 1, !last.node.storedNow, !last.node.removedNow, !last.node.detached
      {
        rows[rows.count - 1] = Row(
          node: node, blocks: last.blocks + 1, tokens: last.tokens + node.tokens, indent: indent,
          isRoot: last.isRoot)
      } else {
        rows.append(Row(node: node, blocks: 1, tokens: node.tokens, indent: indent, isRoot: node.level == 0))
      }
    }
  }
}

/// The prefix tree of the cached blocks after the batch, in a box: each block's hash, its tokens and
/// the tokens of its chain; a tree's first block marked `▶`, the blocks this batch stored `+`, those it
/// removed `-`.
struct PrefixTreePanel: Panel {
  let rows: [PrefixTreeRows.Row]
  let resident: Int
  let scroll: Int
  let folded: Bool
  let g: Glyphs

  func draw(into grid: inout Grid, in rect: Rect) {
    guard rect.width >= 10, rect.height >= 3 else { return }
    let title = "prefix tree: \(Fmt.grouped(resident)) resident\(folded ? ", folded (f)" : "")"
    let lines = rows.isEmpty ? [("the cache holds no blocks", TextStyle(.dim))] : rows.map(line)
    ScrolledLinesBox(
      title: Fmt.clip(title, rect.width - 4, ellipsis: g.ellipsis), lines: lines, focused: false,
      scroll: scroll, g: g
    )
    .draw(into: &grid, in: rect)
  }

  /// A row's text and style.
  private func line(_ row: PrefixTreeRows.Row) -> (String, TextStyle) {
    let node = row.node
    let pad = String(repeating: "  ", count: min(row.indent, 12))
    let mark = node.storedNow ? "+" : node.removedNow ? "-" : " "
    var text = pad + mark + (row.isRoot ? g.marker : " ") + " "
    if row.blocks > 1 {
      text += "\(row.blocks) blocks to \(EventText.short(node.hash, g))  \(row.tokens) tok"
    } else {
      text += "\(EventText.short(node.hash, g))  \(node.tokens) tok"
    }
    text += "  \(g.unicode ? "Σ" : "sum ")\(node.cumulativeTokens)"
    if node.copies > 1 { text += "  x\(node.copies)" }
    if node.storedNow { text += "  stored" }
    if node.removedNow { text += "  removed" }
    if node.detached { text += "  parent gone" }
    let style =
      node.storedNow
      ? TextStyle(.touched, bold: true)
      : node.removedNow ? TextStyle(.finding, bold: true) : node.detached ? TextStyle(.dim) : TextStyle()
    return (text, style)
  }
}

/// Short texts of event facts shared by the events view's panels.
enum EventText {
  /// A hash cut to its first and last digits when long: `95615…63793`.
  static func short(_ hash: String, _ g: Glyphs) -> String {
    hash.count <= 12 ? hash : String(hash.prefix(5)) + g.ellipsis + String(hash.suffix(5))
  }
}
