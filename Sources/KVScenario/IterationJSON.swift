import KVEngine

/// `kvscope check --iterations`: the workload with every token spelled out, then the state at the end
/// of each iteration in the engines' own terms (block tables, free queue, refcounts, which blocks
/// hold a hash). A differential harness feeds the workload to a real engine and compares its state
/// after each engine step with these lines.
public struct WorkloadRecord: Encodable, Sendable {
  public struct Request: Encodable, Sendable {
    public var id: String
    public var arrive: Int
    /// The prompt's token ids.
    public var prompt: [Int]
    /// The token ids it generates, in order.
    public var output: [Int]
  }

  public struct Workload: Encodable, Sendable {
    public var policy: String
    public var pages: Int
    public var pageSize: Int
    public var maxNumSeqs: Int
    public var maxNumBatchedTokens: Int
    public var prefixCache: Bool
    public var requests: [Request]

    enum CodingKeys: String, CodingKey {
      case policy, pages, requests
      case pageSize = "page_size"
      case maxNumSeqs = "max_num_seqs"
      case maxNumBatchedTokens = "max_num_batched_tokens"
      case prefixCache = "prefix_cache"
    }
  }

  public var workload: Workload

  public init(_ scenario: Scenario) {
    let config = scenario.scheduler
    workload = Workload(
      policy: config.policy.rawValue, pages: scenario.cache.pages, pageSize: scenario.cache.pageSize,
      maxNumSeqs: config.maxBatch, maxNumBatchedTokens: config.maxBatchedTokens,
      prefixCache: config.prefixCache,
      requests: scenario.requests.map { spec in
        let prompt = spec.prompt.count
        return Request(
          id: spec.id, arrive: spec.arrive, prompt: (0..<prompt).map { Int(spec.token(at: $0)) },
          output: (prompt..<(prompt + spec.output)).map { Int(spec.token(at: $0)) })
      })
  }
}

/// The state at the end of one iteration, in the terms of `WorkloadRecord`.
public struct IterationRecord: Encodable, Equatable, Sendable {
  public struct Request: Encodable, Equatable, Sendable {
    public var id: String
    public var status: String
    public var blocks: [Int]
    public var computed: Int
    public var tokens: Int
  }

  public var iteration: Int
  public var requests: [Request]
  public var freeQueue: [Int]
  public var refs: [Int]
  public var hashed: [Int]
  public var indexed: [Int]

  enum CodingKeys: String, CodingKey {
    case iteration, requests, refs, hashed, indexed
    case freeQueue = "free_queue"
  }

  /// The record of `state` as the end of iteration `iteration`.
  public init(_ state: EngineState, iteration: Int) {
    self.iteration = iteration
    requests = state.requests.filter { $0.status != .pending }.map {
      Request(
        id: $0.id, status: $0.status.rawValue, blocks: $0.pageTable, computed: $0.computed, tokens: $0.tokens)
    }
    let pool = state.pool
    freeQueue = pool.order == .queue ? pool.freeQueue.frames : (0..<pool.count).filter(pool.freeMask.contains)
    refs = pool.refs.map { Int($0) }
    hashed = pool.cached.keys.map { Int($0) }
    indexed = hashed.filter(pool.isIndexed)
  }
}
