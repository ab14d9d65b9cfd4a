/// Verifies the cache invariants after every step and reports each violation once, when it begins.
///
/// - a frame's free bit is set exactly when its refcount is 0 and it is not cached (in a queue pool:
///   exactly when it is in the free queue, which holds the frames with refcount 0);
/// - a frame in the LRU list has refcount 0;
/// - every frame in a page table has a refcount at least the number of tables holding it;
/// - no frame is held by two requests unless it is shared through the prefix cache;
/// - no running request holds fewer pages than its tokens need;
/// - at the end of a scheduler run, no frame is still allocated.
///
/// A small pool is checked whole at every step; a large one checks the frames and request the step
/// touched, and is checked whole at the end.
public struct Checker: Sendable, Equatable {
  struct Violation: Hashable, Sendable {
    var kind: FindingKind
    /// A frame index, or `-1 - request` for a request.
    var subject: Int
  }

  var open: Set<Violation> = []

  public init() {}

  /// The findings that begin at this step. Subjects the step's own findings already name are not
  /// reported again, but are remembered as open.
  mutating func check(_ state: borrowing EngineState, full: Bool) -> [Finding] {
    var now: Set<Violation> = []
    var scope: Set<Int>? = nil
    if full {
      let holders = state.recountHolders()
      for frame in 0..<state.pool.count {
        Self.frameViolations(state, frame, holders: holders[frame], into: &now)
      }
      for r in state.requests.indices { Self.requestViolations(state, r, into: &now) }
      if state.phase == .done && !state.scenario.isAllocatorOnly {
        // A frame still allocated that no live request holds is leaked.
        var live = [Bool](repeating: false, count: state.pool.count)
        for request in state.requests where !request.isTerminal {
          for frame in request.pageTable where state.pool.contains(frame) { live[frame] = true }
        }
        for frame in 0..<state.pool.count where state.pool.refs[frame] > 0 && !live[frame] {
          now.insert(Violation(kind: .leakedFrame, subject: frame))
        }
      }
    } else {
      var subjects = Set(state.event.frames.filter(state.pool.contains))
      for frame in subjects { Self.frameViolations(state, frame, holders: state.holders[frame], into: &now) }
      if let r = state.event.request {
        Self.requestViolations(state, r, into: &now)
        subjects.insert(-1 - r)
      }
      scope = subjects
    }
    let previouslyOpen: Set<Violation>
    if let scope {
      previouslyOpen = open.filter { scope.contains($0.subject) }
      open.subtract(previouslyOpen)
      open.formUnion(now)
    } else {
      previouslyOpen = open
      open = now
    }
    let named = Set(state.findings.flatMap { f in [f.frame, f.request.map { -1 - $0 }].compactMap { $0 } })
    let started = now.subtracting(previouslyOpen).filter { !named.contains($0.subject) }
    return started.sorted { ($0.subject, $0.kind.rawValue) < ($1.subject, $1.kind.rawValue) }.map {
      finding($0, state)
    }
  }

  @inline(__always)
  fileprivate static func frameViolations(
    _ state: EngineState, _ frame: Int, holders: Int32, into set: inout Set<Violation>
  ) {
    // The pool is read in place, not copied: a copy would retain each of its arrays, at every step.
    let refs = state.pool.refs[frame]
    let inLRU = state.pool.lru.contains(frame)
    let isFree = state.pool.freeMask.contains(frame)
    if isFree != state.pool.shouldBeFree(frame, inLRU: inLRU)
      || (state.pool.order == .queue && isFree != state.pool.freeQueue.contains(frame))
    {
      set.insert(Violation(kind: .maskRefcountMismatch, subject: frame))
    }
    if inLRU && refs != 0 { set.insert(Violation(kind: .lruFrameInUse, subject: frame)) }
    if refs < holders { set.insert(Violation(kind: .refcountBelowHolders, subject: frame)) }
    if holders >= 2 && !state.pool.isCached(frame) {
      set.insert(Violation(kind: .sharedWithoutCache, subject: frame))
    }
  }

  @inline(__always)
  fileprivate static func requestViolations(_ state: EngineState, _ r: Int, into set: inout Set<Violation>) {
    // Fields read in place: a copy of the request would retain each of its arrays, at every step.
    if state.requests[r].status == .running && !state.requests[r].releasing
      && state.requests[r].computed > state.requests[r].pageTable.count * state.pageSize
    {
      set.insert(Violation(kind: .shortPageTable, subject: -1 - r))
    }
  }

  private func finding(_ v: Violation, _ state: EngineState) -> Finding {
    let pool = state.pool
    if v.subject < 0 {
      let r = -1 - v.subject
      let request = state.requests[r]
      return Finding(
        step: state.step, .shortPageTable(pages: request.pageTable.count, tokens: request.computed),
        request: r)
    }
    let f = v.subject
    let refs = Int(pool.refs[f])
    let detail: FindingDetail
    switch v.kind {
    case .maskRefcountMismatch:
      detail = .maskRefcountMismatch(
        freeBit: pool.freeMask.contains(f), refs: refs, cached: pool.lru.contains(f))
    case .lruFrameInUse: detail = .lruFrameInUse(refs: refs)
    case .refcountBelowHolders: detail = .refcountBelowHolders(refs: refs, holders: state.holdersOf(f))
    case .sharedWithoutCache: detail = .sharedWithoutCache(holders: state.holdersOf(f))
    default: detail = .leakedFrame(refs: refs, holders: state.holdersOf(f))
    }
    return Finding(step: state.step, detail, frame: f)
  }
}

extension EngineState {
  /// True when a step needs no check beyond the fast one: the pool is checked by the frames a step
  /// touches, nothing is open, and those frames and the step's request are sound. O(frames touched).
  @inline(__always)
  func stepIsSound(full: Bool) -> Bool {
    guard !full && checker.open.isEmpty else { return false }
    var now: Set<Checker.Violation> = []
    if event.action.changesFrames {
      for frame in event.frames where pool.contains(frame) {
        Checker.frameViolations(self, frame, holders: holders[frame], into: &now)
      }
    }
    if let r = event.request { Checker.requestViolations(self, r, into: &now) }
    return now.isEmpty
  }
}

extension StepAction {
  /// False for a step that only advances a sequence (a prefill, a decode's write, vLLM's computed
  /// tokens): it names frames to show, but leaves their refcounts, free bits, lists and tables as they
  /// were, so no frame invariant can begin at it.
  var changesFrames: Bool {
    switch self {
    case .prefill, .write, .computed: false
    default: true
    }
  }
}
