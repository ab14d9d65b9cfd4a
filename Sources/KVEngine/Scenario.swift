/// A scenario: the cache, the scheduler and what happens to it. Pure data; parsing lives elsewhere.
public struct Scenario: Sendable, Equatable {
  /// A title shown in the status line.
  public var name: String
  /// Free text shown in the help overlay and in `check`.
  public var description: String
  public var cache: CacheConfig
  public var scheduler: SchedulerConfig
  /// Requests of a scheduler scenario, in file order.
  public var requests: [RequestSpec]
  /// Timed events of a scheduler scenario.
  public var events: [ScenarioEvent]
  /// Operations of an allocator-only scenario; `nil` for a scheduler scenario.
  public var ops: [PoolOp]?
  /// The run stops after this many iterations even if requests remain.
  public var maxIterations: Int
  /// Sentences for the caption line, each shown from its moment on; the engine never reads them.
  public var notes: [ScenarioNote]

  public init(
    name: String = "untitled", description: String = "", cache: CacheConfig,
    scheduler: SchedulerConfig = SchedulerConfig(), requests: [RequestSpec] = [],
    events: [ScenarioEvent] = [], ops: [PoolOp]? = nil, maxIterations: Int = Scenario.defaultMaxIterations,
    notes: [ScenarioNote] = []
  ) {
    self.name = name
    self.description = description
    self.cache = cache
    self.scheduler = scheduler
    self.requests = requests
    self.events = events
    self.ops = ops
    self.maxIterations = maxIterations
    self.notes = notes
  }

  /// Default bound on iterations, so that a stuck scheduler scenario still ends.
  public static let defaultMaxIterations = 1_000_000
  /// The largest pool a scenario may ask for.
  public static let maxPages = 4_000_000
  /// The largest page size a scenario may ask for.
  public static let maxPageSize = 65_536
  /// The latest iteration a request may arrive at or an event may happen at: iterations stay far from
  /// `Int.max`, so that counting them never overflows.
  public static let maxIteration = 1_000_000_000
  /// The most tokens a request may generate, so that prompt plus output never overflows.
  public static let maxOutput = 1_000_000_000

  /// True when the scenario steps the pool directly instead of running the scheduler.
  public var isAllocatorOnly: Bool { ops != nil }
}

/// Pool geometry.
public struct CacheConfig: Sendable, Equatable {
  /// Number of page frames.
  public var pages: Int
  /// Token slots per frame.
  public var pageSize: Int

  public init(pages: Int, pageSize: Int) {
    self.pages = pages
    self.pageSize = pageSize
  }
}

/// What a policy with preemption does when a decode cannot get a page.
public enum OOMAction: String, Sendable, CaseIterable {
  /// Free the last running request's pages and put it back at the head of the waiting queue.
  case preempt
  /// Abort the request that could not grow.
  case abort
  /// Skip the request's decode this iteration and try again next iteration.
  case wait
}

/// Which active requests decode in one iteration.
public enum DecodeOrder: String, Sendable, CaseIterable {
  /// Only the largest group of requests at the same position (the seed's rule).
  case largestGroup = "largest-group"
  /// Every active request (continuous batching).
  case all
}

/// Scheduler settings. Keys a scenario leaves out take the policy's defaults.
public struct SchedulerConfig: Sendable, Equatable {
  public var policy: PolicyID
  /// Most requests active at once.
  public var maxBatch: Int
  /// Reuse full prompt pages between requests (policies with a prefix cache).
  public var prefixCache: Bool
  /// What a failed decode growth does (policies with preemption).
  public var onOOM: OOMAction
  /// Which requests decode each iteration.
  public var decode: DecodeOrder
  /// Tokens one step may schedule (token-budget policies: `max_num_batched_tokens`).
  public var maxBatchedTokens: Int

  public init(
    policy: PolicyID = .astraiSeed, maxBatch: Int? = nil, prefixCache: Bool? = nil, onOOM: OOMAction? = nil,
    decode: DecodeOrder? = nil, maxBatchedTokens: Int? = nil
  ) {
    let defaults = policy.type.defaults
    self.policy = policy
    self.maxBatch = maxBatch ?? defaults.maxBatch
    self.prefixCache = prefixCache ?? defaults.prefixCache
    self.onOOM = onOOM ?? defaults.onOOM
    self.decode = decode ?? defaults.decode
    self.maxBatchedTokens = maxBatchedTokens ?? defaults.maxBatchedTokens
  }

  /// The policy's implementation.
  public var policyType: any SchedulingPolicy.Type { policy.type }
}

/// One request of a scheduler scenario.
public struct RequestSpec: Sendable, Equatable {
  /// A unique name such as `A`.
  public var id: String
  /// The iteration at which it joins the waiting queue.
  public var arrive: Int
  public var prompt: Prompt
  /// Tokens to generate.
  public var output: Int

  /// Pages its prompt and whole output need together: `Int.max` if the sum overflows.
  public func pagesForSequence(pageSize: Int) -> Int {
    let (total, overflow) = prompt.count.addingReportingOverflow(output)
    return overflow ? Int.max : (total + pageSize - 1) / pageSize
  }

  public init(id: String, arrive: Int = 0, prompt: Prompt, output: Int) {
    self.id = id
    self.arrive = arrive
    self.prompt = prompt
    self.output = output
  }
}

/// A prompt's tokens. Tokens are synthetic and deterministic: no model runs.
public enum Prompt: Sendable, Equatable {
  /// `n` tokens unique to the request.
  case length(Int)
  /// Explicit token ids, so that requests can share prefixes.
  case tokens([Int])
  /// `length` tokens built from blocks of `blockSize` tokens: equal block ids give equal tokens.
  case blocks(ids: [Int], blockSize: Int, length: Int)

  /// Number of prompt tokens.
  public var count: Int {
    switch self {
    case .length(let n): return n
    case .tokens(let t): return t.count
    case .blocks(_, _, let length): return length
    }
  }
}

/// Something that happens at the start of an iteration.
public struct ScenarioEvent: Sendable, Equatable {
  /// The iteration it happens at.
  public var at: Int
  public var action: Action

  public enum Action: Sendable, Equatable {
    /// Abort the request with this id.
    case abort(String)
  }

  public init(at: Int, action: Action) {
    self.at = at
    self.action = action
  }
}

/// One operation of an allocator-only scenario.
public enum PoolOp: Sendable, Equatable {
  case alloc
  case free(Int)
  case allocN(Int)
  case incRef(Int)

  /// The operation as written in a scenario and in the `:` command line.
  public var text: String {
    switch self {
    case .alloc: return "alloc"
    case .free(let i): return "free \(i)"
    case .allocN(let n): return "alloc_n \(n)"
    case .incRef(let i): return "inc_ref \(i)"
    }
  }
}
