import KVEngine

/// Readable text for the last step and for findings: used by the event log, the `:` command messages
/// and `kvscope check --states`. No screen knowledge: plain text only.
extension EngineState {
  /// One line describing `event` (the last step) with its live values.
  public var eventText: String {
    switch event.action {
    case .start:
      let n = pool.count
      return
        "start: \(n) frame\(n == 1 ? "" : "s") of \(pageSize) tokens, all free, \(policy) policy"
    case .plan(let phase, let plan):
      return planText(phase, plan)
    case .alloc(let trace, let purpose):
      return allocText(trace, purpose)
    case .free(let trace, let request, let reason):
      return freeText(trace, request: request, reason: reason)
    case .incRef(let trace, let request):
      var text = "inc_ref(\(trace.frame))"
      if let request { text += " \(name(request))" }
      if let misuse = trace.misuse {
        return text + ": " + Text.misuse(misuse, trace, checked: pool.checked)
      }
      text += ": refs \(trace.refBefore) -> \(trace.refAfter)"
      if trace.lru {
        text +=
          pool.order == .queue ? ", prefix hit, leaves the free queue" : ", prefix hit, leaves the LRU list"
      } else if request != nil {
        text += ", prefix hit"
      }
      return text
    case .allocNResult(let count, let frames):
      if count == 0 { return "alloc_n(0) -> [] (nothing to allocate)" }
      if frames.isEmpty { return "alloc_n(\(count)) -> [] : not enough frames, the ones taken were freed" }
      return "alloc_n(\(count)) -> \(Text.list(frames))"
    case .lookup(let r, let hits, let need, let available, let admitted):
      let verdict = admitted ? "admitted" : "waits at the head of the queue"
      if pool.order == .queue {
        let hitText =
          hits.isEmpty ? "no hit" : "\(hits.count) hit\(hits.count == 1 ? "" : "s") \(Text.list(hits))"
        return
          "\(name(r)) lookup: \(hitText), takes \(need) block\(need == 1 ? "" : "s") from the free queue, \(available) free -> \(verdict)"
      }
      if scenario.scheduler.prefixCache {
        let hitText =
          hits.isEmpty ? "0 hits" : "\(hits.count) hit\(hits.count == 1 ? "" : "s") \(Text.list(hits))"
        return
          "\(name(r)) prefix lookup: \(hitText), needs \(need) more, \(available) available -> \(verdict)"
      }
      return
        "\(name(r)) admission: needs \(need) page\(need == 1 ? "" : "s"), \(available) available -> \(verdict)"
    case .admitted(let r, let pages, let hitPages):
      var text = "\(name(r)) admitted with \(pages) page\(pages == 1 ? "" : "s")"
      if hitPages > 0 { text += " (\(hitPages) from the prefix cache)" }
      if r < requests.count { text += ": page table \(Text.list(requests[r].pageTable))" }
      return text
    case .refillFailed(let r, let lost):
      var text = "refill: admission of \(name(r)) failed, back to the head of the queue"
      if !lost.isEmpty { text += "; lost \(names(lost))" }
      return text
    case .prefill(let r, let from, let to):
      let table = r < requests.count ? requests[r].pageTable : []
      if to <= from { return "prefill \(name(r)): nothing to write" }
      return "prefill \(name(r)): tokens \(from)-\(to - 1) written into \(Text.list(table))"
    case .record(let r, let pages, let recorded):
      return
        "record \(name(r)): \(pages) full prompt page\(pages == 1 ? "" : "s"), \(recorded) new key\(recorded == 1 ? "" : "s") indexed"
    case .write(let r, let position, let pages, let outOfBounds, let growthNeeded):
      let page = pageSize > 0 ? position / pageSize : 0
      var text = "decode \(name(r)): pos \(position) -> page \(page)"
      if let frame = outOfBounds {
        text +=
          ", but it holds \(pages) page\(pages == 1 ? "" : "s"): out of bounds, the -1 index hits frame \(frame)"
      } else if r < requests.count, page < requests[r].pageTable.count {
        text += " = frame \(requests[r].pageTable[page])"
      }
      if let needed = growthNeeded {
        text += "; pages_for(\(position + 2)) = \(needed)"
        if needed > pages { text += " > \(pages): grow" }
      }
      return text
    case .growthFailed(let r, let position, let outcome):
      let text = "alloc() -> -1 growing \(name(r)) for position \(position)"
      switch outcome {
      case .ignored: return text + ": failure ignored"
      case .preempt(let victim):
        return text + ": preempt \(name(victim))" + (victim == r ? " (itself)" : "")
      case .abort: return text + ": abort \(name(r))"
      case .wait: return text + ": \(name(r)) waits for the next iteration"
      }
    case .preempted(let r, let forRequest, let tokens):
      return
        "\(name(r)) preempted for \(name(forRequest)): \(tokens) token\(tokens == 1 ? "" : "s") to recompute, back to the head of the queue"
    case .retired(let r, let status):
      return "\(name(r)) \(status.rawValue): leaves the active batch"
    case .aborted(let r):
      return "abort \(name(r))"
    case .slots(let r, let tokens, let need, let free, let fits):
      let verdict = fits ? "fits" : "does not fit"
      return
        "\(name(r)): \(tokens) token\(tokens == 1 ? "" : "s") need \(need) new block\(need == 1 ? "" : "s"), \(free) free -> \(verdict)"
    case .scheduled(let r, let tokens, let from):
      let what = tokens == 1 && r < requests.count && from == requests[r].tokens - 1 ? "decode" : "prefill"
      return "\(name(r)) scheduled: \(tokens) token\(tokens == 1 ? "" : "s") from position \(from) (\(what))"
    case .computed(let r, let tokens, let to):
      return "\(name(r)): \(tokens) scheduled token\(tokens == 1 ? "" : "s") computed, \(to) in the cache"
    case .sampled(let r, let position, let finished):
      return "\(name(r)) samples the token at position \(position)" + (finished ? ": finished" : "")
    case .cached(let r, let page, let frame, let indexed):
      return
        "\(name(r)) page \(page) is full: block \(frame) holds its hash"
        + (indexed ? "" : " (the index keeps another block)")
    case .added(let r):
      guard r < requests.count else { return "add request \(r)" }
      let spec = requests[r].spec
      return "add \(spec.id): prompt \(spec.prompt.count), output \(spec.output), joins the waiting queue"
    }
  }

  // MARK: Parts

  /// The id of request `r`, or `#r` when there is none.
  public func name(_ r: Int) -> String {
    r >= 0 && r < requests.count ? requests[r].id : "#\(r)"
  }

  /// Request ids as a list, long lists cut in the middle.
  public func names(_ rs: [Int]) -> String {
    if rs.count <= 12 { return "[" + rs.map(name).joined(separator: ", ") + "]" }
    return "[" + rs.prefix(4).map(name).joined(separator: ", ")
      + ", ..., \(name(rs[rs.count - 1]))] (\(rs.count))"
  }

  /// At most a few request ids, then how many more: `A, B, C, D and 96 more`.
  public func fewNames(_ rs: [Int]) -> String {
    let shown = rs.prefix(Self.namesShown).map(name).joined(separator: ", ")
    return rs.count > Self.namesShown ? "\(shown) and \(rs.count - Self.namesShown) more" : shown
  }

  /// Ids a sentence lists before it counts the rest.
  static let namesShown = 4

  private func planText(_ phase: Phase, _ plan: PhasePlan) -> String {
    switch plan {
    case .cleanup(let arrived, let aborted, let releasing, let idleUntil):
      var parts: [String] = []
      if let idleUntil { parts.append("idle until iteration \(idleUntil)") }
      if !arrived.isEmpty { parts.append("arrived \(names(arrived))") }
      if !aborted.isEmpty { parts.append("aborted \(names(aborted))") }
      if !releasing.isEmpty {
        let freed = releasing.reduce(0) {
          $0 + ($1 < requests.count ? requests[$1].pageTable.lazy.filter { $0 >= 0 }.count : 0)
        }
        parts.append("releasing \(names(releasing)) (\(freed) page\(freed == 1 ? "" : "s"))")
      }
      return "cleanup (iter \(iteration)): "
        + (parts.isEmpty ? "nothing to do" : parts.joined(separator: "; "))
    case .refill(let available, let popped, let skipped):
      if skipped { return "refill: skipped, a request was preempted this iteration" }
      let maxBatch = scenario.scheduler.maxBatch
      let formula = "available = \(maxBatch) - \(active.count) = \(available)"
      guard available == max(0, maxBatch - active.count) else { return "refill: nothing more to admit" }
      if let popped { return "refill: \(formula), popped \(names(popped))" }
      if available == 0 || waiting.isEmpty { return "refill: \(formula), \(waiting.count) waiting" }
      return "refill: \(formula), \(waiting.count) waiting, head \(name(waiting[waiting.startIndex]))"
    case .prefill(let chosen):
      return chosen.isEmpty ? "prefill: no prompt to write" : "prefill: write the prompts of \(names(chosen))"
    case .decode(let candidates, let chosen):
      if candidates.requests.isEmpty { return "decode: nothing to decode" }
      if scenario.scheduler.decode == .all {
        return "decode: all \(chosen.count) active request\(chosen.count == 1 ? "" : "s") \(names(chosen))"
      }
      let text = candidates.groups.map { "pos \($0.position):\(names($0.requests))" }.joined(separator: " ")
      return "decode: groups \(text); chosen \(names(chosen))"
    case .schedule(let budget, let candidates, let skipped):
      let pass = phase == .running || phase == .decode ? "running" : "waiting"
      if skipped {
        return phase == .waiting
          ? "schedule waiting: skipped, a request was preempted this step"
          : "schedule decode: skipped, this is a prefill step"
      }
      return
        "schedule \(phase.rawValue): budget \(budget) token\(budget == 1 ? "" : "s"), \(pass) \(names(candidates))"
    case .output(let scheduled):
      return scheduled.isEmpty ? "output: nothing was scheduled" : "output: batch \(names(scheduled))"
    case .done(let reason):
      return "done: \(Text.endReason(reason))"
    }
  }

  private func allocText(_ trace: AllocTrace, _ purpose: AllocPurpose) -> String {
    var text: String
    switch purpose {
    case .op(let index, let count):
      text = count > 1 ? "alloc_n(\(count)) call \(index + 1) of \(count): alloc() -> " : "alloc() -> "
    default:
      text = "alloc() -> "
    }
    text += trace.frame >= 0 ? "frame \(trace.frame)" : "-1 (no frame free)"
    switch purpose {
    case .admit(let r, let need, let have):
      text += " for \(name(r)) (admission: page \(have + 1) of \(need))"
    case .grow(let r, let position, let needed, _):
      text += " for \(name(r)) (grow to \(needed) page\(needed == 1 ? "" : "s") for position \(position))"
    case .op:
      break
    }
    if let key = trace.evictedKey {
      text += ", evicted its cached page (key \(Text.shortKey(key)))"
    }
    return text
  }

  private func freeText(_ trace: RefTrace, request: Int?, reason: ReleaseReason?) -> String {
    var text = "free(\(trace.frame))"
    if let request {
      text += " \(name(request))"
      if let reason { text += " (\(reason.rawValue))" }
    } else if reason == .rollback {
      text += " (alloc_n rollback)"
    }
    if let misuse = trace.misuse, misuse != .negativeRefcount {
      return text + ": " + Text.misuse(misuse, trace, checked: pool.checked)
    }
    text += ": refs \(trace.refBefore) -> \(trace.refAfter)"
    if trace.refAfter < 0 {
      text += ", below zero (no check)"
    } else if let place = trace.queued {
      switch place {
      case .head: text += ", to the head of the free queue"
      case .after(let frame): text += ", to the free queue after \(frame)"
      case .tail: text += ", to the tail of the free queue"
      }
    } else if trace.refAfter == 0 {
      text += trace.lru ? ", cached: kept in the LRU list" : ", frame returned to mask"
    } else {
      text += ", still held"
    }
    return text
  }
}

/// Shared pieces of text.
public enum Text {
  /// `[0, 1, 4]`; long lists keep their first and last items: `[0, 1, 2, 3, ..., 749] (750)`.
  public static func list(_ values: [Int]) -> String {
    if values.count <= 12 { return "[" + values.map(String.init).joined(separator: ", ") + "]" }
    let head = values.prefix(4).map(String.init).joined(separator: ", ")
    return "[\(head), ..., \(values[values.count - 1])] (\(values.count))"
  }

  public static func misuse(_ misuse: PoolMisuse, _ trace: RefTrace, checked: Bool) -> String {
    switch misuse {
    case .badIndex: return "frame \(trace.frame) is outside the pool"
    case .doubleFree: return "already free, rejected"
    case .negativeRefcount: return "refs \(trace.refBefore) -> \(trace.refAfter), below zero"
    case .incRefFreeFrame:
      return checked
        ? "frame is free, rejected"
        : "frame is free: refs \(trace.refBefore) -> \(trace.refAfter), bit stays set"
    }
  }

  /// The first 8 hex digits of a key.
  public static func shortKey(_ key: UInt64) -> String {
    let hex = String(key, radix: 16)
    let padded = String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    return "0x" + padded.prefix(8)
  }
}
