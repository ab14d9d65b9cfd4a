import KVEngine

/// The code panel: the listing of the routine the last step ran, the marked line highlighted across the
/// panel with the step's live values as comments, and notes under it.
struct CodePanel: Panel {
  /// The listing's lines as drawn, the notes after them.
  struct CodeLines {
    var lines: [(String, TextStyle)]
    /// The row of the marked line (and of its value when that is on the next row).
    var currentRows: ClosedRange<Int>?
    var listingRows: Int
  }

  let listing: CodeListing
  let code: CodeLines
  /// The policy's name, in the title when it fits.
  let policy: String
  let focused: Bool
  let scroll: Int
  let g: Glyphs

  /// The panel for the state's last step, its lines laid out for `width` columns.
  init(state: EngineState, view: ViewState, g: Glyphs, width: Int) {
    listing = CodeListingBuilder.listing(state)
    code = Self.codeLines(listing, g: g, width: width)
    policy = state.policy.rawValue
    focused = view.focus == .code
    scroll = view.scroll[.code] ?? 0
    self.g = g
  }

  /// The rows the panel would take to show everything, its box included.
  var wantedHeight: Int { code.lines.count + 2 }

  private static func codeLines(_ listing: CodeListing, g: Glyphs, width: Int) -> CodeLines {
    var lines: [(String, TextStyle)] = []
    var currentRows: ClosedRange<Int>?
    let codeWidth = listing.lines.map { $0.code.count }.max() ?? 0
    let aligned = listing.lines.allSatisfy { line in
      guard let value = line.value else { return true }
      return g.marker.count + 1 + codeWidth + 4 + value.count <= width
    }
    let blank = String(repeating: " ", count: g.marker.count + 1)
    for (i, line) in listing.lines.enumerated() {
      let isCurrent = listing.current == i
      let prefix = isCurrent ? g.marker + " " : blank
      let style = isCurrent ? TextStyle(.currentLine, bold: true, reverse: true) : TextStyle(.normal)
      let start = lines.count
      if let value = line.value {
        let comment = "# " + value
        if aligned {
          lines.append((prefix + Fmt.padded(line.code, codeWidth) + "  " + comment, style))
        } else if prefix.count + line.code.count + 2 + comment.count <= width {
          lines.append((prefix + line.code + "  " + comment, style))
        } else {
          lines.append((prefix + line.code, style))
          let indent = line.code.prefix { $0 == " " }.count + 4
          let pad = blank + String(repeating: " ", count: indent)
          for piece in Fmt.wrap(comment, width: max(8, width - pad.count)) {
            lines.append((pad + piece, isCurrent ? TextStyle(.currentLine, bold: true) : TextStyle(.accent)))
          }
        }
      } else {
        lines.append((prefix + line.code, style))
      }
      if isCurrent { currentRows = start...(lines.count - 1) }
    }
    let listingRows = lines.count
    if !listing.notes.isEmpty {
      for note in listing.notes {
        for piece in Fmt.wrap(note, width: width, indent: 2) { lines.append((piece, TextStyle(.accent))) }
      }
    }
    return CodeLines(lines: lines, currentRows: currentRows, listingRows: listingRows)
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    var title = "code: " + listing.title
    if title.count + policy.count + 8 <= rect.width { title += " [\(policy)]" }
    grid.box(rect, title: title, focused: focused, glyphs: g)
    let inner = rect.inner
    guard inner.height > 0 else { return }
    // Notes (live values) take up to half the rows; the listing shows a window around the marked line.
    let notes = Array(code.lines[code.listingRows...])
    let listing = Array(code.lines[..<code.listingRows])
    var rows: [(String, TextStyle)]
    if listing.count + notes.count <= inner.height {
      rows = listing + notes
    } else {
      let noteRows = min(notes.count, inner.height / 2)
      let listingRows = inner.height - noteRows
      var start = 0
      if let current = code.currentRows {
        start = max(
          0,
          min(
            current.upperBound - listingRows + 1 + (listingRows > current.count + 1 ? 1 : 0),
            current.lowerBound))
        start = min(start, max(0, listing.count - listingRows))
      }
      rows = Array(listing[start..<min(listing.count, start + listingRows)]) + Array(notes.prefix(noteRows))
    }
    let offset = min(max(0, scroll), max(0, rows.count - 1))
    for (i, row) in rows.dropFirst(offset).prefix(inner.height).enumerated() {
      var style = row.1
      let text = Fmt.clip(row.0, inner.width, ellipsis: g.ellipsis)
      if style.role == .currentLine && style.reverse {
        // The marked line is highlighted across the whole panel width.
        grid.put(Fmt.padded(text, inner.width), x: inner.x, y: inner.y + i, in: inner, style: style)
        style.reverse = false
      } else {
        grid.put(text, x: inner.x, y: inner.y + i, in: inner, style: style)
      }
    }
  }
}
