import KVEngine

extension EngineState {
  /// One line for a finding: `kind: message`.
  public func describe(_ finding: Finding) -> String {
    "\(finding.kind.rawValue): \(message(finding))"
  }

  /// The sentence for a finding's facts. Request names come from this state.
  public func message(_ finding: Finding) -> String {
    let subject = finding.request.map(name) ?? ""
    let frame = finding.frame ?? -1
    switch finding.detail {
    case .lostTask(let failed):
      return
        "\(subject) was popped from the waiting queue at refill but neither admitted nor re-queued after \(name(failed)) failed"
    case .outOfBoundsWrite(let position, let page, let pages, let hit, let owners):
      let owner =
        owners.isEmpty
        ? "a frame it does not own" : "frame owned by \(owners.map(name).joined(separator: ", "))"
      return
        "\(subject) writes position \(position) in page \(page) but holds \(pages) page(s) (\(pages * pageSize) slots); the padded -1 index hits frame \(hit), \(owner)"
    case .ignoredGrowthFailure(let needed, let position):
      return
        "alloc() returned -1 while \(subject) grew to \(needed) page(s) for position \(position); the failure is ignored"
    case .emptyPromptDeadlock:
      return
        "\(subject) has an empty prompt: alloc_n(0) returns [], refill reads it as failure and puts it back at the head forever"
    case .negativeRefcount(let before, let after):
      return "free(\(frame)) drove refs[\(frame)] from \(before) to \(after)"
    case .doubleFree:
      return "free(\(frame)) of a frame that is already free: rejected"
    case .badFrameIndex(let poolSize):
      return "frame \(frame) is outside the pool of \(poolSize) frames"
    case .incRefFreeFrame(let checked, let refsAfter):
      return checked
        ? "inc_ref(\(frame)) of a free frame: rejected"
        : "inc_ref(\(frame)) of a free frame: refs[\(frame)] = \(refsAfter) but its free bit stays set"
    case .maskRefcountMismatch(let freeBit, let refs, let cached):
      return "frame \(frame): free bit \(freeBit ? 1 : 0) but refs \(refs)\(cached ? " and cached" : "")"
    case .lruFrameInUse(let refs):
      return "frame \(frame) is in the LRU list with refs \(refs): it can be evicted while in use"
    case .refcountBelowHolders(let refs, let holders):
      return
        "frame \(frame) has refs \(refs) but \(holders.count) page table(s) hold it: \(holders.map(name).joined(separator: ", "))"
    case .sharedWithoutCache(let holders):
      return
        "frame \(frame) is held by \(holders.map(name).joined(separator: ", ")) but not shared through the prefix cache"
    case .shortPageTable(let pages, let tokens):
      return "\(subject) holds \(pages) page(s) (\(pages * pageSize) slots) for \(tokens) tokens"
    case .leakedFrame(let refs, let holders):
      return
        "frame \(frame) is still allocated at the end (refs \(refs))\(holders.isEmpty ? " and no request holds it" : ", held by \(holders.map(name).joined(separator: ", "))")"
    case .deadlock(let stuck, let cause):
      return deadlockMessage(stuck, cause)
    }
  }

  private func deadlockMessage(_ stuck: [Int], _ cause: DeadlockCause) -> String {
    switch cause {
    case .sequenceExceedsPool(let pages, let usable):
      let spec = requests[stuck[0]].spec
      return
        "\(name(stuck[0])) needs \(pages) pages for prompt + output (\(spec.prompt.count) + \(spec.output) tokens); the pool has \(usable): it can never finish"
    case .waitCycle(let holds, let frames):
      let held = zip(stuck, holds).prefix(Self.namesShown).map { "\(name($0.0)) \($0.1)" }
      let heldText = held.joined(separator: ", ") + (stuck.count > Self.namesShown ? ", ..." : "")
      switch stuck.count {
      case 1:
        return "\(name(stuck[0])) holds all \(frames) frames and waits for one more (on_oom: wait)"
      case 2:
        let (a, b) = (name(stuck[0]), name(stuck[1]))
        return
          "\(a) waits for a page held by \(b), \(b) waits for a page held by \(a) (on_oom: wait): they hold all \(frames) frames (\(heldText)) and neither frees one"
      default:
        return
          "\(fewNames(stuck)) each wait for a page another holds (on_oom: wait): they hold all \(frames) frames (\(heldText)) and none frees one"
      }
    case .noProgress:
      return "no request can make progress; stuck: \(fewNames(stuck))"
    }
  }
}

extension Text {
  /// Why a run ended, as `check` and the status line say it.
  public static func endReason(_ reason: EndReason) -> String {
    switch reason {
    case .allOperationsDone: return "all operations done"
    case .allRequestsDone: return "all requests done"
    case .stalled(let unfinished): return "stalled with \(unfinished) request(s) unfinished"
    case .iterationLimit(let limit): return "iteration limit \(limit)"
    }
  }
}

extension LimitViolation {
  /// Why `spec` cannot run under `policy`, as a sentence.
  public func message(for spec: RequestSpec, policy: any SchedulingPolicy.Type) -> String {
    let reason = policy.limits.reason
    switch self {
    case .outputTooSmall(let minimum):
      return "must be at least \(minimum) under policy \(policy.id): \(reason)"
    case .sequenceTooLong(let pages, let usable):
      let id = spec.id.count > 40 ? spec.id.prefix(40) + "..." : Substring(spec.id)
      return
        "request `\(id)` needs \(pages) pages for its \(spec.prompt.count) prompt and \(spec.output) output tokens, "
        + "more than the \(usable) usable pages under policy \(policy.id): \(reason)"
    }
  }
}

extension Scenario {
  /// Why this scenario cannot run under its policy, as a sentence.
  public func message(_ violation: ScenarioViolation) -> String {
    let policy = scheduler.policyType
    switch violation {
    case .pageSize(let minimum):
      return
        "page_size \(cache.pageSize) is below \(minimum), the least policy \(policy.id) takes: \(policy.limits.reason)"
    case .request(let index, let limit):
      let spec = requests[index]
      if case .outputTooSmall = limit {
        return "request `\(spec.id)`: output " + limit.message(for: spec, policy: policy)
      }
      return limit.message(for: spec, policy: policy)
    case .budget(let tokens, let batch):
      return
        "max_batched_tokens (\(tokens)) must be at least max_batch (\(batch)) under policy \(policy.id): \(policy.limits.reason)"
    case .aborts:
      return "policy \(policy.id) has no abort, and the scenario aborts requests"
    }
  }
}
