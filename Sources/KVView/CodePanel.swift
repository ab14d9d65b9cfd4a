import KVEngine

/// A short pseudo-Python listing of the routine the last step executed, with the line it ended on
/// marked and the live values of the lines it ran.
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

  mutating func add(_ code: String, _ value: String? = nil, current isCurrent: Bool = false) {
    if isCurrent { current = lines.count }
    lines.append(Line(code: code, value: value))
  }
}

enum CodePanel {
  static func list(_ xs: [Int]) -> String { capped(xs.map(String.init)) }

  /// `[a, b, c]`, or `[a, b, c, d, ..., z] (26)` for long lists.
  static func capped(_ items: [String]) -> String {
    if items.count <= 10 { return "[" + items.joined(separator: ", ") + "]" }
    return "[" + items.prefix(4).joined(separator: ", ")
      + ", ..., \(items[items.count - 1])] (\(items.count))"
  }

  /// The listing for the state's last step.
  static func listing(_ s: EngineState) -> CodeListing {
    let seed = s.policy == .astraiSeed
    let ps = s.pageSize
    func id(_ r: Int) -> String { r >= 0 && r < s.requests.count ? s.requests[r].id : "#\(r)" }
    func ids(_ rs: [Int]) -> String { CodePanel.capped(rs.map(id)) }
    func list(_ xs: [Int]) -> String { CodePanel.list(xs) }
    func pagesFor(_ n: Int) -> String {
      "pages_for(\(n)) = (\(n) + \(ps) - 1) // \(ps) = \(s.pagesFor(n))"
    }

    switch s.event.action {
    case .start:
      var c = CodeListing("PagedCache(n_pages=\(s.pool.count), page_size=\(ps))")
      c.add("free_mask = (1 << n_pages) - 1", wordText(s, s.pool.count, all: true), current: true)
      c.add("refs = [0] * n_pages")
      if !seed { c.add("lru, index = LinkedList(), {}") }
      c.add("def pages_for(n_tokens):")
      c.add("    return (n_tokens + page_size - 1) // page_size")
      c.notes.append("policy \(s.policy.rawValue), max_batch \(s.scenario.scheduler.maxBatch)")
      return c

    case .plan(let phase, let plan):
      return planListing(s, phase, plan)

    case .alloc(let trace, let purpose):
      switch purpose {
      case .grow(let r, let position, let needed, let have):
        return growListing(s, r: r, position: position, needed: needed, have: have, trace: trace)
      case .admit(let r, let need, let have):
        var c = allocListing(s, trace)
        c.title = "alloc() <- alloc_n(\(need)) for \(id(r)), call \(have + 1) of \(need)"
        if have == 0 { c.notes.insert(pagesFor(s.requests[r].admissionLength), at: 0) }
        return c
      case .op(let index, let count):
        var c = allocListing(s, trace)
        if count > 1 { c.title = "alloc() <- alloc_n(\(count)), call \(index + 1) of \(count)" }
        return c
      }

    case .free(let trace, let request, let reason):
      var c = CodeListing("free(\(trace.frame))")
      if let request { c.title += " <- \(reason?.rawValue ?? "release") \(id(request))" }
      if reason == .rollback && request == nil { c.title += " <- alloc_n rollback" }
      let refChange = "\(trace.refBefore) -> \(trace.refAfter)"
      if seed {
        c.add("def free(idx):", "idx = \(trace.frame)")
        c.add(
          "    refs[idx] -= 1", refChange + (trace.refAfter < 0 ? "  (no check!)" : ""),
          current: trace.refAfter != 0)
        c.add("    if refs[idx] == 0:", trace.refAfter == 0 ? "True" : "False")
        c.add(
          "        free_mask |= 1 << idx",
          trace.refAfter == 0 ? maskChange(s, trace.frame, trace.wordBefore, trace.wordAfter) : nil,
          current: trace.refAfter == 0)
      } else {
        let rejected = trace.misuse == .doubleFree || trace.misuse == .badIndex
        c.add("def free(idx):", "idx = \(trace.frame)")
        c.add(
          "    if refs[idx] <= 0: raise DoubleFree", rejected ? "refs \(trace.refBefore): rejected" : nil,
          current: rejected)
        c.add("    refs[idx] -= 1", rejected ? nil : refChange, current: !rejected && trace.refAfter > 0)
        c.add("    if refs[idx] == 0:", rejected ? nil : (trace.refAfter == 0 ? "True" : "False"))
        c.add(
          "        if idx in index: lru.append(idx)", trace.lru ? "cached: to the LRU tail" : nil,
          current: trace.lru)
        c.add(
          "        else: free_mask |= 1 << idx",
          !trace.lru && trace.refAfter == 0 && !rejected
            ? maskChange(s, trace.frame, trace.wordBefore, trace.wordAfter) : nil,
          current: !trace.lru && trace.refAfter == 0 && !rejected)
      }
      if let request, request < s.requests.count {
        c.notes.append("\(id(request)).page_table = \(list(s.requests[request].pageTable))")
      }
      return c

    case .incRef(let trace, let request):
      var c = CodeListing("inc_ref(\(trace.frame))" + (request.map { " <- prefix hit for \(id($0))" } ?? ""))
      let rejected = trace.misuse != nil && s.pool.checked
      c.add("def inc_ref(idx):", "idx = \(trace.frame)")
      if !seed {
        c.add("    if free_mask >> idx & 1: raise FreeFrame", rejected ? "rejected" : nil, current: rejected)
        c.add("    if idx in lru: lru.remove(idx)", trace.lru ? "leaves the LRU list" : nil)
      }
      c.add(
        "    refs[idx] += 1", rejected ? nil : "\(trace.refBefore) -> \(trace.refAfter)", current: !rejected)
      if trace.misuse == .incRefFreeFrame && !s.pool.checked {
        c.notes.append("the frame is free: its bit stays set")
      }
      return c

    case .allocNResult(let count, let frames):
      var c = CodeListing("alloc_n(\(count))")
      c.add("def alloc_n(n):", "n = \(count)")
      c.add("    pages = []")
      c.add("    for _ in range(n):")
      c.add("        p = alloc()")
      c.add("        if p < 0:")
      c.add("            for q in pages: free(q)")
      c.add(
        "            return []", frames.isEmpty && count > 0 ? "failed" : nil,
        current: frames.isEmpty && count > 0)
      c.add("        pages.append(p)")
      c.add("    return pages", frames.isEmpty ? nil : list(frames), current: !(frames.isEmpty && count > 0))
      return c

    case .lookup(let r, let hits, let need, let available, let admitted):
      var c = pagedRefillListing(s)
      c.title = "refill: admit \(id(r))?"
      c.setValue(2, "\(id(r))")
      c.setValue(3, s.scenario.scheduler.prefixCache ? list(hits) : "prefix cache off: []")
      c.setValue(4, "\(need)")
      c.setValue(5, "\(need) > \(available): \(need > available ? "wait" : "no")")
      c.current = admitted ? 6 : 5
      let length = r < s.requests.count ? s.requests[r].admissionLength : 0
      c.notes.append(
        "need = " + pagesFor(length) + " - \(hits.count) hit\(hits.count == 1 ? "" : "s") = \(need)")
      c.notes.append("available = \(s.pool.freeCount) free + \(s.pool.lru.count) in LRU")
      return c

    case .admitted(let r, let pages, let hitPages):
      var c = seed ? seedRefillListing(s) : pagedRefillListing(s)
      c.title = "refill: \(id(r)) admitted"
      let table = r < s.requests.count ? s.requests[r].pageTable : []
      if seed {
        c.setValue(7, list(table))
        c.setValue(8, "active = \(ids(s.active))")
        c.current = 8
      } else {
        c.setValue(8, list(table))
        c.setValue(9, "active = \(ids(s.active))")
        c.current = 9
      }
      c.notes.append("\(id(r)): \(pages) page\(pages == 1 ? "" : "s"), \(hitPages) from the prefix cache")
      return c

    case .refillFailed(let r, let lost):
      var c = seedRefillListing(s)
      c.title = "refill: alloc_n failed for \(id(r))"
      c.setValue(5, "[]")
      c.setValue(6, "\(id(r)) back to the head" + (lost.isEmpty ? "" : "; \(ids(lost)) lost!"))
      c.current = 6
      if !seed { c = CodeListing("refill: \(id(r)) back to the head of the queue") }
      if !lost.isEmpty { c.notes.append("popped \(ids(lost)) are neither admitted nor re-queued") }
      return c

    case .prefill(let r, let from, let to):
      var c = CodeListing("prefill \(id(r))")
      let table = r < s.requests.count ? s.requests[r].pageTable : []
      c.add("def prefill(task):")
      c.add("    start = task.computed", "\(from)")
      c.add("    for pos in range(start, len(task.prompt)):", "\(from)..\(max(from, to - 1))")
      c.add("        page = task.page_table[pos // page_size]")
      c.add("        write_kv(page, pos % page_size)", "pages \(list(table))", current: true)
      c.add("    task.computed = len(task.prompt)", "\(to)")
      if to > from, ps > 0 {
        c.notes.append("pages \(from / ps)..\((to - 1) / ps) of \(list(table)) hold tokens \(from)-\(to - 1)")
      }
      return c

    case .record(let r, let pages, let recorded):
      var c = CodeListing("record \(id(r)) in the prefix cache")
      c.add("def record(req):")
      c.add("    h = 0")
      c.add("    for i in range(len(req.prompt) // page_size):", "\(pages) full page\(pages == 1 ? "" : "s")")
      c.add("        h = hash(h, req.prompt[i*ps:(i+1)*ps])")
      c.add("        index.setdefault(h, req.page_table[i])", "\(recorded) new", current: true)
      c.notes.append("a partial last page is never recorded")
      return c

    case .write(let r, let position, let pages, let outOfBounds, let growthNeeded):
      let table = r < s.requests.count ? s.requests[r].pageTable : []
      let page = ps > 0 ? position / ps : 0
      let frameText =
        outOfBounds.map { "page \(page) missing: -1 -> frame \($0)!" }
        ?? (page < table.count ? "page \(page) -> frame \(table[page])" : "page \(page)")
      if seed {
        var c = seedDecodeListing(s)
        c.title = "decode \(id(r))"
        c.setValue(4, "pos = \(position), " + frameText)
        c.setValue(5, "output -> \(r < s.requests.count ? s.requests[r].output : 0)")
        if let needed = growthNeeded {
          c.setValue(6, "pos = \(position + 1)")
          c.notes.append(
            pagesFor(position + 2) + (needed > pages ? " > \(pages) pages: grow" : " <= \(pages) pages"))
        }
        c.current = 4
        return c
      }
      var c = pagedDecodeListing(s)
      c.title = "decode \(id(r))"
      c.setValue(1, "\(position)")
      c.setValue(2, pagesFor(position + 1))
      c.setValue(3, "\(pages) < \(s.pagesFor(position + 1)): no")
      c.setValue(7, frameText)
      c.current = 7
      return c

    case .growthFailed(let r, let position, let outcome):
      if seed {
        var c = seedGrowListing()
        c.title = "maybe_alloc_page(\(id(r)), \(position))"
        c.setValue(1, pagesFor(position + 1))
        c.setValue(3, "-1")
        c.setValue(4, "failure ignored!")
        c.current = 4
        c.notes.append("the next write at position \(position) is out of bounds")
        return c
      }
      var c = pagedDecodeListing(s)
      c.title = "decode \(id(r)): out of memory"
      c.setValue(1, "\(position)")
      c.setValue(2, pagesFor(position + 1))
      c.setValue(4, "-1")
      switch outcome {
      case .preempt(let victim): c.setValue(5, "preempt \(id(victim))")
      case .abort: c.setValue(5, "abort \(id(r))")
      case .wait: c.setValue(5, "wait: retry next iteration")
      case .ignored: c.setValue(5, "ignored")
      }
      c.current = 5
      c.notes.append("on_oom = \(s.scenario.scheduler.onOOM.rawValue)")
      return c

    case .preempted(let r, let forRequest, let tokens):
      var c = CodeListing("on_oom: preempt \(id(r)) for \(id(forRequest))")
      c.add("def preempt(victim):", "victim = \(id(r))")
      c.add("    for p in reversed(victim.page_table): free(p)")
      c.add("    victim.computed = 0", "\(tokens) tokens to recompute")
      c.add("    running.remove(victim)")
      c.add("    waiting.appendleft(victim)", "waiting = \(ids(Array(s.waiting.prefix(8))))", current: true)
      c.notes.append("no new request is admitted in this iteration")
      return c

    case .retired(let r, let status):
      var c = cleanupListing(s)
      c.title = "cleanup: \(id(r)) \(status.rawValue)"
      c.setValue(4, "active = \(ids(s.active))")
      c.current = 4
      return c

    case .aborted(let r):
      var c = CodeListing("abort \(id(r))")
      c.add("def abort(req):")
      c.add("    if req in waiting: waiting.remove(req)")
      c.add("    else: req.abort_requested = True", "pages freed at cleanup", current: true)
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
    }
  }

  // MARK: Listings

  static func allocListing(_ s: EngineState, _ t: AllocTrace) -> CodeListing {
    var c = CodeListing("alloc()")
    let failed = t.frame < 0
    let evicted = t.frame >= 0 && t.lsb == 0
    let before = bits(s, t.wordIndex, t.wordBefore)
    if s.policy == .astraiSeed {
      c.add("def alloc():")
      c.add("    lsb = free_mask & -free_mask", failed ? "0" : "0b" + String(t.lsb, radix: 2))
      c.add("    if lsb == 0: return -1", failed ? "-1" : nil, current: failed)
      c.add("    idx = lsb.bit_length() - 1", failed ? nil : "\(t.frame)")
      c.add("    free_mask ^= lsb", failed ? nil : "-> " + bits(s, t.wordIndex, t.wordAfter))
      c.add("    refs[idx] = 1")
      c.add("    return idx", failed ? nil : "frame \(t.frame)", current: !failed)
    } else {
      c.add("def alloc():")
      c.add("    if free_mask:", failed || evicted ? "0" : before)
      c.add("        lsb = free_mask & -free_mask", failed || evicted ? nil : "0b" + String(t.lsb, radix: 2))
      c.add("        idx = lsb.bit_length() - 1", failed || evicted ? nil : "\(t.frame)")
      c.add("        free_mask ^= lsb", failed || evicted ? nil : "-> " + bits(s, t.wordIndex, t.wordAfter))
      c.add("    elif lru:", evicted ? "evict the LRU head" : nil)
      c.add("        idx = lru.pop_head()", evicted ? "\(t.frame)" : nil, current: evicted)
      c.add("        del index[key[idx]]", t.evictedKey.map { EngineStateKey.short($0) })
      c.add("    else: return -1", failed ? "-1" : nil, current: failed)
      c.add("    refs[idx] = 1")
      c.add("    return idx", failed ? nil : "frame \(t.frame)", current: !failed && !evicted)
    }
    if !failed && !evicted {
      let w = t.wordIndex > 0 ? "word \(t.wordIndex): " : ""
      c.notes.append(
        "\(w)lsb = \(before) & -\(before) = 0b\(String(t.lsb, radix: 2)) -> idx \(t.frame)")
    }
    if failed { c.notes.append("no free frame" + (s.policy == .paged ? " and nothing cached to evict" : "")) }
    return c
  }

  static func growListing(
    _ s: EngineState, r: Int, position: Int, needed: Int, have: Int, trace: AllocTrace
  ) -> CodeListing {
    let id = r < s.requests.count ? s.requests[r].id : "#\(r)"
    let table = r < s.requests.count ? s.requests[r].pageTable : []
    let ps = s.pageSize
    var c: CodeListing
    let allocNote = allocListing(s, trace).notes
    if s.policy == .astraiSeed {
      c = seedGrowListing()
      c.title = "maybe_alloc_page(\(id), pos=\(position))"
      c.setValue(1, "pages_for(\(position + 1)) = \(needed)")
      c.setValue(2, "\(have) < \(needed)")
      c.setValue(3, "alloc page \(trace.frame)")
      c.setValue(5, "\(have) -> \(have + 1): \(list(table))")
      c.current = 3
    } else {
      c = pagedDecodeListing(s)
      c.title = "decode \(id): grow before the write"
      c.setValue(1, "\(position)")
      c.setValue(2, "pages_for(\(position + 1)) = \(needed)")
      c.setValue(3, "\(have) < \(needed)")
      c.setValue(4, "frame \(trace.frame)")
      c.setValue(6, list(table))
      c.current = 4
    }
    c.notes.append("pages_for(\(position + 1)) = (\(position + 1) + \(ps) - 1) // \(ps) = \(needed)")
    c.notes += allocNote
    if let key = trace.evictedKey {
      c.notes.append("evicted cached frame \(trace.frame), key \(EngineStateKey.short(key))")
    }
    c.notes.append(
      "\(id).page_table: \(list(Array(table.dropLast()))) -> \(list(table)) (\(table.count) pages -> can hold \(table.count * ps) tokens)"
    )
    return c
  }

  static func seedGrowListing() -> CodeListing {
    var c = CodeListing("maybe_alloc_page")
    c.add("def maybe_alloc_page(task, pos):")
    c.add("    needed = pages_for(pos + 1)")
    c.add("    while len(task.page_table) < needed:")
    c.add("        p = alloc()")
    c.add("        if p < 0: break")
    c.add("        task.page_table.append(p)")
    return c
  }

  static func pagedDecodeListing(_ s: EngineState) -> CodeListing {
    var c = CodeListing("decode")
    c.add("def decode_one(req):")
    c.add("    pos = req.computed")
    c.add("    needed = pages_for(pos + 1)")
    c.add("    while len(req.page_table) < needed:")
    c.add("        p = alloc()")
    c.add("        if p < 0: return on_oom(req)")
    c.add("        req.page_table.append(p)")
    c.add("    write_kv(req.page_table[pos // page_size], pos)")
    c.add("    req.computed = pos + 1")
    return c
  }

  static func seedDecodeListing(_ s: EngineState) -> CodeListing {
    var c = CodeListing("decode")
    c.add("def decode():")
    c.add("    groups = group_by(active, key=next_pos)")
    c.add("    batch = max(groups, key=len)")
    c.add("    for task in batch:")
    c.add("        write_kv(task.page_table, pos)")
    c.add("        task.output += 1")
    c.add("        maybe_alloc_page(task, pos + 1)")
    return c
  }

  static func seedRefillListing(_ s: EngineState) -> CodeListing {
    var c = CodeListing("refill")
    c.add("def refill():")
    c.add("    available = max_batch - len(active)")
    c.add("    popped = pop(waiting, available)")
    c.add("    for task in popped:")
    c.add("        n = pages_for(task.prompt_len)")
    c.add("        pages = alloc_n(n)")
    c.add("        if not pages: waiting.appendleft(task); break")
    c.add("        task.page_table = pages")
    c.add("        active.append(task)")
    return c
  }

  static func pagedRefillListing(_ s: EngineState) -> CodeListing {
    var c = CodeListing("refill")
    c.add("def refill():")
    c.add("    while len(active) < max_batch and waiting:")
    c.add("        req = waiting[0]")
    c.add("        hits = prefix_lookup(req)")
    c.add("        need = pages_for(len(req)) - len(hits)")
    c.add("        if need > free + len(lru): break")
    c.add("        waiting.popleft()")
    c.add("        for f in hits: inc_ref(f)")
    c.add("        req.page_table = hits + alloc_n(need)")
    c.add("        active.append(req)")
    return c
  }

  static func cleanupListing(_ s: EngineState) -> CodeListing {
    var c = CodeListing("cleanup")
    c.add("def cleanup():")
    c.add("    for task in list(active):")
    c.add("        if task.done or task.aborted:")
    c.add(
      s.policy == .astraiSeed
        ? "            for p in task.page_table: free(p)"
        : "            for p in reversed(task.page_table): free(p)")
    c.add("            active.remove(task)")
    return c
  }

  static func planListing(_ s: EngineState, _ phase: Phase, _ plan: PhasePlan) -> CodeListing {
    func id(_ r: Int) -> String { r >= 0 && r < s.requests.count ? s.requests[r].id : "#\(r)" }
    func ids(_ rs: [Int]) -> String { CodePanel.capped(rs.map(id)) }
    let seed = s.policy == .astraiSeed
    switch plan {
    case .cleanup(let arrived, let aborted, let releasing, let idleUntil):
      var c = cleanupListing(s)
      c.title = "cleanup (iteration \(s.iteration))"
      c.setValue(1, "active = \(ids(s.active))")
      c.setValue(2, releasing.isEmpty ? "none done" : ids(releasing))
      c.current = releasing.isEmpty ? 1 : 3
      if !arrived.isEmpty {
        c.notes.append("arrived: \(ids(arrived)) -> waiting = \(ids(Array(s.waiting.prefix(12))))")
      }
      if !aborted.isEmpty { c.notes.append("aborted: \(ids(aborted))") }
      if let idleUntil { c.notes.append("nothing to run: idle until iteration \(idleUntil)") }
      return c
    case .refill(let available, let popped, let skipped):
      if seed {
        var c = seedRefillListing(s)
        c.title = "refill"
        c.setValue(1, "\(s.scenario.scheduler.maxBatch) - \(s.active.count) = \(available)")
        c.setValue(2, ids(popped))
        c.current = 2
        return c
      }
      var c = pagedRefillListing(s)
      c.title = skipped ? "refill: skipped after a preemption" : "refill"
      c.setValue(1, "\(s.active.count) < \(s.scenario.scheduler.maxBatch), \(s.waiting.count) waiting")
      c.current = 1
      return c
    case .prefill(let chosen):
      var c = CodeListing("prefill")
      c.add("def prefill_phase():")
      c.add(
        seed
          ? "    fresh = [t for t in active if t.output == 0]"
          : "    fresh = [r for r in active if not r.prefilled]",
        ids(chosen), current: true)
      c.add(seed ? "    for group in group_by(fresh, prompt_len):" : "    for req in fresh:")
      c.add(seed ? "        prefill(group)" : "        prefill(req)")
      return c
    case .decode(let groups, let chosen):
      if seed {
        var c = seedDecodeListing(s)
        c.title = "decode: choose the batch"
        c.setValue(1, groups.map { "pos \($0.position):\(ids($0.requests))" }.joined(separator: " "))
        c.setValue(2, ids(chosen))
        c.current = 2
        return c
      }
      var c = CodeListing("decode")
      c.add("def decode_phase():")
      c.add(
        s.scenario.scheduler.decode == .all ? "    batch = list(active)" : "    batch = max(groups, key=len)",
        ids(chosen), current: true)
      c.add("    for req in batch: decode_one(req)")
      return c
    case .done(let reason):
      var c = CodeListing("done")
      c.add("# \(reason)", nil, current: true)
      c.notes.append(
        "\(s.stats.iterations) iterations, \(s.stats.decodedTokens) tokens decoded, peak \(s.stats.peakFramesInUse) frames in use"
      )
      return c
    }
  }

  // MARK: Values

  /// `0b11111100` for the bits of a mask word that lie inside the pool, or hex for long words.
  static func bits(_ s: EngineState, _ wordIndex: Int, _ word: UInt64) -> String {
    let width = max(1, min(64, s.pool.count - wordIndex * 64))
    if width > 16 { return "0x" + String(word, radix: 16, uppercase: true) }
    let text = String(word, radix: 2)
    return "0b" + String(repeating: "0", count: max(0, width - text.count)) + text
  }

  static func wordText(_ s: EngineState, _ n: Int, all: Bool) -> String {
    if n <= 16 { return bits(s, 0, n >= 64 ? ~0 : (UInt64(1) << UInt64(n)) - 1) }
    return "\(n) ones"
  }

  static func maskChange(_ s: EngineState, _ frame: Int, _ before: UInt64, _ after: UInt64) -> String {
    let wi = max(0, frame) / 64
    return "\(bits(s, wi, before)) -> \(bits(s, wi, after))"
  }
}

extension CodeListing {
  mutating func setValue(_ line: Int, _ value: String?) {
    guard line >= 0, line < lines.count else { return }
    lines[line].value = value
  }
}

enum EngineStateKey {
  static func short(_ key: UInt64) -> String {
    let hex = String(key, radix: 16)
    return "0x" + String((String(repeating: "0", count: max(0, 16 - hex.count)) + hex).prefix(8))
  }
}
