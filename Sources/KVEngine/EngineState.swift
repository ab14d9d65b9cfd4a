import DequeModule

/// One request as the scheduler sees it.
public struct RequestState: Sendable, Equatable {
  public var spec: RequestSpec
  public var status: RequestStatus = .pending
  /// Logical page i -> physical frame.
  public var pageTable: [Int] = []
  /// Tokens generated so far.
  public var output = 0
  /// Tokens whose KV is written (the sequence length held in the cache).
  public var computed = 0
  /// Pages reused from the prefix cache at the last admission.
  public var hitPages = 0
  /// True once the prompt of the current admission is written.
  public var prefilled = false
  /// Set by an abort; the next cleanup releases the pages.
  public var abortRequested = false
  public var preemptions = 0
  /// True while its pages are being released.
  public var releasing = false
  /// Keys of its full prompt pages while it waits for admission (computed once, dropped after record).
  var promptKeys: [UInt64] = []
  /// Tokens of it in this step's batch (token-budget policies).
  public var scheduled = 0
  /// Pages of its table whose block hash is recorded (vLLM's `num_cached_block`).
  public var cachedPages = 0
  /// Keys of the full pages of its sequence, computed so far (token-budget policies).
  var blockKeys: [UInt64] = []
  /// Per page of its sequence, the cached source page (request << 32 | page) already compared equal
  /// to it by a prefix-cache lookup.
  var verifiedSources: [Int64] = []
  /// Missing page indices already reported as out-of-bounds writes.
  var reportedOutOfBounds: Set<Int> = []
  /// Growth targets whose failure was already reported.
  var reportedGrowthFailures: Set<Int> = []
  var reportedDeadlock = false
  /// True from a growth that failed under `on_oom: wait` until it next grows or is admitted.
  var waitsForPage = false

  public init(spec: RequestSpec) { self.spec = spec }

  public var id: String { spec.id }
  /// A page-table entry whose frame was freed while the rest of the table is being released: the
  /// remaining frames keep their logical page numbers until each is freed.
  public static let releasedEntry = -1
  /// Prompt length of the current admission: the prompt plus, after a preemption, what it generated.
  public var admissionLength: Int { spec.prompt.count + output }
  /// Tokens of its sequence so far: the prompt and what it generated.
  public var tokens: Int { spec.prompt.count + output }
  /// True when the request will not run again.
  public var isTerminal: Bool { status == .finished || status == .aborted || status == .lost }
  /// Token slots its pages hold.
  public func capacity(pageSize: Int) -> Int { pageTable.count * pageSize }
}

/// Running totals of a run.
public struct RunStats: Sendable, Equatable {
  public var iterations = 0
  public var decodedTokens = 0
  public var prefilledTokens = 0
  public var promptTokensQueried = 0
  public var prefixHitTokens = 0
  public var prefixHitPages = 0
  public var evictions = 0
  public var preemptions = 0
  public var tokensRecomputed = 0
  public var admissions = 0
  public var peakFramesInUse = 0
  public var framesInUseSum = 0
  public var findings = 0

  /// Prefix-cache hit tokens over prompt tokens looked up.
  public var prefixHitRate: Double {
    promptTokensQueried == 0 ? 0 : Double(prefixHitTokens) / Double(promptTokensQueried)
  }
  /// Frames in use averaged over iterations.
  public var meanFramesInUse: Double { iterations == 0 ? 0 : Double(framesInUseSum) / Double(iterations) }
}

/// The whole state of a run after some number of steps. A value: copying it is a snapshot, and the same
/// scenario always gives the same sequence of states.
///
/// The run is a sequence of units: a phase of the policy, an operation of an allocator-only scenario,
/// or a user action. A unit runs eagerly; a state inside a unit keeps the state at the unit's start,
/// from which the next step is replayed (see `Stepping.swift`).
public struct EngineState: Sendable {
  public let scenario: Scenario
  /// The policy's implementation.
  public let policyType: any SchedulingPolicy.Type
  /// Steps executed so far.
  public internal(set) var step = 0
  public internal(set) var iteration = 0
  public internal(set) var phase: Phase = .start
  public internal(set) var pool: PagePool
  /// Every request of the scenario (and those added by the user), in order; `pending` until it arrives.
  /// Chunked, so that a snapshot shares the requests a later step does not touch.
  public internal(set) var requests: ChunkedArray<RequestState>
  /// The waiting queue, head first.
  public internal(set) var waiting: Deque<Int> = []
  /// The active batch, in admission order.
  public internal(set) var active: [Int] = []
  /// What the last step did.
  public internal(set) var event = StepEvent(.start)
  /// Findings of the last step.
  public internal(set) var findings: [Finding] = []
  /// Findings of every step so far, in step order.
  public internal(set) var findingsSoFar: [Finding] = []
  public internal(set) var stats = RunStats()
  /// Why the run ended, once `phase == .done`.
  public internal(set) var endReason: EndReason?
  /// This step's batch, in the order requests were scheduled (token-budget policies).
  public internal(set) var scheduled: [Int] = []
  /// Tokens the batch may still take (`max_batched_tokens` at the start of a step).
  public internal(set) var tokenBudget = 0

  /// Number of page tables holding each frame.
  var holders: [Int32]
  var checker = Checker()
  var progressed = false
  var preemptedThisIteration = false
  var skipRefill = false
  /// Request indices ordered by arrival, and how many have arrived.
  let arrivalOrder: [Int]
  /// Each scenario request's place in `arrivalOrder`.
  let arrivalPlace: [Int]
  var arrivalCursor = 0
  var eventCursor = 0
  let sortedEvents: [ScenarioEvent]
  var openRequests: Int
  /// Operations of an allocator-only scenario already started.
  var opCursor = 0
  /// The `alloc_n` operation under way; user actions wait until it ends.
  var allocationUnderWay: AllocationUnderWay?
  /// User actions that run as the next units.
  var pendingActions: Deque<UserAction> = []
  /// User actions given inside a unit: they join `pendingActions` when it ends.
  var deferredActions: [UserAction] = []
  /// The state at the start of the unit under way; nil at a unit boundary.
  var unitStart: UnitStart?
  /// Steps the running unit may still take before it pauses.
  var budget = 0
  /// Steps up to this one are a replay and are not observed.
  var observedAfter = 0
  /// Called after every step of an eager run.
  nonisolated(unsafe) var observer: ((EngineState) -> Void)?
  /// Page keys of prompt blocks already hashed, shared by this run's states.
  let blockKeyMemo = BlockKeyMemo()
  /// Runs of at least this many requests hash their prompt blocks ahead on another thread
  /// (`BlockKeyMemo.warm`); in shorter ones, a thread would cost more than it saves.
  static let warmingRequests = 64

  /// Extends `keys`, the page keys of `r`'s sequence, to `count` pages through the run's block memo,
  /// and tells the memo's warming how far the run has come: it keeps a few requests ahead of the
  /// furthest one in arrival order (a request added during the run has no place there).
  @inline(__always)
  func extendPageKeys(of r: Int, _ keys: inout [UInt64], to count: Int) {
    if r < arrivalPlace.count { blockKeyMemo.noteAsked(place: arrivalPlace[r]) }
    requests[r].spec.extendPageKeys(&keys, to: count, pageSize: pageSize, memo: blockKeyMemo)
  }

  public init(scenario: Scenario) {
    self.scenario = scenario
    policyType = scenario.scheduler.policy.type
    pool = PagePool(
      count: scenario.cache.pages, checked: policyType.capabilities.contains(.checkedPool),
      order: policyType.freeOrder, reserved: policyType.reservedFrame)
    holders = [Int32](repeating: 0, count: scenario.cache.pages)
    let specs = scenario.requests
    requests = ChunkedArray(specs.lazy.map(RequestState.init(spec:)))
    arrivalOrder = specs.indices.sorted { (specs[$0].arrive, $0) < (specs[$1].arrive, $1) }
    var arrivalPlace = [Int](repeating: 0, count: specs.count)
    for (place, r) in arrivalOrder.enumerated() { arrivalPlace[r] = place }
    self.arrivalPlace = arrivalPlace
    sortedEvents = scenario.events.enumerated().sorted {
      ($0.element.at, $0.offset) < ($1.element.at, $1.offset)
    }
    .map(\.element)
    openRequests = requests.count
  }

  public var pageSize: Int { scenario.cache.pageSize }
  public var policy: PolicyID { scenario.scheduler.policy }
  public var config: SchedulerConfig { scenario.scheduler }
  public var isDone: Bool { phase == .done }
  /// True between two units, where a user action applies.
  public var isAtBoundary: Bool { unitStart == nil }

  /// `pages_for(n) = (n + page_size - 1) // page_size`.
  public func pagesFor(_ tokens: Int) -> Int { (tokens + pageSize - 1) / pageSize }

  /// The index of the request with this id.
  public func requestIndex(id: String) -> Int? { requests.firstIndex { $0.id == id } }

  /// Requests holding `frame` in their page tables.
  public func holdersOf(_ frame: Int) -> [Int] {
    requests.indices.filter { requests[$0].pageTable.contains(frame) }
  }

  /// Frames referenced by page tables, counted from the tables themselves.
  func recountHolders() -> [Int32] {
    var counts = [Int32](repeating: 0, count: pool.count)
    for request in requests {
      for frame in request.pageTable where frame >= 0 && frame < pool.count { counts[frame] += 1 }
    }
    return counts
  }
}

/// An `alloc_n` that has begun: the frames it took, and how many of them a failure has freed again.
struct AllocationUnderWay: Sendable {
  let count: Int
  /// Chunks of 4,096 frames: a copy of the state shares the full ones.
  var taken = ChunkedArray<Int>(chunkShift: 12)
  /// Frames of `taken` freed so far by the rollback after a failed `alloc()`; nil while allocating.
  var rolledBack: Int?
}

/// The state at the start of the unit under way (a class so that a state can hold one).
final class UnitStart: Sendable {
  let state: EngineState
  init(_ state: EngineState) { self.state = state }
}
