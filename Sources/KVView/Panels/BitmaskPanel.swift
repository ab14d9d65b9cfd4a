import KVEngine

/// The rows under the frames drawing, inside the frames box: the selection, the free mask in binary and
/// hex (a window of it on large pools), the refs array, the counts and, when a row is left, the legend.
struct BitmaskPanel: Panel {
  let state: EngineState
  let view: ViewState
  let g: Glyphs
  /// The frames drawing above, whose window the mask and refs follow.
  let layout: FramesLayout?
  /// The owners' letters of the compact drawing, named on a row of their own.
  let ownerKey: OwnerKey?
  /// The rows drawn, at most the room given.
  private(set) var lines: [(String, TextStyle)] = []
  /// The row of `lines` that names the owners, drawn in their colours.
  private var ownersRow: Int?

  var pool: PagePool { state.pool }

  /// The rows for `width` columns and at most `room` rows: mask and refs share a row when rows are
  /// scarce, the legend is added when one is left.
  init(
    state: EngineState, view: ViewState, g: Glyphs, layout: FramesLayout?, ownerKey: OwnerKey? = nil,
    width: Int,
    room: Int
  ) {
    self.state = state
    self.view = view
    self.g = g
    self.layout = layout
    self.ownerKey = ownerKey
    var info = infoLines(width: width)
    if info.count < room, let legend = legend(width: width) {
      info.append((legend, TextStyle(.dim), .legend))
    }
    // When rows are scarce the least needed go first; the refs (when they fit) and the selection join
    // the mask's row, which stays while any row is left.
    for row in InfoRow.allCases.reversed() where info.count > room {
      let selected = info.contains { $0.row == .selection }
      if let m = info.firstIndex(where: { $0.row == .mask }),
        let i = info.firstIndex(where: { $0.row == row }),
        row == .selection || (row == .refs && !selected)
      {
        var mask = info[m].text.replacingOccurrences("  (1 = free, 0 = alloc)", "")
        if row == .selection && mask.hasPrefix("free_mask[") {
          // A narrower window of the mask makes room for the selection.
          mask = maskWindow(width: width - 3 - info[i].text.count)
        }
        if row == .selection || mask.count + 3 + info[i].text.count <= width {
          info[m].text = mask + "   " + info[i].text
        }
      }
      info.removeAll { $0.row == row }
    }
    let kept = info.prefix(room)
    lines = kept.map { ($0.text, $0.style) }
    ownersRow = kept.firstIndex { $0.row == .owners }
  }

  /// The kinds of row, the most needed first.
  enum InfoRow: CaseIterable {
    case mask, selection, owners, lru, refs, counts, legend
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    for (i, line) in lines.enumerated() {
      if i == ownersRow, let ownerKey {
        drawOwners(ownerKey, into: &grid, at: Rect(x: rect.x, y: rect.y + i, width: rect.width, height: 1))
        continue
      }
      grid.put(
        Fmt.clip(line.0, rect.width, ellipsis: g.ellipsis), x: rect.x, y: rect.y + i, in: rect, style: line.1)
    }
  }

  /// `a r669 120  b r12 80 ... # 40 more`: each letter and id in its owner's colour with its frames on
  /// screen, as many as fit.
  private func drawOwners(_ key: OwnerKey, into grid: inout Grid, at rect: Rect) {
    var x = rect.x
    var shown = 0
    for entry in key.named {
      let text = "\(entry.glyph) \(state.requests[entry.request].id) \(Fmt.grouped(entry.frames))"
      let rest = key.named.count - shown - 1 + key.unnamed
      guard x + text.count + (rest > 0 ? 12 : 0) <= rect.maxX else { break }
      grid.put(text, x: x, y: rect.y, in: rect, style: TextStyle(.owner(entry.request), bold: true))
      x += text.count + 2
      shown += 1
    }
    let more = key.named.count - shown + key.unnamed
    if more > 0 {
      grid.put(
        "\(OwnerKey.other) \(Fmt.grouped(more)) more", x: x, y: rect.y, in: rect, style: TextStyle(.dim))
    }
  }

  /// Lines under the drawing: the mask in binary and hex, the refs array, counts and the selection.
  private func infoLines(width: Int) -> [(text: String, style: TextStyle, row: InfoRow)] {
    let n = pool.count
    guard n > 0, width > 0 else { return [("empty pool", TextStyle(.dim), .counts)] }
    var lines: [(text: String, style: TextStyle, row: InfoRow)] = []
    if pool.order == .queue {
      // The free queue, not the mask, decides the next frame.
      lines.append(
        (listText("free_queue", pool.freeQueue, note: "head first", width: width), TextStyle(.accent), .mask))
    }
    let legend = "(1 = free, 0 = alloc)"
    // The whole mask when it fits, else a window of it around the viewport.
    let whole =
      n <= width
      ? "free_mask = \(pool.freeMask.binary(frames: 0..<n)) = \(pool.freeMask.hex(frames: 0..<n))" : ""
    let windowed: Bool
    if pool.order == .queue {
      windowed = n > width
    } else if !whole.isEmpty && whole.count <= width {
      windowed = false
      lines.append(
        (whole.count + 2 + legend.count <= width ? whole + "  " + legend : whole, TextStyle(.accent), .mask))
    } else {
      windowed = true
      lines.append((maskWindow(width: width), TextStyle(.accent), .mask))
    }
    if pool.order == .lowestFirst && pool.lru.count > 0 {
      // Cached frames with refcount 0, in the order eviction takes them.
      lines.append(
        (listText("lru", pool.lru, note: "head first: evicted first", width: width), TextStyle(.normal), .lru)
      )
    }
    // Refs.
    let allRefs = "refs = [" + pool.refs.prefix(min(n, 512)).map { String($0) }.joined(separator: ",") + "]"
    if !windowed && n <= 512 && allRefs.count <= width {
      lines.append((allRefs, TextStyle(.normal), .refs))
    } else {
      let a = layout?.start ?? 0
      var b = a
      var text = ""
      while b < n {
        let candidate =
          "refs[\(a)..\(b)] = [" + pool.refs[a...b].map { String($0) }.joined(separator: ",") + "]"
        if candidate.count > width || b - a >= 64 { break }
        text = candidate
        b += 1
      }
      if !text.isEmpty { lines.append((text, TextStyle(.normal), .refs)) }
    }
    // Counts.
    let cached = pool.lru.count
    var counts = "\(Fmt.grouped(pool.freeCount)) free, \(Fmt.grouped(pool.usedCount)) used"
    if pool.order == .queue {
      let hashed = pool.freeQueue.count > 4096 ? nil : pool.freeQueue.frames.filter(pool.isCached).count
      if let hashed, state.scenario.scheduler.prefixCache {
        counts += " (\(Fmt.grouped(hashed)) free hold a hash)"
      }
      if let reserved = pool.reserved { counts += ", null block \(reserved)" }
      counts +=
        view.quiz?.hidesNextFrame == true
        ? ", next ?"
        : ", next " + (pool.freeQueue.head >= 0 ? Fmt.grouped(Int(pool.freeQueue.head)) : "none")
    } else {
      if cached > 0 || state.scenario.scheduler.prefixCache {
        counts += ", \(Fmt.grouped(cached)) cached in LRU"
      }
      counts +=
        view.quiz?.hidesNextFrame == true
        ? ", lowest free ?"
        : ", lowest free " + (pool.freeMask.lowest.map { Fmt.grouped($0) } ?? "none")
    }
    if let layout, layout.start > 0 || layout.end < n {
      counts += "; showing \(Fmt.grouped(layout.start))-\(Fmt.grouped(max(layout.start, layout.end - 1)))"
    }
    lines.append((counts, TextStyle(.dim), .counts))
    if let key = ownerKey, !key.named.isEmpty {
      // Drawn by `drawOwners`; the text stands for the row when rows are counted or merged.
      lines.append(("owners", TextStyle(.dim), .owners))
    }
    if let detail = selectionText() {
      // The selection first: it is what the user asked for.
      lines.insert((detail, TextStyle(.selected, bold: true), .selection), at: 0)
    }
    return lines
  }

  /// `free_queue = [3, 7, 2, 1]  (head first)`, cut in the middle when long.
  private func listText(_ name: String, _ queue: LRUList, note: String, width: Int) -> String {
    let suffix = "  (\(note))"
    var shown: [Int] = []
    var cursor = queue.head
    while cursor >= 0 && shown.count < 256 {
      shown.append(Int(cursor))
      cursor = queue.next(after: Int(cursor))
    }
    let whole = "\(name) = [" + shown.map(String.init).joined(separator: ", ") + "]"
    if shown.count == queue.count && whole.count + suffix.count <= width { return whole + suffix }
    if shown.count == queue.count && whole.count <= width { return whole }
    // Head items, then the tail item, then the length.
    let tail = queue.tail >= 0 ? ", ..., \(queue.tail)] (\(Fmt.grouped(queue.count)))" : "]"
    var text = "\(name) = ["
    for (i, frame) in shown.enumerated() {
      let piece = (i == 0 ? "" : ", ") + String(frame)
      if text.count + piece.count + tail.count > width { break }
      text += piece
    }
    return text + tail
  }

  /// What the marks mean, when a row is left for it.
  private func legend(width: Int) -> String? {
    guard let layout else { return nil }
    var parts: [String]
    switch layout.kind {
    case .detailed:
      let touched = g.unicode ? "\(g.ttl)\(g.hh)\(g.ttr)" : "#=#"
      parts = [
        "\(touched) touched by step \(state.step)", "A:1 = request A, logical page 1", "rN = refcount",
        "bit = free bit (1 = free)", "+ = shared",
      ]
      parts +=
        pool.order == .queue
        ? ["hash = free, holds a hash", "null = null block"] : ["lru = cached, refcount 0"]
    case .compact:
      parts = [
        "letter = owner", "\(g.unicode ? g.emptyCell : ".") free", "\(g.cachedCell) cached in LRU",
        "\(g.sharedCell) shared",
      ]
    case .overview:
      return nil
    }
    var text = ""
    for part in parts {
      let candidate = text.isEmpty ? part : text + "   " + part
      if candidate.count > width { break }
      text = candidate
    }
    return text.isEmpty ? nil : text
  }

  /// The widest window of the mask, 64 to 4 bits from the viewport's start, that fits `width`.
  private func maskWindow(width: Int) -> String {
    let anchor = layout?.start ?? 0
    var chosen = 4
    for bits in [64, 32, 16, 8, 4] {
      let a = (anchor / bits) * bits
      if maskWindowText(a..<min(pool.count, a + bits)).count <= width {
        chosen = bits
        break
      }
    }
    let a = (anchor / chosen) * chosen
    return maskWindowText(a..<min(pool.count, a + chosen))
  }

  private func maskWindowText(_ range: Range<Int>) -> String {
    "free_mask[\(range.upperBound - 1)..\(range.lowerBound)] = \(pool.freeMask.binary(frames: range)) = \(pool.freeMask.hex(frames: range))"
  }

  /// A line about the selected frame or request.
  private func selectionText() -> String? {
    var request: String?
    if let r = view.selectedRequest, r >= 0, r < state.requests.count {
      let held = state.requests[r]
      let count = held.pageTable.count
      request = "find \(held.id): \(Fmt.grouped(count)) frame\(count == 1 ? "" : "s") highlighted"
    }
    if let f = view.selectedFrame, pool.contains(f) {
      var parts: [String] = []
      let holders = state.holdersOf(f)
      if holders.isEmpty {
        parts.append(pool.lru.contains(f) ? "cached in LRU" : pool.freeMask.contains(f) ? "free" : "no owner")
      } else {
        let ps = state.pageSize
        parts.append(
          holders.map { r -> String in
            let request = state.requests[r]
            let page = request.pageTable.firstIndex(of: f) ?? 0
            let first = page * ps
            let last = min((page + 1) * ps, request.computed) - 1
            let tokens = last >= first ? "tokens \(first)-\(last)" : "no tokens yet"
            return "\(request.id):\(page) (\(tokens))"
          }.joined(separator: ", "))
      }
      parts.append("refs \(pool.refs[f])")
      parts.append("free bit \(pool.freeMask.contains(f) ? 1 : 0)")
      if let page = pool.cached[Int32(f)] {
        parts.append("key \(keyText(page.key))")
        if holders.isEmpty {
          // The cached content: which request's page it was, and its token range.
          let r = Int(page.request)
          let id = r >= 0 && r < state.requests.count ? state.requests[r].id : "#\(r)"
          let first = Int(page.page) * state.pageSize
          parts.append("content \(id):\(page.page) (tokens \(first)-\(first + state.pageSize - 1))")
        }
      }
      let frame = "frame \(Fmt.grouped(f)): " + parts.joined(separator: ", ")
      return request.map { $0 + "; " + frame } ?? frame
    }
    return request
  }

  private func keyText(_ key: UInt64) -> String {
    let hex = String(key, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex
  }
}
