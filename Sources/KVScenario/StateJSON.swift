import Foundation
import KVEngine
import KVText

/// The JSON form of one state (`kvscope check --states`, the final state of `--json`, trace lines).
public struct StateRecord: Codable, Equatable, Sendable {
  public struct Event: Codable, Equatable, Sendable {
    /// `start`, a phase name for a plan, or the operation (`alloc`, `free`, `inc_ref`, `alloc_n`,
    /// `prefill`, `write`, ...).
    public var kind: String
    public var text: String
    /// The id of the request the step acted for, if any.
    public var request: String?
    /// For allocator operations: the frame `alloc` returned (or -1), the refcount after `free` or
    /// `inc_ref`, the frames `alloc_n` returned.
    public var result: Result?
  }

  /// An allocator operation's result: a frame or refcount, or a list of frames.
  public enum Result: Codable, Equatable, Sendable {
    case value(Int)
    case frames([Int])

    public init(from decoder: Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let value = try? container.decode(Int.self) {
        self = .value(value)
      } else {
        self = .frames(try container.decode([Int].self))
      }
    }

    public func encode(to encoder: Encoder) throws {
      var container = encoder.singleValueContainer()
      switch self {
      case .value(let value): try container.encode(value)
      case .frames(let frames): try container.encode(frames)
      }
    }
  }

  public struct Request: Codable, Equatable, Sendable {
    public var id: String
    public var status: String
    public var pageTable: [Int]
    public var tokens: Int

    enum CodingKeys: String, CodingKey {
      case id, status, tokens
      case pageTable = "page_table"
    }
  }

  public var step: Int
  public var iteration: Int
  public var phase: String
  public var event: Event
  /// n bits, most significant first: frame 0 is the last character.
  public var freeMask: String
  public var refs: [Int]
  /// Cached frames with refcount 0, evicted first at the head.
  public var lru: [Int]
  /// The free queue of a queue pool, head (handed out next) first; nil for a bitmask pool.
  public var freeQueue: [Int]?
  /// Requests that have arrived, in scenario order.
  public var requests: [Request]
  /// Ids in the waiting queue, head first.
  public var waiting: [String]

  enum CodingKeys: String, CodingKey {
    case step, iteration, phase, event, refs, lru, requests, waiting
    case freeMask = "free_mask"
    case freeQueue = "free_queue"
  }

  public init(_ state: EngineState) {
    step = state.step
    iteration = state.iteration
    phase = state.phase.rawValue
    event = Event(state)
    freeMask = state.pool.freeMask.binary()
    refs = state.pool.refs.map { Int($0) }
    lru = state.pool.lru.frames
    freeQueue = state.pool.order == .queue ? state.pool.freeQueue.frames : nil
    requests = state.requests.filter { $0.status != .pending }.map {
      Request(id: $0.id, status: $0.status.rawValue, pageTable: $0.pageTable, tokens: $0.computed)
    }
    waiting = state.waiting.map { state.requests[$0].id }
  }
}

extension StateRecord.Event {
  init(_ state: EngineState) {
    text = state.eventText
    request = state.event.request.map { state.requests[$0].id }
    switch state.event.action {
    case .start: (kind, result) = ("start", nil)
    case .plan(let phase, _): (kind, result) = (phase.rawValue, nil)
    case .alloc(let trace, let purpose):
      if case .op(_, let count) = purpose, count > 1 {
        (kind, result) = ("alloc_n.alloc", .value(trace.frame))
      } else {
        (kind, result) = ("alloc", .value(trace.frame))
      }
    case .free(let trace, _, _): (kind, result) = ("free", .value(trace.refAfter))
    case .incRef(let trace, _): (kind, result) = ("inc_ref", .value(trace.refAfter))
    case .allocNResult(_, let frames): (kind, result) = ("alloc_n", .frames(frames))
    case .lookup: (kind, result) = ("lookup", nil)
    case .admitted: (kind, result) = ("admit", nil)
    case .refillFailed: (kind, result) = ("refill_failed", nil)
    case .prefill: (kind, result) = ("prefill", nil)
    case .record: (kind, result) = ("record", nil)
    case .write: (kind, result) = ("write", nil)
    case .growthFailed: (kind, result) = ("growth_failed", nil)
    case .preempted: (kind, result) = ("preempt", nil)
    case .retired: (kind, result) = ("retire", nil)
    case .aborted: (kind, result) = ("abort", nil)
    case .added: (kind, result) = ("add", nil)
    case .slots(_, _, _, _, let fits): (kind, result) = ("slots", .value(fits ? 1 : 0))
    case .scheduled(_, let tokens, _): (kind, result) = ("schedule", .value(tokens))
    case .computed(_, _, let to): (kind, result) = ("computed", .value(to))
    case .sampled(_, let position, _): (kind, result) = ("sample", .value(position))
    case .cached(_, _, let frame, _): (kind, result) = ("cache", .value(frame))
    }
  }
}

/// The JSON form of a finding.
public struct FindingRecord: Codable, Equatable, Sendable {
  public var step: Int
  public var kind: String
  public var message: String

  public init(_ finding: Finding, in state: EngineState) {
    step = finding.step
    kind = finding.kind.rawValue
    message = state.message(finding)
  }
}

/// JSON encoding with one fixed key order, so that output is stable between runs.
public enum JSONText {
  /// One line of compact JSON.
  public static func line(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
  }
}
