import Foundation

/// The KV cache event formats kvscope reads, one JSON line per record.
public enum KVEventFormat: String, CaseIterable, Sendable {
  /// vLLM's `KVEventBatch` with events in the map form: `{"type": "BlockStored", "block_hashes", ...}`.
  case vllm
  /// vLLM's events in the positional form of msgspec's `array_like` structs:
  /// `["BlockStored", block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium, ...]`.
  case vllmArray = "vllm-array"
  /// SGLang's `KVEventBatch` (`kv_events.py`): positional events as vLLM's, without `medium`.
  case sglang
  /// TensorRT-LLM's KV cache events as `get_kv_cache_events` serializes them:
  /// `{"event_id", "data": {"type": "stored" | "removed" | "created" | "updated", ...}}`.
  case trtllm

  /// The format's name on screen.
  public var title: String {
    switch self {
    case .vllm: "vLLM (map form)"
    case .vllmArray: "vLLM (positional form)"
    case .sglang: "SGLang"
    case .trtllm: "TensorRT-LLM"
    }
  }

  /// The names `--format` accepts.
  public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Blocks one event stored: a chain of full blocks after `parent`.
public struct KVStoredBlocks: Equatable, Sendable {
  /// The blocks' hashes, first block first, as written (integer digits or a string).
  public var hashes: [String]
  /// The hash of the block before the first one; nil for a chain that starts a sequence.
  public var parent: String?
  /// Each block's token ids (an empty list for a block whose event carries none).
  public var tokens: [[Int]]
  /// Each block's token count: vLLM's and SGLang's `block_size`, the tokens of a TensorRT-LLM block.
  public var tokenCounts: [Int]
  /// Where the blocks live (`GPU`, `CPU`; TensorRT-LLM's cache level as `level N`), when said.
  public var medium: String?

  /// Creates the blocks of one event.
  public init(hashes: [String], parent: String?, tokens: [[Int]], tokenCounts: [Int], medium: String?) {
    self.hashes = hashes
    self.parent = parent
    self.tokens = tokens
    self.tokenCounts = tokenCounts
    self.medium = medium
  }
}

/// One event of a recorded stream, in terms the engines share.
public enum KVEvent: Equatable, Sendable {
  case stored(KVStoredBlocks)
  case removed(hashes: [String], medium: String?)
  /// vLLM's and SGLang's `AllBlocksCleared`: every cached block is gone.
  case cleared
  /// TensorRT-LLM's `created`: the pool, as blocks per cache level.
  case created(blocksPerLevel: [Int])
  /// TensorRT-LLM's `updated`: a block's cache level or priority changed (`change` says how).
  case updated(hash: String, change: String)
}

/// One record of a stream: the events one engine step published (vLLM, SGLang), or one line of
/// TensorRT-LLM events.
public struct RecordedBatch: Equatable, Sendable {
  /// The line of the file it was read from.
  public var line: Int
  /// vLLM's and SGLang's `ts` as written, TensorRT-LLM's first `event_id`.
  public var ts: String
  public var events: [KVEvent]

  /// Creates a batch.
  public init(line: Int, ts: String, events: [KVEvent]) {
    self.line = line
    self.ts = ts
    self.events = events
  }

  /// The hashes of the blocks stored, in order.
  public var stored: [String] {
    events.flatMap { event -> [String] in if case .stored(let s) = event { s.hashes } else { [] } }
  }

  /// The hashes of the blocks removed, in order.
  public var removed: [String] {
    events.flatMap { event -> [String] in if case .removed(let hashes, _) = event { hashes } else { [] } }
  }

  /// Each store's first hash with its parent (`null` for none).
  public var parents: [String: String] {
    var parents: [String: String] = [:]
    for case .stored(let s) in events {
      if let first = s.hashes.first { parents[first] = s.parent ?? "null" }
    }
    return parents
  }

  /// Whether the batch holds an `AllBlocksCleared`.
  public var cleared: Bool { events.contains(.cleared) }
}

/// A recorded KV cache event stream: its format and its records.
public struct KVEventStream: Equatable, Sendable {
  public var format: KVEventFormat
  public var batches: [RecordedBatch]

  /// Creates a stream.
  public init(format: KVEventFormat, batches: [RecordedBatch]) {
    self.format = format
    self.batches = batches
  }

  /// Reads JSON Lines of events in `format`, or the format the first record shows. A bad line stops
  /// the reading with its line, the column of the offending value and the reason.
  public static func read(_ data: Data, file: String, format: KVEventFormat? = nil) throws(ScenarioError)
    -> KVEventStream
  {
    guard let text = String(data: data, encoding: .utf8) else {
      throw ScenarioError(file: file, message: "not UTF-8 text")
    }
    var lines: [(number: Int, value: LineJSON)] = []
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      guard raw.contains(where: { !$0.isWhitespace }) else { continue }
      do {
        lines.append((index + 1, try LineJSONParser.parse(raw)))
      } catch {
        throw ScenarioError(
          file: file, line: index + 1, column: error.column, message: "not valid JSON: \(error.message)")
      }
    }
    guard let chosen = format ?? detect(lines.map(\.value)) else {
      throw ScenarioError(
        file: file, line: lines.first?.number ?? 0, column: 1,
        message:
          "not a KV event record: expected a vLLM or SGLang batch ({\"ts\", \"events\"} or [ts, events, ...]) or TensorRT-LLM events ({\"event_id\", \"data\"})"
      )
    }
    let reader = KVEventReader(format: chosen)
    var batches: [RecordedBatch] = []
    for (number, value) in lines {
      do {
        batches.append(try reader.batch(value, line: number))
      } catch {
        throw ScenarioError(file: file, line: number, column: error.column, message: error.message)
      }
    }
    return KVEventStream(format: chosen, batches: batches)
  }

  /// The format the records show: TensorRT-LLM's `event_id`, or a batch whose first event is an
  /// object (vLLM's map form) or a list (positional: SGLang's has no `medium`, so a 6-item
  /// `BlockStored` or 2-item `BlockRemoved`). Batches without events do not decide.
  static func detect(_ records: [LineJSON]) -> KVEventFormat? {
    for record in records {
      let first = record.array?.first ?? record
      if first["event_id"] != nil || first["data"] != nil { return .trtllm }
      guard let events = record["events"]?.array ?? record.array?.dropFirst().first?.array else {
        return nil
      }
      for event in events {
        if event.isObject { return .vllm }
        guard let items = event.array, let tag = items.first?.string else { return .vllmArray }
        switch (tag, items.count) {
        case ("BlockStored", 6), ("BlockRemoved", 2): return .sglang
        case ("BlockStored", _), ("BlockRemoved", _): return .vllmArray
        default: continue
        }
      }
    }
    return records.isEmpty ? .vllm : nil
  }
}

/// A problem with one record, at a column of its line.
struct KVEventError: Error {
  var column: Int
  var message: String
}

/// Reads the records of one format into batches.
struct KVEventReader {
  let format: KVEventFormat

  func batch(_ record: LineJSON, line: Int) throws(KVEventError) -> RecordedBatch {
    if format == .trtllm { return try trtllmBatch(record, line: line) }
    let ts: LineJSON?
    let events: [LineJSON]
    if record.isObject, let list = record["events"]?.array {
      (ts, events) = (record["ts"], list)
    } else if let items = record.array, items.count >= 2, let list = items[1].array {
      (ts, events) = (items[0], list)
    } else {
      throw KVEventError(
        column: record.column,
        message:
          "expected an event batch: {\"ts\", \"events\"} or [ts, events, rank], got \(record.described)")
    }
    var batch = RecordedBatch(line: line, ts: ts.map(Self.text) ?? "", events: [])
    for (position, event) in events.enumerated() {
      do {
        batch.events.append(format == .vllm ? try mapEvent(event) : try positionalEvent(event))
      } catch {
        throw KVEventError(column: error.column, message: "event \(position + 1): \(error.message)")
      }
    }
    return batch
  }

  /// A value as the text a batch keeps: a number's or string's text, `null`.
  static func text(_ value: LineJSON) -> String {
    switch value.kind {
    case .number(let text), .string(let text): text
    case .null: "null"
    default: value.described
    }
  }

  // MARK: vLLM and SGLang

  /// vLLM's map form: `{"type": "BlockStored", "block_hashes", "parent_block_hash", "token_ids",
  /// "block_size", "medium", ...}`, `{"type": "BlockRemoved", "block_hashes", "medium"}`,
  /// `{"type": "AllBlocksCleared"}`.
  private func mapEvent(_ event: LineJSON) throws(KVEventError) -> KVEvent {
    guard event.isObject else {
      throw KVEventError(
        column: event.column,
        message:
          "expected an object with a \"type\" (format vllm), got \(event.described); --format vllm-array reads positional events"
      )
    }
    guard let type = event["type"] else { throw KVEventError(column: event.column, message: "no \"type\"") }
    switch type.string {
    case "BlockStored":
      return .stored(
        try stored(
          hashes: try required(event, "block_hashes"), parent: event["parent_block_hash"],
          tokens: event["token_ids"], blockSize: event["block_size"], medium: event["medium"]))
    case "BlockRemoved":
      return .removed(
        hashes: try hashes(try required(event, "block_hashes")), medium: try medium(event["medium"]))
    case "AllBlocksCleared": return .cleared
    default: throw unknownType(type)
    }
  }

  /// The positional form: `["BlockStored", block_hashes, parent_block_hash, token_ids, block_size,
  /// lora_id, medium, ...]`, `["BlockRemoved", block_hashes, medium]`, `["AllBlocksCleared"]`
  /// (SGLang's lack `medium`).
  private func positionalEvent(_ event: LineJSON) throws(KVEventError) -> KVEvent {
    guard let items = event.array, let tag = items.first else {
      throw KVEventError(
        column: event.column,
        message:
          "expected a positional event [\"BlockStored\", ...] (format \(format.rawValue)), got \(event.described); --format vllm reads {\"type\": ...} events"
      )
    }
    switch tag.string {
    case "BlockStored":
      guard items.count >= 5 else {
        throw KVEventError(
          column: event.column,
          message:
            "BlockStored has \(items.count - 1) fields; expected block_hashes, parent_block_hash, token_ids, block_size, ..."
        )
      }
      return .stored(
        try stored(
          hashes: items[1], parent: items[2], tokens: items[3], blockSize: items[4],
          medium: items.count > 6 ? items[6] : nil))
    case "BlockRemoved":
      guard items.count >= 2 else {
        throw KVEventError(column: event.column, message: "BlockRemoved has no block_hashes")
      }
      return .removed(hashes: try hashes(items[1]), medium: try medium(items.count > 2 ? items[2] : nil))
    case "AllBlocksCleared": return .cleared
    default: throw unknownType(tag)
    }
  }

  private func unknownType(_ type: LineJSON) -> KVEventError {
    KVEventError(
      column: type.column,
      message: "type \(type.described); expected BlockStored, BlockRemoved or AllBlocksCleared")
  }

  private func required(_ object: LineJSON, _ key: String) throws(KVEventError) -> LineJSON {
    guard let value = object[key] else { throw KVEventError(column: object.column, message: "no \"\(key)\"") }
    return value
  }

  /// A `BlockStored`'s blocks: `token_ids` cut into blocks of `block_size`.
  private func stored(
    hashes list: LineJSON, parent: LineJSON?, tokens: LineJSON?, blockSize: LineJSON?, medium: LineJSON?
  ) throws(KVEventError) -> KVStoredBlocks {
    let hashes = try hashes(list)
    let parentHash = try optionalHash(parent, "parent_block_hash")
    let tokenIDs = try tokens.map { (value) throws(KVEventError) in try ints(value, "token_ids") } ?? []
    var size = tokenIDs.count / max(1, hashes.count)
    if let blockSize, !blockSize.isNull {
      guard let value = blockSize.int, value >= 0 else {
        throw KVEventError(
          column: blockSize.column, message: "block_size: expected a block size, got \(blockSize.described)")
      }
      size = value
    }
    let perBlock = hashes.indices.map { i -> [Int] in
      let start = min(tokenIDs.count, i * size)
      let end = i == hashes.count - 1 ? tokenIDs.count : min(tokenIDs.count, start + size)
      return Array(tokenIDs[start..<end])
    }
    return KVStoredBlocks(
      hashes: hashes, parent: parentHash, tokens: perBlock, tokenCounts: hashes.map { _ in size },
      medium: try self.medium(medium))
  }

  private func hashes(_ value: LineJSON) throws(KVEventError) -> [String] {
    guard let items = value.array else {
      throw KVEventError(
        column: value.column, message: "block_hashes: expected a list, got \(value.described)")
    }
    var hashes: [String] = []
    for item in items {
      guard let hash = item.hash else {
        throw KVEventError(
          column: item.column,
          message: "expected a block hash (an integer or a string), got \(item.described)")
      }
      hashes.append(hash)
    }
    return hashes
  }

  private func optionalHash(_ value: LineJSON?, _ key: String) throws(KVEventError) -> String? {
    guard let value, !value.isNull else { return nil }
    guard let hash = value.hash else {
      throw KVEventError(
        column: value.column, message: "\(key): expected a block hash or null, got \(value.described)")
    }
    return hash
  }

  private func ints(_ value: LineJSON, _ key: String) throws(KVEventError) -> [Int] {
    guard let items = value.array else {
      throw KVEventError(column: value.column, message: "\(key): expected a list, got \(value.described)")
    }
    var ints: [Int] = []
    for item in items {
      guard let int = item.int else {
        throw KVEventError(column: item.column, message: "\(key): expected an integer, got \(item.described)")
      }
      ints.append(int)
    }
    return ints
  }

  private func medium(_ value: LineJSON?) throws(KVEventError) -> String? {
    guard let value, !value.isNull else { return nil }
    guard let text = value.string else {
      throw KVEventError(column: value.column, message: "medium: expected a string, got \(value.described)")
    }
    return text
  }

  // MARK: TensorRT-LLM

  /// A line of TensorRT-LLM events: one event object, or a list of them (one `get_kv_cache_events`).
  private func trtllmBatch(_ record: LineJSON, line: Int) throws(KVEventError) -> RecordedBatch {
    let events = record.array ?? [record]
    var batch = RecordedBatch(line: line, ts: "", events: [])
    for (position, event) in events.enumerated() {
      do throws(KVEventError) {
        guard event.isObject else {
          throw KVEventError(
            column: event.column,
            message: "expected an event {\"event_id\", \"data\"} (format trtllm), got \(event.described)")
        }
        let id = try required(event, "event_id")
        guard id.int != nil else {
          throw KVEventError(column: id.column, message: "event_id: expected an integer, got \(id.described)")
        }
        if position == 0 { batch.ts = Self.text(id) }
        batch.events.append(try trtllmEvent(try required(event, "data")))
      } catch {
        throw KVEventError(
          column: error.column,
          message: events.count > 1 ? "event \(position + 1): \(error.message)" : error.message)
      }
    }
    return batch
  }

  /// `{"type": "stored", "parent_hash", "blocks": [{"block_hash", "tokens": [{"token_id", ...}],
  /// "cache_level", ...}]}`, `{"type": "removed", "block_hashes"}`, `{"type": "created",
  /// "num_blocks_per_cache_level"}`, `{"type": "updated", "block_hash", "cache_level", "priority"}`.
  private func trtllmEvent(_ data: LineJSON) throws(KVEventError) -> KVEvent {
    guard data.isObject, let type = data["type"] else {
      throw KVEventError(column: data.column, message: "data: expected an object with a \"type\"")
    }
    switch type.string {
    case "stored":
      let list = try required(data, "blocks")
      guard let blocks = list.array else {
        throw KVEventError(column: list.column, message: "blocks: expected a list, got \(list.described)")
      }
      var stored = KVStoredBlocks(
        hashes: [], parent: try optionalHash(data["parent_hash"], "parent_hash"), tokens: [], tokenCounts: [],
        medium: nil)
      for block in blocks {
        let hash = try required(block, "block_hash")
        guard let text = hash.hash else {
          throw KVEventError(
            column: hash.column, message: "block_hash: expected an integer or a string, got \(hash.described)"
          )
        }
        var tokens: [Int] = []
        for token in block["tokens"]?.array ?? [] {
          guard let id = token["token_id"]?.int ?? token.int else {
            throw KVEventError(
              column: token.column, message: "tokens: expected {\"token_id\", ...}, got \(token.described)")
          }
          tokens.append(id)
        }
        stored.hashes.append(text)
        stored.tokens.append(tokens)
        stored.tokenCounts.append(tokens.count)
        if let level = block["cache_level"]?.int { stored.medium = "level \(level)" }
      }
      return .stored(stored)
    case "removed":
      return .removed(hashes: try hashes(try required(data, "block_hashes")), medium: nil)
    case "created":
      let list = try required(data, "num_blocks_per_cache_level")
      return .created(blocksPerLevel: try ints(list, "num_blocks_per_cache_level"))
    case "updated":
      let hash = try required(data, "block_hash")
      guard let text = hash.hash else {
        throw KVEventError(
          column: hash.column, message: "block_hash: expected an integer or a string, got \(hash.described)")
      }
      var changes: [String] = []
      for key in ["cache_level", "priority"] {
        guard let diff = data[key], diff.isObject else { continue }
        let old = diff["old_value"].map(Self.text) ?? "?"
        let new = diff["new_value"].map(Self.text) ?? "?"
        changes.append("\(key.replacingOccurrences(of: "_", with: " ")) \(old) -> \(new)")
      }
      return .updated(
        hash: text, change: changes.isEmpty ? "no change given" : changes.joined(separator: ", "))
    default:
      throw KVEventError(
        column: type.column, message: "type \(type.described); expected stored, removed, created or updated")
    }
  }
}
