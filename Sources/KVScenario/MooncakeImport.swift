import Foundation
import KVEngine
import KVText

/// One request of a Mooncake trace (kvcache-ai/Mooncake, FAST'25 trace release).
public struct MooncakeRecord: Sendable, Equatable {
  /// The 1-based line of the trace it came from.
  public var line: Int
  /// Milliseconds since the start of the trace.
  public var timestamp: Double
  public var inputLength: Int
  public var outputLength: Int
  /// One id per 512-token prompt block; equal ids are equal blocks.
  public var hashIDs: [Int]

  public init(line: Int, timestamp: Double, inputLength: Int, outputLength: Int, hashIDs: [Int]) {
    self.line = line
    self.timestamp = timestamp
    self.inputLength = inputLength
    self.outputLength = outputLength
    self.hashIDs = hashIDs
  }
}

/// The shape of a model's KV cache, to size the pool the way vLLM does:
/// `bytes per block = 2 (K and V) * layers * kv_heads * head_dim * dtype_bytes * page_size` and
/// `pages = floor(memory budget / bytes per block)`.
public struct KVCacheShape: Sendable, Equatable {
  public var layers: Int
  public var kvHeads: Int
  public var headDim: Int
  public var dtypeBytes: Int

  public init(layers: Int, kvHeads: Int, headDim: Int, dtypeBytes: Int = 2) {
    self.layers = layers
    self.kvHeads = kvHeads
    self.headDim = headDim
    self.dtypeBytes = dtypeBytes
  }

  /// Known model shapes (fp16/bf16 KV).
  public static let presets: [(name: String, shape: KVCacheShape)] = [
    ("llama-3-8b", KVCacheShape(layers: 32, kvHeads: 8, headDim: 128)),
    ("llama-3-70b", KVCacheShape(layers: 80, kvHeads: 8, headDim: 128)),
    ("qwen2.5-7b", KVCacheShape(layers: 28, kvHeads: 4, headDim: 128)),
  ]

  /// Bytes of one page of `pageSize` tokens over all layers, or nil on overflow.
  public func bytesPerPage(pageSize: Int) -> Int? {
    var total = 2
    for factor in [layers, kvHeads, headDim, dtypeBytes, pageSize] {
      let (product, overflow) = total.multipliedReportingOverflow(by: factor)
      if overflow { return nil }
      total = product
    }
    return total
  }

  /// Pages that fit in `memoryBytes`: `floor(memory / bytes per page)`.
  public func pages(memoryBytes: Int, pageSize: Int) -> Int? {
    guard let perPage = bytesPerPage(pageSize: pageSize), perPage > 0 else { return nil }
    return memoryBytes / perPage
  }

  /// Parses a memory size: a byte count, or a number with `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024)
  /// or `KB`, `MB`, `GB`, `TB` (powers of 1000); `K`, `M`, `G`, `T` alone are binary.
  public static func parseBytes(_ text: String) -> Int? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let digits = trimmed.prefix { $0.isNumber || $0 == "." }
    let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
    guard let number = Double(digits), number >= 0, number.isFinite else { return nil }
    let scale: Double
    switch unit {
    case "", "b": scale = 1
    case "k", "kib": scale = 1024
    case "m", "mib": scale = 1024 * 1024
    case "g", "gib": scale = 1024 * 1024 * 1024
    case "t", "tib": scale = 1024 * 1024 * 1024 * 1024
    case "kb": scale = 1e3
    case "mb": scale = 1e6
    case "gb": scale = 1e9
    case "tb": scale = 1e12
    default: return nil
    }
    let bytes = (number * scale).rounded(.down)
    guard bytes < 9e18 else { return nil }
    return Int(bytes)
  }
}

/// How a Mooncake trace becomes a scenario. The defaults are documented in `docs/mooncake-import.md`.
public struct MooncakeImportOptions: Sendable, Equatable {
  /// Milliseconds one scheduler iteration stands for: `arrive = floor((timestamp - t0) / iterationMs)`,
  /// `t0` the earliest timestamp of the slice.
  public var iterationMs: Double = 50
  /// Keep requests with `from <= timestamp < to` (milliseconds).
  public var from: Double?
  public var to: Double?
  /// Then keep the first `limit` of them.
  public var limit: Int?
  public var pages = 30_000
  public var pageSize = 16
  public var maxBatch = 256
  /// nil: the policy's default.
  public var maxBatchedTokens: Int?
  public var policy: PolicyID = .paged
  public var prefixCache = true
  public var onOOM: OOMAction = .preempt
  public var maxIterations = Scenario.defaultMaxIterations
  /// The scenario's name; a default names the trace file.
  public var name: String?
  /// What the records came from, for the scenario's name and description.
  public var sourceKind = SourceKind.mooncake

  /// What an import reads.
  public enum SourceKind: String, Sendable {
    case mooncake = "Mooncake trace"
    case requestLog = "request log"
  }

  /// Leave out requests that cannot run in the pool (prompt and output longer than it, or the policy's
  /// limits) instead of failing.
  public var skipOversized = false

  public init() {}
}

/// The result of an import.
public struct MooncakeImport: Sendable {
  public var scenario: Scenario
  /// Lines of the trace the requests came from.
  public var lines: [Int]
  /// Lines left out because they cannot run in the pool (`skipOversized`).
  public var skipped: [Int]
  /// The earliest timestamp of the slice (iteration 0), in milliseconds.
  public var startTimestamp: Double
  /// Distinct block ids, and block references that repeat an earlier one (potential prefix hits).
  public var distinctBlocks: Int
  public var repeatedBlocks: Int
}

/// Reads Mooncake traces and turns them into scenarios.
public enum MooncakeImporter {
  /// Tokens per hash id.
  public static let blockSize = 512

  /// Numbers are read as `Double` and checked to be whole here, so that `5.5` gets a message naming
  /// its key rather than a generic decoding error.
  private struct Line: Decodable {
    var timestamp: Double
    var inputLength: Double
    var outputLength: Double
    var hashIDs: [Double]

    enum CodingKeys: String, CodingKey {
      case timestamp
      case inputLength = "input_length"
      case outputLength = "output_length"
      case hashIDs = "hash_ids"
    }
  }

  /// Reads and checks the trace at `path`.
  public static func read(path: String) throws(ScenarioError) -> [MooncakeRecord] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
    else {
      throw ScenarioError(
        file: path, message: isDirectory.boolValue ? "is a directory, expected a trace file" : "no such file")
    }
    guard let data = TraceFormat.contents(path) else {
      throw ScenarioError(file: path, message: "cannot read file")
    }
    return try parse(data, file: path)
  }

  /// Parses JSON Lines text: one object per line with `timestamp`, `input_length`, `output_length` and
  /// `hash_ids`. Blank lines are skipped; anything else wrong names its line.
  public static func parse(_ data: Data, file: String) throws(ScenarioError) -> [MooncakeRecord] {
    let decoder = JSONDecoder()
    var records: [MooncakeRecord] = []
    for (index, range) in lineRanges(data).enumerated() {
      let number = index + 1
      guard let range else { continue }
      let bytes = data[range]
      func fail(_ message: String, key: String = "") -> ScenarioError {
        ScenarioError(file: file, line: number, key: key, message: message)
      }
      let line: Line
      do {
        line = try decoder.decode(Line.self, from: bytes)
      } catch {
        let (key, message) = TraceReader.describe(error)
        if message == "not valid JSON" {
          throw fail(
            "not valid JSON; expected one object a line with timestamp, input_length, output_length, hash_ids"
          )
        }
        if key.isEmpty, case DecodingError.typeMismatch = error {
          throw fail("expected a JSON object with timestamp, input_length, output_length, hash_ids")
        }
        if case DecodingError.typeMismatch = error {
          throw fail(key == "timestamp" ? "expected a number" : "expected an integer", key: key)
        }
        throw fail(message, key: key)
      }
      guard line.timestamp.isFinite, line.timestamp >= 0 else {
        throw fail("must be at least 0, got \(line.timestamp)", key: "timestamp")
      }
      func whole(_ value: Double, _ key: String) throws(ScenarioError) -> Int {
        guard value == value.rounded(), abs(value) < 9e15 else {
          throw fail("expected an integer, got \(value)", key: key)
        }
        guard value >= 0 else { throw fail("must be at least 0, got \(Int(value))", key: key) }
        return Int(value)
      }
      let inputLength = try whole(line.inputLength, "input_length")
      let outputLength = try whole(line.outputLength, "output_length")
      var hashIDs: [Int] = []
      hashIDs.reserveCapacity(line.hashIDs.count)
      for (index, id) in line.hashIDs.enumerated() { hashIDs.append(try whole(id, "hash_ids[\(index)]")) }
      let blocks = (inputLength + blockSize - 1) / blockSize
      guard hashIDs.count == blocks else {
        throw fail(
          "has \(hashIDs.count) id(s) but input_length \(inputLength) needs ceil(\(inputLength)/\(blockSize)) = \(blocks)",
          key: "hash_ids")
      }
      records.append(
        MooncakeRecord(
          line: number, timestamp: line.timestamp, inputLength: inputLength, outputLength: outputLength,
          hashIDs: hashIDs))
    }
    return records
  }

  /// The byte range of each line of `data` without its line break (`\n` or `\r\n`), nil for a line of
  /// spaces and tabs only. Read through one buffer pointer: reading `Data` byte by byte checks
  /// exclusive access at every byte. O(bytes).
  static func lineRanges(_ data: Data) -> [Range<Int>?] {
    data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> [Range<Int>?] in
      var ranges: [Range<Int>?] = []
      var start = 0
      while start < buffer.count {
        var end = start
        while end < buffer.count && buffer[end] != 10 { end += 1 }
        var last = end
        if last > start && buffer[last - 1] == 13 { last -= 1 }
        let blank = !(start..<last).contains { buffer[$0] != 9 && buffer[$0] != 32 }
        ranges.append(blank ? nil : (data.startIndex + start)..<(data.startIndex + last))
        start = end + 1
      }
      return ranges
    }
  }

  /// The slice `options` selects, as a scenario. `source` names the trace in the description and errors.
  public static func makeScenario(_ records: [MooncakeRecord], options: MooncakeImportOptions, source: String)
    throws(ScenarioError) -> MooncakeImport
  {
    func fail(_ key: String, _ message: String) -> ScenarioError {
      ScenarioError(file: "", key: key, message: message)
    }
    guard options.iterationMs > 0, options.iterationMs.isFinite else {
      throw fail("--iteration-ms", "must be more than 0, got \(options.iterationMs)")
    }
    guard (1...Scenario.maxPages).contains(options.pages) else {
      throw fail("--pages", "must be between 1 and \(Scenario.maxPages), got \(options.pages)")
    }
    guard (1...Scenario.maxPageSize).contains(options.pageSize) else {
      throw fail("--page-size", "must be between 1 and \(Scenario.maxPageSize), got \(options.pageSize)")
    }
    guard (1...100_000).contains(options.maxBatch) else {
      throw fail("--max-batch", "must be between 1 and 100000, got \(options.maxBatch)")
    }
    guard (1...100_000_000).contains(options.maxIterations) else {
      throw fail("--max-iterations", "must be between 1 and 100000000, got \(options.maxIterations)")
    }
    if let limit = options.limit, limit < 1 { throw fail("--limit", "must be at least 1, got \(limit)") }

    var slice = records.filter { (record: MooncakeRecord) -> Bool in
      if let from = options.from, record.timestamp < from { return false }
      if let to = options.to, record.timestamp >= to { return false }
      return true
    }
    let policy = options.policy.type
    let keys = policy.keys
    if let tokens = options.maxBatchedTokens {
      guard keys.contains(.maxBatchedTokens) else {
        throw fail("--max-batched-tokens", "only valid with a token-budget policy, not \(options.policy)")
      }
      guard (1...100_000_000).contains(tokens) else {
        throw fail("--max-batched-tokens", "must be between 1 and 100000000, got \(tokens)")
      }
    }
    guard policy.limits.violation(pageSize: options.pageSize) == nil else {
      throw fail(
        "--page-size",
        "must be at least \(policy.limits.minPageSize) under policy \(options.policy): \(policy.limits.reason)"
      )
    }
    let poolTokens = options.pages * options.pageSize
    let usablePages = policy.usablePages(options.pages)
    var skipped: [Int] = []
    var kept: [MooncakeRecord] = []
    for record in slice {
      if let limit = options.limit, kept.count >= limit { break }
      var problem: (key: String, message: String)?
      if record.inputLength + record.outputLength > poolTokens {
        // The prompt and the tokens it generates must fit together, or the request can never finish.
        problem = (
          "input_length",
          "a prompt of \(record.inputLength) and an output of \(record.outputLength) tokens are longer than the whole pool (\(options.pages) pages x \(options.pageSize) = \(poolTokens) tokens)"
        )
      } else {
        let spec = RequestSpec(
          id: "r\(record.line)", prompt: .length(record.inputLength), output: record.outputLength)
        if let violation = policy.limits.violation(
          of: spec, usablePages: usablePages, pageSize: options.pageSize)
        {
          problem = ("output_length", violation.message(for: spec, policy: policy))
        }
      }
      if let problem {
        guard options.skipOversized else {
          throw ScenarioError(
            file: source, line: record.line, key: problem.key,
            message: problem.message + "; use more --pages or --skip-oversized")
        }
        skipped.append(record.line)
        continue
      }
      kept.append(record)
    }
    slice = kept
    guard !slice.isEmpty else {
      throw ScenarioError(file: source, message: "no requests in the selected slice of the trace")
    }
    let start = slice.map(\.timestamp).min()!
    var seen = Set<Int>()
    var repeated = 0
    // Ids name the line; rows of one line (a benchmark result's arrays) are told apart by their index.
    let lineCounts = Dictionary(grouping: slice, by: \.line).mapValues(\.count)
    var seenOnLine: [Int: Int] = [:]
    var requests: [RequestSpec] = []
    requests.reserveCapacity(slice.count)
    for record in slice {
      for id in record.hashIDs where !seen.insert(id).inserted { repeated += 1 }
      let iteration = ((record.timestamp - start) / options.iterationMs).rounded(.down)
      guard iteration <= Double(Scenario.maxIteration) else {
        throw ScenarioError(
          file: source, line: record.line, key: "timestamp",
          message:
            "arrives at iteration \(format(iteration)), after the last allowed (\(Scenario.maxIteration)); use a larger --iteration-ms"
        )
      }
      guard record.outputLength <= Scenario.maxOutput else {
        throw ScenarioError(
          file: source, line: record.line, key: "output_length",
          message: "must be between 0 and \(Scenario.maxOutput), got \(record.outputLength)")
      }
      var id = "r\(record.line)"
      if lineCounts[record.line, default: 0] > 1 {
        seenOnLine[record.line, default: 0] += 1
        id += ".\(seenOnLine[record.line]!)"
      }
      // Without hash ids (a plain request log) every prompt is distinct.
      let prompt: Prompt =
        record.hashIDs.isEmpty && record.inputLength > 0
        ? .length(record.inputLength)
        : .blocks(ids: record.hashIDs, blockSize: blockSize, length: record.inputLength)
      requests.append(
        RequestSpec(id: id, arrive: Int(iteration), prompt: prompt, output: record.outputLength))
    }
    let base = URL(fileURLWithPath: source).lastPathComponent
    let lines = slice.map(\.line)
    let description =
      "Imported from the \(options.sourceKind.rawValue) \(base), lines \(lines.first!)-\(lines.last!) (\(slice.count) requests). "
      + "A request arrives at iteration floor((timestamp - \(format(start)) ms) / \(format(options.iterationMs)) ms); "
      + (slice.contains { !$0.hashIDs.isEmpty }
        ? "its prompt is its hash_ids as blocks of \(blockSize) tokens, so equal ids give equal tokens and prefix hits."
        : "every prompt is distinct (no hash ids).")
    let scenario = Scenario(
      name: options.name
        ?? "\(options.sourceKind == .mooncake ? "mooncake" : "requests") \(URL(fileURLWithPath: base).deletingPathExtension().lastPathComponent) (\(slice.count) requests)",
      description: description,
      cache: CacheConfig(pages: options.pages, pageSize: options.pageSize),
      scheduler: SchedulerConfig(
        policy: options.policy, maxBatch: options.maxBatch,
        prefixCache: keys.contains(.prefixCache) ? options.prefixCache : nil,
        onOOM: keys.contains(.onOOM) ? options.onOOM : nil, maxBatchedTokens: options.maxBatchedTokens),
      requests: requests, maxIterations: options.maxIterations)
    return MooncakeImport(
      scenario: scenario, lines: lines, skipped: skipped, startTimestamp: start, distinctBlocks: seen.count,
      repeatedBlocks: repeated)
  }

  public static func format(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
  }
}

extension MooncakeImport {
  /// The import options.
  public typealias Options = MooncakeImportOptions

  /// Reads the Mooncake trace at `path` and returns the scenario `options` select.
  public static func scenario(path: String, options: Options = Options()) throws(ScenarioError) -> Scenario {
    try MooncakeImporter.makeScenario(MooncakeImporter.read(path: path), options: options, source: path)
      .scenario
  }
}
