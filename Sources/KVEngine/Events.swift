/// The scheduler's phases, in the order they run each iteration.
public enum Phase: String, Sendable, CaseIterable {
  /// Before the first step.
  case start
  case cleanup, refill, prefill, decode
  /// A token-budget scheduler's pass over its running requests, then over its waiting queue (vLLM).
  case running, waiting
  /// Output processing: each request scheduled to the end of its sequence gets a token (vLLM's
  /// `update_from_output`, nano-vllm's `postprocess`).
  case output
  /// An allocator-only scenario stepping its operations.
  case ops
  /// The run is over.
  case done
}

/// Why a page was freed.
public enum ReleaseReason: String, Sendable {
  case finished, aborted, preempted, rollback
}

/// What a page allocation was for.
public enum AllocPurpose: Sendable, Equatable {
  /// Admission of a request: page `have + 1` of `need` (`alloc_n(need)`).
  case admit(request: Int, need: Int, have: Int)
  /// Decode growth: `needed = pages_for(position + 1)` pages, the request has `have`.
  case grow(request: Int, position: Int, needed: Int, have: Int)
  /// An allocator operation: `alloc()`, or call `index` of `alloc_n(count)`.
  case op(index: Int, count: Int)
}

/// A request's status.
public enum RequestStatus: String, Sendable, CaseIterable {
  /// Not yet arrived.
  case pending
  case waiting, running, finished, aborted, preempted, lost
}

/// The plan of a phase, decided by its first step.
public enum PhasePlan: Sendable, Equatable {
  /// Arrivals, aborts and the finished or aborted requests whose pages are released.
  case cleanup(arrived: [Int], aborted: [Int], releasing: [Int], idleUntil: Int?)
  /// `available = max_batch - active`; the requests popped, for a policy that pops them all at once
  /// (nil for one that admits from the queue head).
  case refill(available: Int, popped: [Int]?, skippedAfterPreemption: Bool)
  /// Requests whose prompts are written.
  case prefill([Int])
  /// The requests that may decode, grouped by next position on demand; the chosen ones decode.
  case decode(DecodeCandidates, chosen: [Int])
  /// A token-budget pass over `candidates` (running requests or the waiting queue) with `budget`
  /// tokens left; `skipped` when the pass does not run this step (vLLM after a preemption, nano-vllm's
  /// decode after a prefill step).
  case schedule(budget: Int, candidates: [Int], skipped: Bool)
  /// The requests scheduled this step, in order; each gets a token once its sequence is computed.
  case output(scheduled: [Int])
  /// The run ended.
  case done(EndReason)
}

/// Why a run ended.
public enum EndReason: Sendable, Equatable {
  /// An allocator-only scenario ran all its operations.
  case allOperationsDone
  case allRequestsDone
  /// No request could make progress; `unfinished` requests remain.
  case stalled(unfinished: Int)
  case iterationLimit(Int)
}

/// Requests at the same next position.
public struct DecodeGroup: Sendable, Equatable {
  public var position: Int
  public var requests: [Int]
}

/// The requests a decode phase considers and the next position of each; grouped by position only
/// when a group is asked for (a policy that decodes them all, and a run nobody watches, never do).
public struct DecodeCandidates: Sendable, Equatable {
  public let requests: [Int]
  public let positions: [Int]

  /// `requests` with the next position `position` gives each.
  init(_ requests: [Int], position: (Int) -> Int) {
    self.requests = requests
    positions = requests.map(position)
  }

  /// Requests grouped by their next position, groups in order of first appearance. O(requests).
  public var groups: [DecodeGroup] {
    var groups: [DecodeGroup] = []
    var groupOfPosition: [Int: Int] = [:]
    for (r, p) in zip(requests, positions) {
      if let g = groupOfPosition[p] {
        groups[g].requests.append(r)
      } else {
        groupOfPosition[p] = groups.count
        groups.append(DecodeGroup(position: p, requests: [r]))
      }
    }
    return groups
  }

  /// The requests of the largest group; on a tie the first group found.
  public var largestGroup: [Int] {
    var best: DecodeGroup?
    for group in groups where group.requests.count > (best?.requests.count ?? 0) { best = group }
    return best?.requests ?? []
  }
}

/// What one step did, with the values a viewer shows. Request fields are indices into `EngineState.requests`.
public enum StepAction: Sendable, Equatable {
  /// The state before any step.
  case start
  case plan(Phase, PhasePlan)
  case alloc(AllocTrace, AllocPurpose)
  case free(RefTrace, request: Int?, reason: ReleaseReason?)
  case incRef(RefTrace, request: Int?)
  /// `alloc_n(count)` returned these frames (empty on failure).
  case allocNResult(count: Int, frames: [Int])
  /// A prefix-cache lookup for an admission: pages hit, pages still needed, frames available.
  case lookup(request: Int, hits: [Int], need: Int, available: Int, admitted: Bool)
  case admitted(request: Int, pages: Int, hitPages: Int)
  /// Refill failed for `request` (back to the head of the queue); `lost` were popped and dropped.
  case refillFailed(request: Int, lost: [Int])
  case prefill(request: Int, from: Int, to: Int)
  /// Keys of full prompt pages recorded in the prefix cache.
  case record(request: Int, pages: Int, recorded: Int)
  /// A decode wrote the KV of `position` into a table of `pages` pages; `outOfBounds` names the frame the
  /// padded -1 index hit. For the seed, `grownTo` is the growth check that follows the write:
  /// `pages_for(position + 2)` pages needed for the next write.
  case write(request: Int, position: Int, pages: Int, outOfBounds: Int?, growthNeeded: Int?)
  /// A growth allocation returned -1; `outcome` is what the policy did about it.
  case growthFailed(request: Int, position: Int, outcome: GrowthFailure)
  /// `request` was preempted so that `forRequest` could grow; its `tokensToRecompute` KV is dropped.
  case preempted(request: Int, forRequest: Int, tokensToRecompute: Int)
  case retired(request: Int, status: RequestStatus)
  /// A capacity check for `tokens` new tokens of `request`: `need` new frames against `free` in the
  /// free queue (vLLM's `allocate_slots`, nano-vllm's `can_append`).
  case slots(request: Int, tokens: Int, need: Int, free: Int, fits: Bool)
  /// `tokens` tokens of `request` from position `from` join this step's batch.
  case scheduled(request: Int, tokens: Int, from: Int)
  /// The KV of the `tokens` scheduled tokens of `request` is written; `to` tokens are computed.
  case computed(request: Int, tokens: Int, to: Int)
  /// Output processing appended the token at `position`; `finished` when it was the last one.
  case sampled(request: Int, position: Int, finished: Bool)
  /// Page `page` of `request`, now full, holds its block hash in `frame`; `indexed` when a lookup of
  /// the hash finds that frame.
  case cached(request: Int, page: Int, frame: Int, indexed: Bool)
  case aborted(request: Int)
  case added(request: Int)
}

/// One step: what it did, which frames and request it touched, and the listing line it ran.
public struct StepEvent: Sendable, Equatable {
  public var action: StepAction
  public var frames: [Int]
  public var request: Int?
  /// The line of the policy's listing this step belongs to.
  public var anchor: Anchor?

  public init(_ action: StepAction, frames: [Int] = [], request: Int? = nil, anchor: Anchor? = nil) {
    self.action = action
    self.frames = frames
    self.request = request
    self.anchor = anchor
  }
}

/// What a scheduler did when decode growth got no page.
public enum GrowthFailure: Sendable, Equatable {
  /// The seed ignores it.
  case ignored
  /// `on_oom: preempt`: the victim's pages are freed and it goes back to the waiting queue.
  case preempt(victim: Int)
  /// `on_oom: abort`.
  case abort
  /// `on_oom: wait`: try again next iteration.
  case wait
}

/// What the user did in the live view (or a trace recorded): applied as a step of its own.
public enum UserAction: Sendable, Equatable {
  case addRequest(RequestSpec)
  case abort(String)
  case pool(PoolOp)
}
