import KVEngine

/// The sentences of the predict-then-reveal quiz: what is about to happen (without its result) and why
/// it happened (from the step's facts). `self` is the state before the step asked about.
extension EngineState {
  // MARK: Questions

  /// The operation about to run, named without its result: `alloc() for A (grow to 3 pages for position
  /// 128)`.
  public func quizAllocCall(_ purpose: AllocPurpose) -> String {
    let call = pool.order == .queue ? "popleft()" : "alloc()"
    switch purpose {
    case .admit(let r, let need, let have):
      return "\(call) for \(name(r)) (admission: page \(have + 1) of \(need))"
    case .grow(let r, let position, let needed, _):
      return
        "\(call) for \(name(r)) (grow to \(needed) page\(needed == 1 ? "" : "s") for position \(position))"
    case .op(let index, let count):
      return count > 1 ? "alloc_n(\(count)) call \(index + 1) of \(count): \(call)" : call
    }
  }

  /// `free(1) for A (finished)`.
  public func quizFreeCall(frame: Int, request: Int?, reason: ReleaseReason?) -> String {
    var text = "free(\(frame))"
    if let request {
      text += " for \(name(request))"
      if let reason { text += " (\(reason.rawValue))" }
    } else if reason == .rollback {
      text += " (alloc_n rollback)"
    }
    return text
  }

  /// Who asks for a page when a preemption is about to happen, as the start of the question.
  public func quizPreemptionCause(for request: Int?) -> String {
    guard let request else { return "No page is free for the running batch" }
    return "\(name(request)) needs a page and none is free"
  }

  /// `A asks for admission: 120 tokens, pages of 64`.
  public func quizAdmissionCall(_ r: Int) -> String {
    let tokens = r < requests.count ? requests[r].tokens : 0
    return "\(name(r)) asks for admission: \(tokens) token\(tokens == 1 ? "" : "s"), pages of \(pageSize)"
  }

  /// `A schedules 1 token: it holds 2 blocks of 16 and 32 tokens`.
  public func quizSlotsCall(_ r: Int, tokens: Int) -> String {
    let held = r < requests.count ? requests[r].pageTable.count : 0
    let computed = r < requests.count ? requests[r].computed : 0
    return
      "\(name(r)) schedules \(tokens) token\(tokens == 1 ? "" : "s"): it holds \(held) block\(held == 1 ? "" : "s") of \(pageSize) and \(computed) computed"
  }

  // MARK: Explanations

  /// Why `alloc()` (or `popleft()`) returned `trace.frame`.
  public func quizAllocReason(_ trace: AllocTrace) -> String {
    if pool.order == .queue {
      guard trace.frame >= 0 else {
        return "the free queue is empty: popleft() has no block to hand out (-1)"
      }
      let dropped = trace.evictedKey == nil ? "" : ", dropping the hash it held"
      return
        "popleft() hands out the head of the free queue \(quizQueueHead): block \(trace.frame)\(dropped)"
    }
    let mask = quizMask(trace.wordIndex, word: trace.wordBefore)
    if trace.frame < 0 {
      return pool.lru.count == 0
        ? "\(mask) has no set bit and no cached frame can be evicted: alloc() returns -1"
        : "no frame is free: alloc() returns -1"
    }
    if trace.lsb == 0 {
      return "no frame is free (\(mask)): alloc() evicts the head of the LRU list, frame \(trace.frame)"
    }
    return "alloc() returns the lowest free frame: \(mask) -> lowest set bit is frame \(trace.frame)"
  }

  /// Why a growth allocation got no page, and what the policy does then.
  public func quizGrowthFailureReason(request r: Int, outcome: GrowthFailure) -> String {
    let empty =
      pool.order == .queue
      ? "the free queue is empty: popleft() has no block (-1)"
      : pool.lru.count == 0
        ? "\(quizMask(0, word: pool.freeMask.word(0))) has no set bit: alloc() returns -1"
        : "no frame is free: alloc() returns -1"
    switch outcome {
    case .ignored: return empty + "; the seed ignores the failure"
    case .wait: return empty + "; \(name(r)) waits for the next iteration"
    case .abort: return empty + "; \(name(r)) is aborted"
    case .preempt(let victim): return empty + "; \(name(victim)) is preempted"
    }
  }

  /// Why the mask is what it is after `free(trace.frame)`; `mask` is the whole mask after it (nil for a
  /// pool too large to write out, where `nowFree` says whether the frame is free).
  public func quizFreeReason(_ trace: RefTrace, maskAfter mask: String?, nowFree: Bool) -> String {
    var cause = "free(\(trace.frame)): "
    if let misuse = trace.misuse, misuse != .negativeRefcount {
      cause += Text.misuse(misuse, trace, checked: pool.checked)
    } else {
      cause += "refs \(trace.refBefore) -> \(trace.refAfter)"
      if trace.refAfter < 0 {
        cause += ", below zero (no check)"
      } else if trace.refAfter > 0 {
        cause += ", still held"
      } else if let place = trace.queued {
        switch place {
        case .head: cause += ", the block joins the head of the free queue"
        case .after(let frame): cause += ", the block joins the free queue after \(frame)"
        case .tail: cause += ", the block joins the tail of the free queue"
        }
      } else if trace.lru {
        cause += ", but its page is cached: it waits in the LRU list and its bit stays clear"
      } else {
        cause += ", bit \(trace.frame) is set again"
      }
    }
    guard let mask else { return cause + (nowFree ? ": frame \(trace.frame) is free" : ": it is not free") }
    let before = pool.freeMask.binary()
    return cause + (before == mask ? ": the mask stays \(mask)" : ": mask \(before) -> \(mask)")
  }

  /// Why an admission was or was not possible.
  public func quizAdmissionReason(request r: Int, hits: [Int], need: Int, available: Int, admitted: Bool)
    -> String
  {
    var text = "\(name(r)) needs \(need) more page\(need == 1 ? "" : "s")"
    if !hits.isEmpty { text += " after \(hits.count) prefix hit\(hits.count == 1 ? "" : "s")" }
    text += ", \(available) \(pool.order == .queue ? "free in the queue" : "available")"
    return text + (admitted ? " -> admitted" : " -> it waits at the head of the queue")
  }

  /// Why a capacity check did or did not pass.
  public func quizSlotsReason(request r: Int, tokens: Int, need: Int, free: Int, fits: Bool) -> String {
    "\(tokens) token\(tokens == 1 ? "" : "s") of \(name(r)) need\(tokens == 1 ? "s" : "") \(need) new block\(need == 1 ? "" : "s"), the free queue has \(free) -> "
      + (fits ? "fits" : "does not fit")
  }

  /// The policy's rule for choosing whom to preempt, applied to the running batch before the step.
  public func quizPreemptionReason(victim: Int) -> String {
    let running = names(active)
    switch policy {
    case .vllmV1:
      return "vLLM preempts the last request of the running queue: \(running) -> \(name(victim))"
    case .nanoVLLM:
      return
        "nano-vllm preempts the last running sequence (itself when no other is left): \(running) -> \(name(victim))"
    default:
      return "on_oom: preempt takes the last running request: \(running) -> \(name(victim))"
    }
  }

  /// The free queue's first blocks, head first: `[5, 6, 7, ...]`.
  private var quizQueueHead: String {
    let shown = pool.freeQueue.frames(first: 6)
    let more = pool.freeQueue.count > shown.count ? ", ..." : ""
    return "[" + shown.map(String.init).joined(separator: ", ") + more + "]"
  }

  /// `mask 11110000` for a pool of up to 64 frames, `mask word 2 = 0x...` for a larger one.
  private func quizMask(_ wordIndex: Int, word: UInt64) -> String {
    if pool.count <= 64 { return "mask " + pool.freeMask.binary() }
    return "mask word \(wordIndex) = 0x" + String(word, radix: 16, uppercase: true)
  }
}

extension LRUList {
  /// The first `count` frames of the list, head first.
  fileprivate func frames(first count: Int) -> [Int] {
    var shown: [Int] = []
    var cursor = head
    while cursor >= 0 && shown.count < count {
      shown.append(Int(cursor))
      cursor = next(after: Int(cursor))
    }
    return shown
  }
}
