import Foundation
import KVEngine

/// The KV cache events a `vllm-v1` run publishes, in the shape of vLLM's `KVEventBatch`: one batch per
/// engine step, `BlockStored` when full blocks are cached (at schedule time), `BlockRemoved` when a
/// cached block is handed out again. Block hashes are vLLM's `sha256_cbor` ones.
public enum VLLMEvents {
  /// One event of a batch.
  public enum Event: Equatable, Sendable {
    case stored(hashes: [UInt64], parent: UInt64?, tokens: [Int], blockSize: Int)
    case removed(hashes: [UInt64])
  }

  /// The events of one engine step.
  public struct Batch: Equatable, Sendable {
    /// The iteration (engine step) that published it; kvscope writes it as `ts`.
    public var step: Int
    public var events: [Event]
  }

  /// The batches of `scenario`'s run (a `vllm-v1` scenario with prefix caching; others publish none).
  /// Cost: one run, and one SHA-256 per cached block.
  public static func batches(_ scenario: Scenario) -> [Batch] {
    let collector = Collector(pageSize: scenario.cache.pageSize)
    var state = EngineState(scenario: scenario)
    state.run(to: Int.max, observe: collector.observe)
    return collector.batches
  }

  /// Turns the run's steps into batches of events.
  private final class Collector {
    let pageSize: Int
    var batches: [Batch] = []
    /// The hash each cached frame holds, and each live request's block hashes by page.
    var frameHash: [Int: BlockHash] = [:]
    var requestHashes: [Int: [BlockHash]] = [:]
    /// The block the previous step stored, while a request's stores go on.
    var lastStored: (request: Int, page: Int)?

    init(pageSize: Int) { self.pageSize = pageSize }

    func observe(_ step: EngineState) {
      switch step.event.action {
      case .cached(let r, let page, let frame, _):
        let list = hashes(r, upTo: page, step)
        frameHash[frame] = list[page]
        let spec = step.requests[r].spec
        let tokens = (page * pageSize..<((page + 1) * pageSize)).map { Int(spec.token(at: $0)) }
        // Blocks one request caches in a row form one BlockStored, as cache_full_blocks emits them.
        if let last = lastStored, last.request == r, last.page == page - 1,
          batches.last?.step == step.iteration,
          case .stored(let old, let parent, let oldTokens, let size)? = batches.last?.events.last
        {
          batches[batches.count - 1].events[batches[batches.count - 1].events.count - 1] = .stored(
            hashes: old + [list[page].external], parent: parent, tokens: oldTokens + tokens, blockSize: size)
        } else {
          append(
            .stored(
              hashes: [list[page].external], parent: page == 0 ? nil : list[page - 1].external,
              tokens: tokens,
              blockSize: pageSize), at: step.iteration)
        }
        lastStored = (r, page)
      case .alloc(let trace, _) where trace.evictedKey != nil:
        if let hash = frameHash.removeValue(forKey: trace.frame) {
          append(.removed(hashes: [hash.external]), at: step.iteration)
        }
        lastStored = nil
      case .retired(let r, _):
        requestHashes[r] = nil
        lastStored = nil
      default:
        lastStored = nil
      }
    }

    func append(_ event: Event, at iteration: Int) {
      if batches.last?.step != iteration { batches.append(Batch(step: iteration, events: [])) }
      batches[batches.count - 1].events.append(event)
    }

    /// Request `r`'s block hashes up to page `page`, computed once.
    func hashes(_ r: Int, upTo page: Int, _ state: EngineState) -> [BlockHash] {
      var list = requestHashes[r] ?? []
      let spec = state.requests[r].spec
      while list.count <= page {
        let start = list.count * pageSize
        list.append(
          BlockHash.of(
            tokens: (start..<(start + pageSize)).map { Int(spec.token(at: $0)) }, parent: list.last))
      }
      requestHashes[r] = list
      return list
    }
  }

  /// One batch as a line of JSON: the map form, each event with a `type` key.
  public static func line(_ batch: Batch) -> String {
    func list(_ values: [UInt64]) -> String { "[" + values.map(String.init).joined(separator: ",") + "]" }
    let events = batch.events.map { event -> String in
      switch event {
      case .stored(let hashes, let parent, let tokens, let blockSize):
        return
          "{\"type\":\"BlockStored\",\"block_hashes\":\(list(hashes)),\"parent_block_hash\":\(parent.map(String.init) ?? "null"),"
          + "\"token_ids\":[\(tokens.map(String.init).joined(separator: ","))],\"block_size\":\(blockSize),"
          + "\"lora_id\":null,\"medium\":\"GPU\",\"lora_name\":null}"
      case .removed(let hashes):
        return "{\"type\":\"BlockRemoved\",\"block_hashes\":\(list(hashes)),\"medium\":\"GPU\"}"
      }
    }
    return "{\"ts\":\(batch.step),\"events\":[\(events.joined(separator: ","))],\"data_parallel_rank\":null}"
  }
}

/// A vLLM block hash: SHA-256 of the canonical CBOR of `(parent hash or NONE_HASH, token ids, None)`.
public struct BlockHash: Equatable, Sendable {
  public var bytes: [UInt8]

  /// `NONE_HASH` under `sha256_cbor` without `PYTHONHASHSEED`: the hash of the string `vllm-none-hash`.
  public static let none = BlockHash(bytes: SHA256.digest(CBOR.text("vllm-none-hash")))

  /// The hash of a full block of `tokens` after `parent` (nil for the first block).
  public static func of(tokens: [Int], parent: BlockHash?) -> BlockHash {
    var cbor: [UInt8] = [0x83]
    cbor += CBOR.bytes((parent ?? .none).bytes)
    cbor += CBOR.header(major: 4, tokens.count)
    for token in tokens { cbor += CBOR.header(major: 0, token) }
    cbor.append(0xF6)
    return BlockHash(bytes: SHA256.digest(cbor))
  }

  /// The hash as events carry it by default (`VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=1`): its last 8 bytes
  /// as a big-endian integer.
  public var external: UInt64 { bytes.suffix(8).reduce(0) { $0 << 8 | UInt64($1) } }
}

/// The few canonical CBOR items a block hash needs.
enum CBOR {
  static func header(major: UInt8, _ value: Int) -> [UInt8] {
    let m = major << 5
    let v = UInt64(value)
    switch v {
    case 0..<24: return [m | UInt8(v)]
    case 24..<256: return [m | 24, UInt8(v)]
    case 256..<65_536: return [m | 25, UInt8(v >> 8), UInt8(v & 0xFF)]
    case 65_536..<4_294_967_296: return [m | 26] + (0..<4).reversed().map { UInt8((v >> ($0 * 8)) & 0xFF) }
    default: return [m | 27] + (0..<8).reversed().map { UInt8((v >> (UInt64($0) * 8)) & 0xFF) }
    }
  }

  static func bytes(_ data: [UInt8]) -> [UInt8] { header(major: 2, data.count) + data }
  static func text(_ string: String) -> [UInt8] { header(major: 3, string.utf8.count) + Array(string.utf8) }
}

/// SHA-256 (FIPS 180-4).
enum SHA256 {
  private static let k: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
    0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
    0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
    0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
    0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
    0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
    0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
  ]

  static func digest(_ message: [UInt8]) -> [UInt8] {
    var h: [UInt32] = [
      0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    var data = message
    let bits = UInt64(message.count) * 8
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    for i in (0..<8).reversed() { data.append(UInt8((bits >> (UInt64(i) * 8)) & 0xFF)) }
    var w = [UInt32](repeating: 0, count: 64)
    for chunk in stride(from: 0, to: data.count, by: 64) {
      for i in 0..<16 {
        let j = chunk + i * 4
        w[i] =
          UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
      }
      for i in 16..<64 {
        let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
        let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
        w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
      }
      var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
      for i in 0..<64 {
        let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
        let ch = (e & f) ^ (~e & g)
        let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
        let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
        let maj = (a & b) ^ (a & c) ^ (b & c)
        let t2 = s0 &+ maj
        (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
      }
      h[0] = h[0] &+ a
      h[1] = h[1] &+ b
      h[2] = h[2] &+ c
      h[3] = h[3] &+ d
      h[4] = h[4] &+ e
      h[5] = h[5] &+ f
      h[6] = h[6] &+ g
      h[7] = h[7] &+ hh
    }
    return h.flatMap { v in (0..<4).reversed().map { UInt8((v >> (UInt32($0) * 8)) & 0xFF) } }
  }

  private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
}

extension VLLMEvents {
  /// The first batch where two streams disagree, as sentences; nil when they agree.
  public static func difference(_ a: [RecordedBatch], _ b: [RecordedBatch], names: (String, String))
    -> [String]?
  {
    for index in 0..<max(a.count, b.count) {
      guard index < a.count, index < b.count else {
        let (longer, name) = index < a.count ? (a, names.0) : (b, names.1)
        return [
          "batch \(index + 1): only \(name) has it (line \(longer[index].line), ts \(longer[index].ts))"
        ]
      }
      let x = a[index]
      let y = b[index]
      var lines: [String] = []
      func only(_ p: [String], _ q: [String]) -> [String] {
        var rest = q
        return p.filter { item in
          if let i = rest.firstIndex(of: item) {
            rest.remove(at: i)
            return false
          }
          return true
        }
      }
      for (what, p, q) in [("stored", x.stored, y.stored), ("removed", x.removed, y.removed)] {
        let left = only(p, q)
        let right = only(q, p)
        if !left.isEmpty {
          lines.append("\(what) only in \(names.0): \(left.prefix(8).joined(separator: ", "))")
        }
        if !right.isEmpty {
          lines.append("\(what) only in \(names.1): \(right.prefix(8).joined(separator: ", "))")
        }
      }
      for (hash, parent) in x.parents where y.parents[hash] != nil && y.parents[hash] != parent {
        lines.append(
          "block \(hash) stored after \(parent) in \(names.0), after \(y.parents[hash]!) in \(names.1)")
      }
      if x.cleared != y.cleared { lines.append("AllBlocksCleared only in \(x.cleared ? names.0 : names.1)") }
      if !lines.isEmpty {
        return [
          "batch \(index + 1) (\(names.0) line \(x.line), ts \(x.ts); \(names.1) line \(y.line), ts \(y.ts)):"
        ]
          + lines.map { "  " + $0 }
      }
    }
    return nil
  }
}
