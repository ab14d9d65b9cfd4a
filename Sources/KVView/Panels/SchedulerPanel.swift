import KVEngine
import KVText

/// The scheduler: the phases with the current one marked, the queues, the counts, and a row per request
/// that has arrived (or the operations of an allocator-only scenario, with those typed at the `:`
/// command line).
struct SchedulerPanel: Panel {
  let lines: [(String, TextStyle)]
  let focused: Bool
  let scroll: Int
  let g: Glyphs

  /// The lines for `width` columns; `added` are the user actions by the step after which they were given.
  init(state: EngineState, added: [Int: UserAction] = [:], view: ViewState, g: Glyphs, width: Int) {
    lines = Self.schedulerLines(state, added: added, g: g, width: width)
    focused = view.focus == .queues
    scroll = view.scroll[.queues] ?? 0
    self.g = g
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    ScrolledLinesBox(title: "scheduler", lines: lines, focused: focused, scroll: scroll, g: g)
      .draw(into: &grid, in: rect)
  }

  private static func schedulerLines(
    _ state: EngineState, added: [Int: UserAction], g: Glyphs, width: Int
  ) -> [(String, TextStyle)] {
    var lines: [(String, TextStyle)] = []
    let s = state
    if s.scenario.isAllocatorOnly {
      let ops = s.scenario.ops ?? []
      lines.append(("allocator-only: \(ops.count) operation\(ops.count == 1 ? "" : "s")", TextStyle(.title)))
      let list = ops.map(\.text).joined(separator: "; ")
      for line in Fmt.wrap(list, width: width) { lines.append((line, TextStyle(.normal))) }
      let typed = added.keys.sorted().compactMap { step -> String? in
        guard case .pool(let op) = added[step] else { return nil }
        return "\(op.text) after step \(step)"
      }
      if !typed.isEmpty {
        lines.append(("typed at the : command line: \(typed.count)", TextStyle(.title)))
        for line in Fmt.wrap(typed.joined(separator: "; "), width: width) {
          lines.append((line, TextStyle(.normal)))
        }
      }
      return lines
    }
    // Phases, the current one in brackets.
    var phases = ""
    for phase in s.policyType.phases {
      phases += s.phase == phase ? "[\(phase.rawValue)]" : " \(phase.rawValue) "
    }
    if s.phase == .done { phases += "  [done]" }
    lines.append((phases, TextStyle(.selected, bold: true)))
    let maxBatch = s.scenario.scheduler.maxBatch
    lines.append(
      (
        "iter \(Fmt.grouped(s.iteration))  active \(s.active.count)/\(maxBatch)  waiting \(Fmt.grouped(s.waiting.count))",
        TextStyle(.dim)
      ))
    func names(_ indices: some Sequence<Int>, limit: Int) -> [String] {
      var out: [String] = []
      for r in indices {
        if out.count >= limit { break }
        out.append(r < s.requests.count ? s.requests[r].id : "#\(r)")
      }
      return out
    }
    // Lines of `label items`, wrapped; long lists stop after a screenful.
    func add(_ label: String, _ indices: [Int], role: (Int) -> StyleRole, empty: String? = g.dash) {
      if indices.isEmpty {
        if let empty { lines.append((Fmt.padded(label, 10) + empty, TextStyle(.dim))) }
        return
      }
      let limit = 400
      let shown = Array(indices.prefix(limit))
      var first = true
      let lineStart = lines.count
      var current = Fmt.padded(label, 10)
      for r in shown {
        let name = r < s.requests.count ? s.requests[r].id : "#\(r)"
        let piece = (first ? "" : " ") + name
        if current.count + piece.count > width && !first {
          lines.append((current, TextStyle(.normal)))
          current = String(repeating: " ", count: 10) + name
        } else {
          current += piece
        }
        first = false
      }
      if indices.count > limit { current += " +\(Fmt.grouped(indices.count - limit)) more" }
      lines.append((current, TextStyle(.normal)))
      // Color single-line lists by their first owner; the colors of each name are in the tables.
      if lines.count - lineStart == 1, shown.count == 1 {
        lines[lineStart].1 = TextStyle(role(shown[0]), bold: true)
      }
    }
    add("waiting", Array(s.waiting), role: { .owner($0) })
    add("active", s.active, role: { .owner($0) })
    var finished: [Int] = []
    var aborted: [Int] = []
    var preempted: [Int] = []
    var lost: [Int] = []
    var pending: [Int] = []
    for (r, request) in s.requests.enumerated() {
      switch request.status {
      case .finished: finished.append(r)
      case .aborted: aborted.append(r)
      case .lost: lost.append(r)
      case .pending: pending.append(r)
      default: break
      }
      if request.preemptions > 0 { preempted.append(r) }
    }
    add("finished", finished, role: { .owner($0) })
    add("aborted", aborted, role: { _ in .finding }, empty: nil)
    add("preempted", preempted, role: { _ in .finding }, empty: nil)
    if !lost.isEmpty {
      add("lost", lost, role: { _ in .finding })
      lines[lines.count - 1].1 = TextStyle(.finding, bold: true)
    }
    if !pending.isEmpty {
      let text = pending.prefix(40).map { "\(s.requests[$0].id)@\(s.requests[$0].spec.arrive)" }.joined(
        separator: " ")
      lines.append(
        (Fmt.padded("arriving", 10) + text + (pending.count > 40 ? " \(g.ellipsis)" : ""), TextStyle(.dim)))
    }
    let st = s.stats
    var items = [
      "decoded \(Fmt.grouped(st.decodedTokens))", "admitted \(st.admissions)",
      "peak \(st.peakFramesInUse) frames",
    ]
    if s.policyType.capabilities.contains(.preemption) {
      items += ["evictions \(st.evictions)", "preemptions \(st.preemptions)"]
      if s.scenario.scheduler.prefixCache { items.append("prefix hits \(st.prefixHitPages) pages") }
    }
    var statsLine = ""
    for item in items {
      if !statsLine.isEmpty && statsLine.count + 2 + item.count > width {
        lines.append((statsLine, TextStyle(.dim)))
        statsLine = ""
      }
      statsLine += (statsLine.isEmpty ? "" : "  ") + item
    }
    if !statsLine.isEmpty { lines.append((statsLine, TextStyle(.dim))) }
    if let reason = s.endReason {
      lines.append(("ended: \(Text.endReason(reason))", TextStyle(.accent, bold: true)))
    }
    // One row per request that has arrived.
    let arrived = s.requests.indices.filter { s.requests[$0].status != .pending }.prefix(500)
    if !arrived.isEmpty && width >= 40 {
      let idWidth = min(8, max(2, arrived.map { s.requests[$0].id.count }.max() ?? 2))
      lines.append(("", TextStyle()))
      lines.append((Fmt.padded("id", idWidth) + "  status     prompt  output      pages", TextStyle(.title)))
      for r in arrived {
        let request = s.requests[r]
        let row =
          Fmt.padded(String(request.id.prefix(idWidth)), idWidth) + "  "
          + Fmt.padded(request.status.rawValue, 9)
          + Fmt.rightAligned(Fmt.grouped(request.spec.prompt.count), 8)
          + Fmt.rightAligned("\(Fmt.grouped(request.output))/\(Fmt.grouped(request.spec.output))", 10)
          + Fmt.rightAligned(Fmt.grouped(request.pageTable.count), 9)
          + (request.preemptions > 0 ? "  preempted x\(request.preemptions)" : "")
        let role: StyleRole = request.status == .lost || request.status == .aborted ? .finding : .owner(r)
        lines.append((row, TextStyle(role, bold: request.status == .running)))
      }
    }
    return lines
  }
}
