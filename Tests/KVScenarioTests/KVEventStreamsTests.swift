import Foundation
import Testing

@testable import KVScenario

/// The event stream readers, on small files written by hand from each engine's documented format
/// (`Corpus/events/`; each file's source is named where it is read below), and the history built from
/// a stream.
@Suite("KV event streams")
struct KVEventStreamsTests {
  static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Corpus/events")

  static func read(_ name: String, format: KVEventFormat? = nil) throws -> KVEventStream {
    let data = try Data(contentsOf: corpus.appendingPathComponent(name))
    return try KVEventStream.read(data, file: name, format: format)
  }

  static func read(text: String, format: KVEventFormat? = nil) throws(ScenarioError) -> KVEventStream {
    try KVEventStream.read(Data(text.utf8), file: "f.jsonl", format: format)
  }

  /// The error `text` gives, as printed.
  static func error(_ text: String, format: KVEventFormat? = nil) -> String? {
    do {
      _ = try read(text: text, format: format)
      return nil
    } catch {
      return error.description
    }
  }

  /// vLLM 0.33's `vllm/distributed/kv_events.py`: `KVEventBatch` is `array_like` ([ts, events, rank]),
  /// its events are tagged maps (`{"type": "BlockStored", ...}`).
  @Test func vllmMapForm() throws {
    let stream = try Self.read("vllm-map.jsonl")
    #expect(stream.format == .vllm && stream.batches.count == 5)
    #expect(stream.batches[0].ts == "1718000000.5" && stream.batches[0].line == 1)
    #expect(
      stream.batches[0].events == [
        .stored(
          KVStoredBlocks(
            hashes: ["101", "102"], parent: nil, tokens: [[1, 2, 3, 4], [5, 6, 7, 8]], tokenCounts: [4, 4],
            medium: "GPU"))
      ])
    #expect(stream.batches[2].events == [.removed(hashes: ["101"], medium: "GPU")])
    #expect(stream.batches[4].events == [.cleared])
  }

  /// vLLM before mid-2026: events were `array_like` too: `["BlockStored", block_hashes,
  /// parent_block_hash, token_ids, block_size, lora_id, medium]`, `["BlockRemoved", block_hashes,
  /// medium]`, `["AllBlocksCleared"]`.
  @Test func vllmPositionalForm() throws {
    let stream = try Self.read("vllm-array.jsonl")
    #expect(stream.format == .vllmArray)
    #expect(
      stream.batches[1].events == [
        .stored(
          KVStoredBlocks(
            hashes: ["203"], parent: "101", tokens: [[9, 9, 9, 9]], tokenCounts: [4], medium: "GPU")),
        .removed(hashes: ["102"], medium: "GPU"),
      ])
    #expect(stream.batches[2].cleared)
  }

  /// SGLang's `python/sglang/srt/disaggregation/kv_events.py`: the same positional structs without
  /// `medium` (`BlockStored` has 5 fields, `BlockRemoved` 1), the batch `[ts, events, attn_dp_rank]`.
  @Test func sglang() throws {
    let stream = try Self.read("sglang.jsonl")
    #expect(stream.format == .sglang)
    #expect(
      stream.batches[1].events == [
        .stored(
          KVStoredBlocks(
            hashes: ["7002", "7003"], parent: "7001", tokens: [[17, 18], [19, 20]], tokenCounts: [2, 2],
            medium: nil))
      ])
    #expect(stream.batches[2].events == [.removed(hashes: ["7003"], medium: nil)])
  }

  /// TensorRT-LLM's `KVCacheEventSerializer` (`tensorrt_llm/_utils.py`): `{"event_id", "data",
  /// "window_size"}` with `created`, `stored` (`parent_hash`, `blocks` of `block_hash`, `tokens` of
  /// `token_id`, `cache_level`, `priority`), `removed` (`block_hashes`) and `updated`; a line holds one
  /// event or the list one `get_kv_cache_events` call returns.
  @Test func tensorrtLLM() throws {
    let stream = try Self.read("trtllm.jsonl")
    #expect(stream.format == .trtllm && stream.batches.count == 4)
    #expect(stream.batches[0].events == [.created(blocksPerLevel: [64, 0])])
    #expect(stream.batches[1].ts == "1" && stream.batches[1].stored == ["11", "12"])
    #expect(stream.batches[1].parents == ["11": "null", "12": "11"])
    #expect(stream.batches[2].events == [.updated(hash: "12", change: "cache level 0 -> 1")])
    #expect(stream.batches[3].removed == ["12", "11"])
  }

  @Test("--format overrides the detection, and a record of another format says so")
  func formatOverride() throws {
    let stream = try Self.read("sglang.jsonl", format: .vllmArray)
    #expect(stream.format == .vllmArray && stream.batches.count == 3)
    let message = Self.error(
      "{\"ts\": 0, \"events\": [[\"BlockRemoved\", [1]]]}", format: .vllm)
    #expect(
      message?.hasPrefix("f.jsonl:1:22: event 1: expected an object with a \"type\" (format vllm)") == true)
  }

  @Test("a bad line names its line, the column of the bad value and the reason")
  func badLines() {
    let good = "{\"ts\": 0, \"events\": []}\n"
    #expect(
      Self.error(good + "{\"ts\": 1, \"events\": [}")
        == "f.jsonl:2:22: not valid JSON: unexpected `}`; expected a JSON value")
    #expect(
      Self.error(good + "{\"ts\": 1, \"events\": [{\"type\": \"BlockRemoved\", \"block_hashes\": [1, 2.5]}]}")
        == "f.jsonl:2:67: event 1: expected a block hash (an integer or a string), got the number 2.5")
    #expect(
      Self.error(good + "{\"ts\": 1, \"events\": [{\"type\": \"BlockMoved\"}]}")
        == "f.jsonl:2:31: event 1: type the string \"BlockMoved\"; expected BlockStored, BlockRemoved or AllBlocksCleared"
    )
    #expect(
      Self.error("[0, [[\"BlockStored\", [1], null]]]")
        == "f.jsonl:1:6: event 1: BlockStored has 2 fields; expected block_hashes, parent_block_hash, token_ids, block_size, ..."
    )
    #expect(
      Self.error("{\"event_id\": 1, \"data\": {\"type\": \"removed\"}}")
        == "f.jsonl:1:25: no \"block_hashes\"")
    #expect(
      Self.error("{\"event_id\": \"x\", \"data\": {}}")
        == "f.jsonl:1:14: event_id: expected an integer, got the string \"x\"")
    #expect(Self.error("{\"hello\": 1}")?.hasPrefix("f.jsonl:1:1: not a KV event record") == true)
    #expect(Self.error("[[[[" + String(repeating: "[", count: 100)) != nil)
    #expect(
      Self.error("{\"ts\": 1, \"events\": [{\"type\": \"AllBlocksCleared\"}]} x")
        == "f.jsonl:1:53: not valid JSON: unexpected `x` after the value")
  }

  /// A stream written by hand: A's chain a1 -> a2, a branch b after a1, a1 removed (its children stay,
  /// unreachable), a store after the gone a1, then a clear.
  @Test("the history: resident set, prefix tree, and how each store met the cache")
  func history() throws {
    let text = """
      {"ts": 0, "events": [{"type": "BlockStored", "block_hashes": ["a1", "a2"], "parent_block_hash": null, "token_ids": [1,2,3,4,5,6], "block_size": 3}]}
      {"ts": 1, "events": [{"type": "BlockStored", "block_hashes": ["b"], "parent_block_hash": "a1", "token_ids": [7,7,7], "block_size": 3}]}
      {"ts": 2, "events": [{"type": "BlockRemoved", "block_hashes": ["a1", "zz"]}]}
      {"ts": 3, "events": [{"type": "BlockStored", "block_hashes": ["c"], "parent_block_hash": "a1", "token_ids": [8,8,8], "block_size": 3}]}
      {"ts": 4, "events": [{"type": "AllBlocksCleared"}]}
      """
    let history = KVEventHistory(try Self.read(text: text))
    #expect(history.summaries.map(\.resident) == [2, 3, 2, 3, 0])
    #expect(history.summaries[2].unknownRemovals == 1 && history.summaries[2].removedBlocks == 2)
    #expect(history.storeContexts(of: 0) == [.root])
    #expect(history.storeContexts(of: 1) == [.branches(blocks: 1, tokens: 3)])
    #expect(history.storeContexts(of: 3) == [.detached(parent: "a1")])
    #expect(history.blocks["b"]?.cumulativeTokens == 6 && history.blocks["a2"]?.depth == 2)
    // After batch 2: a1 removed but shown (its children under it); after batch 3 they are roots.
    let removal = history.tree(after: 2).nodes
    #expect(removal.map(\.hash) == ["a1", "a2", "b"] && removal.map(\.level) == [0, 1, 1])
    #expect(removal[0].removedNow && removal[0].copies == 0 && !removal[1].detached)
    let after = history.tree(after: 3).nodes
    #expect(after.map(\.hash) == ["a2", "b", "c"] && after.allSatisfy(\.detached))
    #expect(after[2].storedNow && history.deepestChain(after: 3).blocks == 2)
    #expect(history.deepestChain(after: 1).blocks == 2 && history.deepestChain(after: 1).tokens == 6)
    #expect(history.tree(after: 4).nodes.isEmpty && history.residentCounts(after: 4).isEmpty)
  }
}
