import Foundation
import KVEngine
import KVText

/// The JSON form of a scenario, with exactly the keys of the YAML format (`docs/scenario-format.md`), so
/// that a trace header carries the whole scenario and JSON text reads back through ``ScenarioLoader``
/// (JSON is YAML) with the same keys, defaults and limits.
///
/// Keys that the loader only accepts in some cases are left out where it would reject them:
/// the scheduler keys the policy does not have, and every scheduler key but `policy` in an ops scenario.
public struct ScenarioJSON: Encodable, Sendable {
  public struct Cache: Encodable, Sendable {
    public var pages: Int
    public var pageSize: Int
    enum CodingKeys: String, CodingKey {
      case pages
      case pageSize = "page_size"
    }
  }

  public struct Scheduler: Encodable, Sendable {
    public var policy: String
    public var maxBatch: Int?
    public var prefixCache: Bool?
    public var onOOM: String?
    public var decode: String?
    public var maxBatchedTokens: Int?
    enum CodingKeys: String, CodingKey {
      case policy, decode
      case maxBatch = "max_batch"
      case maxBatchedTokens = "max_batched_tokens"
      case prefixCache = "prefix_cache"
      case onOOM = "on_oom"
    }
  }

  public struct Request: Encodable, Sendable {
    public var id: String
    public var arrive: Int
    public var prompt: PromptJSON
    public var output: Int

    public init(_ spec: RequestSpec) {
      id = spec.id
      arrive = spec.arrive
      prompt = PromptJSON(spec.prompt)
      output = spec.output
    }

    /// The request spec; the caller has validated the prompt.
    public var spec: RequestSpec {
      RequestSpec(id: id, arrive: arrive, prompt: prompt.prompt, output: output)
    }
  }

  public struct Event: Encodable, Sendable {
    public var at: Int
    public var abort: String
  }

  public var name: String
  public var description: String
  public var cache: Cache
  public var scheduler: Scheduler
  public var maxIterations: Int
  public var requests: [Request]?
  public var events: [Event]?
  public var ops: [OpJSON]?
  /// Absent without notes.
  public var notes: [NoteJSON]?

  enum CodingKeys: String, CodingKey {
    case name, description, cache, scheduler, requests, events, ops, notes
    case maxIterations = "max_iterations"
  }

  public init(_ scenario: Scenario) {
    name = scenario.name
    description = scenario.description
    cache = Cache(pages: scenario.cache.pages, pageSize: scenario.cache.pageSize)
    let config = scenario.scheduler
    let keys = config.policyType.keys
    if scenario.isAllocatorOnly {
      scheduler = Scheduler(policy: config.policy.rawValue)
      ops = scenario.ops?.map(OpJSON.init)
    } else {
      scheduler = Scheduler(
        policy: config.policy.rawValue, maxBatch: keys.contains(.maxBatch) ? config.maxBatch : nil,
        prefixCache: keys.contains(.prefixCache) ? config.prefixCache : nil,
        onOOM: keys.contains(.onOOM) ? config.onOOM.rawValue : nil,
        decode: keys.contains(.decode) ? config.decode.rawValue : nil,
        maxBatchedTokens: keys.contains(.maxBatchedTokens) ? config.maxBatchedTokens : nil)
      requests = scenario.requests.map(Request.init)
      events = scenario.events.map {
        switch $0.action {
        case .abort(let id): return Event(at: $0.at, abort: id)
        }
      }
    }
    maxIterations = scenario.maxIterations
    notes = scenario.notes.isEmpty ? nil : scenario.notes.map(NoteJSON.init)
  }

  /// The scenario as one line of JSON.
  public static func line(_ scenario: Scenario) -> String { JSONText.line(ScenarioJSON(scenario)) }
}

/// A prompt as written in a scenario: a length, a list of token ids or `{blocks, block_size, length}`.
public struct PromptJSON: Codable, Sendable, Equatable {
  public var prompt: Prompt

  public init(_ prompt: Prompt) { self.prompt = prompt }

  enum CodingKeys: String, CodingKey {
    case blocks, length
    case blockSize = "block_size"
  }

  public init(from decoder: Decoder) throws {
    if let container = try? decoder.singleValueContainer() {
      if let length = try? container.decode(Int.self) {
        prompt = .length(length)
        return
      }
      if let tokens = try? container.decode([Int].self) {
        prompt = .tokens(tokens)
        return
      }
    }
    guard let keyed = try? decoder.container(keyedBy: CodingKeys.self) else {
      throw DecodingError.typeMismatch(
        Prompt.self,
        DecodingError.Context(
          codingPath: decoder.codingPath,
          debugDescription: "expected a length, a list of token ids or {blocks, block_size, length}"))
    }
    let ids = try keyed.decode([Int].self, forKey: .blocks)
    let blockSize = try keyed.decode(Int.self, forKey: .blockSize)
    let length = try keyed.decodeIfPresent(Int.self, forKey: .length) ?? ids.count * max(0, blockSize)
    prompt = .blocks(ids: ids, blockSize: blockSize, length: length)
  }

  public func encode(to encoder: Encoder) throws {
    switch prompt {
    case .length(let n):
      var container = encoder.singleValueContainer()
      try container.encode(n)
    case .tokens(let tokens):
      var container = encoder.singleValueContainer()
      try container.encode(tokens)
    case .blocks(let ids, let blockSize, let length):
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(ids, forKey: .blocks)
      try container.encode(blockSize, forKey: .blockSize)
      try container.encode(length, forKey: .length)
    }
  }

  /// Why the prompt is not one the scenario loader accepts, or nil. `poolTokens` bounds its length.
  public func problem(poolTokens: Int) -> String? {
    switch prompt {
    case .length(let n):
      if n < 0 { return "a prompt length must be at least 0, got \(n)" }
    case .tokens(let tokens):
      if let bad = tokens.firstIndex(where: { $0 < 0 || $0 > Int(Int32.max) }) {
        return "token ids must be between 0 and \(Int32.max), got \(tokens[bad]) at index \(bad)"
      }
    case .blocks(let ids, let blockSize, let length):
      if blockSize < 1 { return "block_size must be at least 1, got \(blockSize)" }
      if let bad = ids.firstIndex(where: { $0 < 0 }) {
        return "block ids must be at least 0, got \(ids[bad])"
      }
      let (capacity, overflow) = ids.count.multipliedReportingOverflow(by: blockSize)
      if overflow { return "blocks x block_size is too large" }
      let minimum = ids.isEmpty ? 0 : (ids.count - 1) * blockSize + 1
      if length < minimum || length > capacity {
        return
          "length must be between \(minimum) and \(capacity) for \(ids.count) blocks of \(blockSize), got \(length)"
      }
    }
    if prompt.count > poolTokens {
      return "a prompt of \(prompt.count) tokens is longer than the whole pool (\(poolTokens) tokens)"
    }
    return nil
  }
}

/// An allocator operation in a scenario's `ops`: `"alloc"`, `{"free": N}`, `{"alloc_n": N}`, `{"inc_ref": N}`.
public struct OpJSON: Encodable, Sendable {
  public var op: PoolOp

  public init(_ op: PoolOp) { self.op = op }

  struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  public func encode(to encoder: Encoder) throws {
    let (name, argument): (String, Int)
    switch op {
    case .alloc:
      var container = encoder.singleValueContainer()
      try container.encode("alloc")
      return
    case .free(let i): (name, argument) = ("free", i)
    case .allocN(let n): (name, argument) = ("alloc_n", n)
    case .incRef(let i): (name, argument) = ("inc_ref", i)
    }
    var container = encoder.container(keyedBy: Key.self)
    try container.encode(argument, forKey: Key(stringValue: name))
  }

  /// Parses the text form of an operation (`alloc`, `free 3`, `alloc_n 2`, `inc_ref 1`), as
  /// ``PoolOp/text`` writes it.
  public static func parse(text: String) -> PoolOp? {
    let words = text.split(separator: " ", omittingEmptySubsequences: true)
    if words == ["alloc"] { return .alloc }
    guard words.count == 2, let n = Int(words[1]), n >= 0 else { return nil }
    switch words[0] {
    case "free": return .free(n)
    case "inc_ref": return .incRef(n)
    case "alloc_n": return n <= Scenario.maxPages ? .allocN(n) : nil
    default: return nil
    }
  }
}
