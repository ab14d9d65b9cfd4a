import KVEngine
import KVText

/// The routine of the policy's listing that the last step ran, with the line its anchor names marked
/// and the live values of the step's facts.
struct CodeListing: Equatable {
  struct Line: Equatable {
    var code: String
    /// The live value shown as a comment after the code.
    var value: String?
  }

  var title: String
  var lines: [Line] = []
  var current: Int?
  /// Evaluated expressions shown under the listing.
  var notes: [String] = []

  init(_ title: String) { self.title = title }

  /// The lines of `routine`, with `values` by anchor and the line of `current` marked.
  init(_ title: String, _ routine: Routine, current: Anchor?, values: [Anchor: String] = [:]) {
    self.title = title
    lines = routine.lines.map { Line(code: $0.code, value: $0.anchor.flatMap { values[$0] }) }
    self.current = current.flatMap { anchor in routine.lines.firstIndex { $0.anchor == anchor } }
  }

  mutating func add(_ code: String, _ value: String? = nil, current isCurrent: Bool = false) {
    if isCurrent { current = lines.count }
    lines.append(Line(code: code, value: value))
  }
}

/// Builds the code panel's listing from the engine state: the routine the last step ran and its live values.
enum CodeListingBuilder {
  static func list(_ xs: [Int]) -> String { capped(xs.map(String.init)) }

  /// `[a, b, c]`, or `[a, b, c, d, ..., z] (26)` for long lists.
  static func capped(_ items: [String]) -> String {
    if items.count <= 10 { return "[" + items.joined(separator: ", ") + "]" }
    return "[" + items.prefix(4).joined(separator: ", ")
      + ", ..., \(items[items.count - 1])] (\(items.count))"
  }

  /// The listing for the state's last step.
  static func listing(_ s: EngineState) -> CodeListing {
    let listing = s.policyType.listing
    let ps = s.pageSize
    func id(_ r: Int) -> String { s.name(r) }
    func ids(_ rs: [Int]) -> String { CodeListingBuilder.capped(rs.map(id)) }
    func table(_ r: Int) -> [Int] { r < s.requests.count ? s.requests[r].pageTable : [] }
    func pagesFor(_ n: Int) -> String { "pages_for(\(n)) = (\(n) + \(ps) - 1) // \(ps) = \(s.pagesFor(n))" }

    if s.pool.order == .queue {
      // A queue pool's allocator steps belong to the policy's own routines (popleft_n, free_blocks, ...).
      switch s.event.action {
      case .alloc, .free, .incRef: return policyListing(s, listing)
      default: break
      }
    }
    switch s.event.action {
    case .start:
      var c = CodeListing("PagedCache(n_pages=\(s.pool.count), page_size=\(ps))")
      c.add("free_mask = (1 << n_pages) - 1", wordText(s, s.pool.count), current: true)
      c.add("refs = [0] * n_pages")
      if s.pool.checked { c.add("lru, index = LinkedList(), {}") }
      c.add("def pages_for(n_tokens):")
      c.add("    return (n_tokens + page_size - 1) // page_size")
      c.notes.append("policy \(s.policy), max_batch \(s.config.maxBatch)")
      return c

    case .alloc(let trace, let purpose):
      var c = allocListing(s, trace)
      switch purpose {
      case .admit(let r, let need, let have):
        c.title = "alloc() <- admission of \(id(r)), page \(have + 1) of \(need)"
        if have == 0 { c.notes.insert(pagesFor(s.requests[r].admissionLength), at: 0) }
      case .grow(let r, let position, let needed, let have):
        c.title =
          "alloc() <- grow \(id(r)) to \(needed) page\(needed == 1 ? "" : "s") for position \(position)"
        c.notes.insert("\(have) < " + pagesFor(position + 1), at: 0)
        c.notes.append("\(id(r)).page_table = \(list(table(r)))")
      case .op(let index, let count):
        if count > 1 { c.title = "alloc() <- alloc_n(\(count)), call \(index + 1) of \(count)" }
      }
      if let caller = callerLine(s) { c.notes.insert("from: " + caller, at: 0) }
      return c

    case .free(let trace, let request, let reason):
      var c = freeListing(s, trace)
      if let request { c.title += " <- \(reason?.rawValue ?? "release") \(id(request))" }
      if reason == .rollback && request == nil { c.title += " <- alloc_n rollback" }
      if let request, request < s.requests.count {
        c.notes.append("\(id(request)).page_table = \(pageTableText(table(request)))")
      }
      return c

    case .incRef(let trace, let request):
      let rejected = trace.misuse != nil && s.pool.checked
      var values: [Anchor: String] = [.incRefEntry: "idx = \(trace.frame)"]
      if rejected { values[.incRefReject] = "rejected" }
      if trace.lru { values[.incRefLeaveLRU] = "leaves the LRU list" }
      if !rejected { values[.incRefIncrement] = "\(trace.refBefore) -> \(trace.refAfter)" }
      var c = routineListing(
        s, .incRef, "inc_ref(\(trace.frame))" + (request.map { " <- prefix hit for \(id($0))" } ?? ""),
        current: rejected ? .incRefReject : .incRefIncrement, values: values)
      if trace.misuse == .incRefFreeFrame && !s.pool.checked {
        c.notes.append("the frame is free: its bit stays set")
      }
      return c

    case .allocNResult(let count, let frames):
      let failed = frames.isEmpty && count > 0
      return routineListing(
        s, .allocN, "alloc_n(\(count))", current: failed ? .allocNFail : .allocNReturn,
        values: [
          .allocNEntry: "n = \(count)",
          failed ? .allocNFail : .allocNReturn: failed ? "failed" : list(frames),
        ])

    case .plan(.done, .done(let reason)):
      var c = CodeListing("done")
      c.add("# \(Text.endReason(reason))", nil, current: true)
      c.notes.append(
        "\(s.stats.iterations) iterations, \(s.stats.decodedTokens) tokens decoded, peak \(s.stats.peakFramesInUse) frames in use"
      )
      return c

    case .aborted(let r):
      var c = CodeListing("abort \(id(r))")
      c.add("def abort(req):")
      c.add("    if req in waiting: waiting.remove(req)")
      c.add("    else: free_request(req)", "pages freed next", current: true)
      return c

    case .added(let r):
      var c = CodeListing("add request \(id(r))")
      let spec = r < s.requests.count ? s.requests[r].spec : nil
      c.add("def add_request(id, prompt, output):")
      c.add(
        "    waiting.append(Request(id, prompt, output))",
        spec.map { "\($0.id), \($0.prompt.count) tokens, \($0.output) out" }, current: true)
      c.notes.append(pagesFor(spec?.prompt.count ?? 0))
      return c

    default:
      return policyListing(s, listing)
    }
  }

  /// The routine of the policy's listing that holds the step's anchor, its line marked with the value.
  static func policyListing(_ s: EngineState, _ listing: PolicyListing) -> CodeListing {
    guard let anchor = s.event.anchor, let (routine, _) = listing.locate(anchor) else {
      var c = CodeListing("step \(s.step)")
      c.add("# " + s.eventText, nil, current: true)
      return c
    }
    var c = CodeListing(routine.name, routine, current: anchor, values: [anchor: value(s)])
    c.title = title(s) ?? routine.name
    c.notes = notes(s)
    return c
  }

  /// The code of the policy line that called the allocator in this step.
  static func callerLine(_ s: EngineState) -> String? {
    guard let anchor = s.event.anchor, let (routine, line) = s.policyType.listing.locate(anchor) else {
      return nil
    }
    return String(routine.lines[line].code.drop(while: { $0 == " " }))
  }

  /// The live value shown on the step's own line of a policy routine.
  static func value(_ s: EngineState) -> String {
    func ids(_ rs: [Int]) -> String { CodeListingBuilder.capped(rs.map(s.name)) }
    switch s.event.action {
    case .plan(_, .cleanup(_, _, let releasing, _)):
      return releasing.isEmpty ? "active = \(ids(s.active)), none done" : "done: \(ids(releasing))"
    case .plan(_, .refill(let available, let popped, let skipped)):
      if skipped { return "True: skip" }
      if let popped { return "available = \(available): \(ids(popped))" }
      return "\(s.active.count) < \(s.config.maxBatch), \(s.waiting.count) waiting"
    case .plan(_, .prefill(let chosen)): return ids(chosen)
    case .plan(_, .decode(let candidates, let chosen)):
      if s.config.decode == .all { return ids(chosen) }
      return candidates.groups.map { "pos \($0.position):\(ids($0.requests))" }.joined(separator: " ")
        + " -> \(ids(chosen))"
    case .lookup(_, let hits, let need, let available, let admitted):
      if s.pool.order == .queue {
        return "hits \(list(hits)), need \(need), free \(available): \(admitted ? "admit" : "wait")"
      }
      return "hits \(list(hits)), \(need) > \(available): \(admitted ? "no, admit" : "wait")"
    case .admitted(let r, _, _): return "\(list(s.requests[r].pageTable)); active = \(ids(s.active))"
    case .refillFailed(let r, let lost):
      return "\(s.name(r)) back to the head" + (lost.isEmpty ? "" : "; \(ids(lost)) lost!")
    case .prefill(_, let from, let to): return "tokens \(from)..\(max(from, to - 1))"
    case .record(_, let pages, let recorded): return "\(pages) full, \(recorded) new"
    case .write(let r, let position, _, let outOfBounds, _):
      let page = position / s.pageSize
      let table = s.requests[r].pageTable
      if let frame = outOfBounds { return "pos \(position): page \(page) missing, -1 -> frame \(frame)!" }
      return "pos \(position) -> page \(page)" + (page < table.count ? " = frame \(table[page])" : "")
    case .growthFailed(let r, _, let outcome):
      switch outcome {
      case .ignored: return "-1: failure ignored!"
      case .preempt(let victim): return "-1: preempt \(s.name(victim))"
      case .abort: return "-1: abort \(s.name(r))"
      case .wait: return "-1: wait, retry next iteration"
      }
    case .preempted(_, _, let tokens):
      return "\(tokens) tokens to recompute; waiting = \(ids(Array(s.waiting.prefix(8))))"
    case .retired(_, let status): return "\(status.rawValue); active = \(ids(s.active))"
    case .plan(_, .schedule(let budget, let candidates, let skipped)):
      return skipped ? "skipped" : "budget \(budget); \(ids(candidates))"
    case .plan(_, .output(let scheduled)): return ids(scheduled)
    case .slots(_, let tokens, let need, let free, let fits):
      return "n = \(tokens): need \(need), free \(free)" + (fits ? "" : ": None")
    case .scheduled(let r, let tokens, let from):
      return "\(s.name(r)): \(tokens) from \(from); budget \(s.tokenBudget)"
    case .computed(_, _, let to): return "\(to)"
    case .sampled(_, let position, let finished): return "pos \(position)" + (finished ? ": finished" : "")
    case .cached(_, let page, let frame, _): return "page \(page) -> block \(frame)"
    case .alloc(let trace, _):
      return trace.frame >= 0
        ? "block \(trace.frame)" + (trace.evictedKey == nil ? "" : ", evicts its hash") : "none"
    case .free(let trace, _, _):
      return "block \(trace.frame): \(trace.refBefore) -> \(trace.refAfter)" + queueText(trace.queued)
    case .incRef(let trace, _):
      return "block \(trace.frame): \(trace.refBefore) -> \(trace.refAfter)"
        + (trace.lru ? ", leaves the free queue" : "")
    default: return ""
    }
  }

  /// Where a free put the frame in the free queue.
  static func queueText(_ place: QueuePlace?) -> String {
    switch place {
    case .head?: return ", to the head"
    case .after(let frame)?: return ", after \(frame)"
    case .tail?: return ", to the tail"
    case nil: return ""
    }
  }

  static func title(_ s: EngineState) -> String? {
    switch s.event.action {
    case .plan(.cleanup, _): return "cleanup (iteration \(s.iteration))"
    case .plan(.refill, .refill(_, _, true)): return "refill: skipped after a preemption"
    case .lookup(let r, _, _, _, _):
      return s.pool.order == .queue ? "admit \(s.name(r))?" : "refill: admit \(s.name(r))?"
    case .admitted(let r, _, _): return "refill: \(s.name(r)) admitted"
    case .refillFailed(let r, _): return "refill: admission of \(s.name(r)) failed"
    case .prefill(let r, _, _): return "prefill \(s.name(r))"
    case .record(let r, _, _): return "record \(s.name(r)) in the prefix cache"
    case .write(let r, _, _, _, _): return "decode \(s.name(r))"
    case .growthFailed(let r, _, _): return "decode \(s.name(r)): out of memory"
    case .preempted(let r, let other, _): return "preempt \(s.name(r)) for \(s.name(other))"
    case .retired(let r, let status): return "\(s.name(r)) \(status.rawValue)"
    case .slots(let r, _, _, _, _): return "room for \(s.name(r))?"
    case .scheduled(let r, _, _): return "schedule \(s.name(r))"
    case .sampled(let r, _, _): return "output of \(s.name(r))"
    case .cached(let r, let page, _, _): return "hash page \(page) of \(s.name(r))"
    default: return nil
    }
  }

  static func notes(_ s: EngineState) -> [String] {
    let ps = s.pageSize
    switch s.event.action {
    case .plan(_, .cleanup(let arrived, let aborted, _, let idleUntil)):
      var notes: [String] = []
      if !arrived.isEmpty {
        notes.append(
          "arrived: \(capped(arrived.map(s.name))) -> waiting = \(capped(s.waiting.prefix(12).map(s.name)))")
      }
      if !aborted.isEmpty { notes.append("aborted: \(capped(aborted.map(s.name)))") }
      if let idleUntil { notes.append("nothing to run: idle until iteration \(idleUntil)") }
      return notes
    case .lookup(let r, let hits, let need, _, _) where s.pool.order == .queue:
      let length = r < s.requests.count ? s.requests[r].tokens : 0
      let inUse = hits.filter { s.pool.refs[$0] > 0 }.count
      return [
        "need = cdiv(\(length), \(ps)) = \(s.pagesFor(length)) - \(inUse) hit\(inUse == 1 ? "" : "s") in use = \(need)",
        "free queue = \(list(s.pool.freeQueue.frames))",
      ]
    case .lookup(let r, let hits, let need, _, _):
      let length = r < s.requests.count ? s.requests[r].admissionLength : 0
      return [
        "need = pages_for(\(length)) = \(s.pagesFor(length)) - \(hits.count) hit\(hits.count == 1 ? "" : "s") = \(need)",
        "available = \(s.pool.freeCount) free + \(s.pool.lru.count) in LRU",
      ]
    case .admitted(let r, let pages, let hitPages):
      let hits = s.config.prefixCache ? ", \(hitPages) from the prefix cache" : ""
      return ["\(s.name(r)): \(pages) page\(pages == 1 ? "" : "s")\(hits)"]
    case .refillFailed(_, let lost):
      return lost.isEmpty ? [] : ["popped \(capped(lost.map(s.name))) are neither admitted nor re-queued"]
    case .prefill(let r, let from, let to):
      let table = s.requests[r].pageTable
      guard to > from, ps > 0 else { return [] }
      return ["pages \(from / ps)..\((to - 1) / ps) of \(list(table)) hold tokens \(from)-\(to - 1)"]
    case .record: return ["a partial last page is never recorded"]
    case .write(let r, let position, let pages, _, let growthNeeded):
      guard let needed = growthNeeded else { return [] }
      return [
        "\(s.name(r)).output -> \(s.requests[r].output)",
        "pages_for(\(position + 2)) = \(needed)"
          + (needed > pages ? " > \(pages) pages: grow" : " <= \(pages) pages"),
      ]
    case .growthFailed(_, let position, let outcome):
      if outcome == .ignored { return ["the next write at position \(position) is out of bounds"] }
      return ["on_oom = \(s.config.onOOM.rawValue)"]
    case .preempted:
      if s.pool.order == .queue { return ["waiting = \(capped(s.waiting.prefix(8).map(s.name)))"] }
      return ["no new request is admitted in the next iteration"]
    case .alloc, .free, .incRef, .slots, .cached:
      return s.pool.order == .queue ? ["free queue = \(list(s.pool.freeQueue.frames))"] : []
    default: return []
    }
  }

  // MARK: Allocator routines

  static func routineListing(
    _ s: EngineState, _ kind: AllocatorRoutine, _ title: String, current: Anchor, values: [Anchor: String]
  ) -> CodeListing {
    guard let routine = s.policyType.listing.routine(kind) else { return CodeListing(title) }
    return CodeListing(title, routine, current: current, values: values)
  }

  static func allocListing(_ s: EngineState, _ t: AllocTrace) -> CodeListing {
    let failed = t.frame < 0
    let evicted = t.frame >= 0 && t.lsb == 0
    let before = bits(s, t.wordIndex, t.wordBefore)
    var values: [Anchor: String] = [:]
    let current: Anchor
    if failed {
      values[.allocMaskTest] = "0"
      values[.allocLSB] = "0"
      values[.allocFail] = "-1"
      current = .allocFail
    } else if evicted {
      values[.allocMaskTest] = "0"
      values[.allocLRUTest] = "evict the LRU head"
      values[.allocEvict] = "\(t.frame)"
      values[.allocUnindex] = t.evictedKey.map(Text.shortKey)
      current = .allocEvict
    } else {
      values[.allocMaskTest] = before
      values[.allocLSB] = "0b" + String(t.lsb, radix: 2)
      values[.allocIndex] = "\(t.frame)"
      values[.allocClear] = "-> " + bits(s, t.wordIndex, t.wordAfter)
      values[.allocReturn] = "frame \(t.frame)"
      current = .allocReturn
    }
    var c = routineListing(s, .alloc, "alloc()", current: current, values: values)
    if !failed && !evicted {
      let w = t.wordIndex > 0 ? "word \(t.wordIndex): " : ""
      c.notes.append("\(w)lsb = \(before) & -\(before) = 0b\(String(t.lsb, radix: 2)) -> idx \(t.frame)")
    }
    if failed { c.notes.append("no free frame" + (s.pool.checked ? " and nothing cached to evict" : "")) }
    if let key = t.evictedKey { c.notes.append("evicted cached frame \(t.frame), key \(Text.shortKey(key))") }
    return c
  }

  static func freeListing(_ s: EngineState, _ t: RefTrace) -> CodeListing {
    let rejected = t.misuse == .doubleFree || t.misuse == .badIndex
    let toMask = !t.lru && t.refAfter == 0 && !rejected
    var values: [Anchor: String] = [.freeEntry: "idx = \(t.frame)"]
    if rejected {
      values[.freeReject] = "refs \(t.refBefore): rejected"
    } else {
      values[.freeDecrement] = "\(t.refBefore) -> \(t.refAfter)" + (t.refAfter < 0 ? "  (no check!)" : "")
      values[.freeIfZero] = t.refAfter == 0 ? "True" : "False"
      if t.lru { values[.freeToLRU] = "cached: to the LRU tail" }
      if toMask { values[.freeMaskSet] = maskChange(s, t.frame, t.wordBefore, t.wordAfter) }
    }
    let current: Anchor = rejected ? .freeReject : t.lru ? .freeToLRU : toMask ? .freeMaskSet : .freeDecrement
    return routineListing(s, .free, "free(\(t.frame))", current: current, values: values)
  }

  /// A page table with released entries shown as `-`.
  static func pageTableText(_ table: [Int]) -> String {
    capped(table.map { $0 == RequestState.releasedEntry ? "-" : String($0) })
  }

  // MARK: Values

  /// `0b11111100` for the bits of a mask word that lie inside the pool, or hex for long words.
  static func bits(_ s: EngineState, _ wordIndex: Int, _ word: UInt64) -> String {
    let width = max(1, min(64, s.pool.count - wordIndex * 64))
    if width > 16 { return "0x" + String(word, radix: 16, uppercase: true) }
    let text = String(word, radix: 2)
    return "0b" + String(repeating: "0", count: max(0, width - text.count)) + text
  }

  static func wordText(_ s: EngineState, _ n: Int) -> String {
    if n <= 16 { return bits(s, 0, n >= 64 ? ~0 : (UInt64(1) << UInt64(n)) - 1) }
    return "\(n) ones"
  }

  static func maskChange(_ s: EngineState, _ frame: Int, _ before: UInt64, _ after: UInt64) -> String {
    let wi = max(0, frame) / 64
    return "\(bits(s, wi, before)) -> \(bits(s, wi, after))"
  }
}
