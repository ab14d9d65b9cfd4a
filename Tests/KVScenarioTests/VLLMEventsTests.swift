import Foundation
import KVEngine
import Testing

@testable import KVScenario

/// `scenarios/vllm-v1-walkthrough.yaml`, built in code.
enum EngineWalkthrough {
  static let vllm = Scenario(
    name: "vLLM v1 walkthrough", cache: CacheConfig(pages: 8, pageSize: 4),
    scheduler: SchedulerConfig(policy: .vllmV1, maxBatch: 4, prefixCache: true, maxBatchedTokens: 16),
    requests: [
      RequestSpec(id: "A", prompt: .tokens([1, 2, 3, 4, 5, 6, 7, 8]), output: 2),
      RequestSpec(id: "B", prompt: .tokens([1, 2, 3, 4, 5, 6, 7, 8]), output: 2),
      RequestSpec(id: "C", arrive: 2, prompt: .length(5), output: 9),
      RequestSpec(id: "D", arrive: 2, prompt: .length(5), output: 9),
      RequestSpec(id: "E", arrive: 3, prompt: .tokens([1, 2, 3, 4, 9]), output: 2),
      RequestSpec(id: "F", arrive: 10, prompt: .length(4), output: 1),
    ])
}

/// vLLM's KV cache events from a `vllm-v1` run: hashes, batches, reading back and diffing.
@Suite("vLLM KV events")
struct VLLMEventsTests {
  /// Values printed by vLLM 0.33.0's own code (in the differential harness's virtual environment):
  /// `init_none_hash(sha256_cbor)`; `h1 = hash_block_tokens(sha256_cbor, None, [1, 2, 3, 4])`;
  /// `h2 = hash_block_tokens(sha256_cbor, h1, [5, 6, 7, 8])`; `maybe_convert_block_hash(h)`.
  @Test("block hashes equal vLLM's sha256_cbor ones")
  func hashes() {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    #expect(hex(BlockHash.none.bytes) == "9bd96a485ad84efdafb72ee48a1d7a69bcead0f8f0433173941b276b9581eef0")
    let h1 = BlockHash.of(tokens: [1, 2, 3, 4], parent: nil)
    let h2 = BlockHash.of(tokens: [5, 6, 7, 8], parent: h1)
    #expect(hex(h1.bytes) == "58d0879dff3800f65f8c5fd449d73048c0f7699dd238a03b84b146b151d55111")
    #expect(hex(h2.bytes) == "e1bc29393a2da9fd798f35ff04d215f846aee6df4b803ce3d43b57df56b58fb1")
    #expect(h1.external == 9_561_501_211_280_363_793 && h2.external == 15_292_913_576_410_714_033)
    // SHA-256 of "abc" (FIPS 180-4, appendix B.1).
    #expect(
      hex(SHA256.digest(Array("abc".utf8)))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    // Token ids past one byte use CBOR's longer integer forms.
    #expect(
      CBOR.header(major: 0, 300) == [0x19, 0x01, 0x2C]
        && CBOR.header(major: 0, 70_000) == [0x1A, 0, 1, 0x11, 0x70])
  }

  static let scenario = Scenario(
    name: "events", cache: CacheConfig(pages: 6, pageSize: 4),
    scheduler: SchedulerConfig(policy: .vllmV1, maxBatch: 4, prefixCache: true, maxBatchedTokens: 16),
    requests: [
      RequestSpec(id: "A", prompt: .tokens([1, 2, 3, 4, 5, 6, 7, 8]), output: 1),
      RequestSpec(id: "B", arrive: 2, prompt: .length(17), output: 1),
    ])

  @Test("a run publishes stores at schedule time and removals at reuse; the stream reads back")
  func batchesAndRoundTrip() throws {
    let batches = VLLMEvents.batches(Self.scenario)
    #expect(batches.first?.step == 0)
    #expect(
      batches.first?.events == [
        .stored(
          hashes: [9_561_501_211_280_363_793, 15_292_913_576_410_714_033], parent: nil,
          tokens: [1, 2, 3, 4, 5, 6, 7, 8],
          blockSize: 4)
      ])
    // B needs 5 of the 5 usable blocks: A's two cached blocks are handed out again.
    let removed = batches.flatMap(\.events).compactMap { if case .removed(let h) = $0 { h } else { nil } }
    #expect(Set(removed.flatMap { $0 }) == [9_561_501_211_280_363_793, 15_292_913_576_410_714_033])
    let text = batches.map(VLLMEvents.line).joined(separator: "\n")
    let read = try KVEventStream.read(Data(text.utf8), file: "e").batches
    #expect(read.count == batches.count && read[0].stored == ["9561501211280363793", "15292913576410714033"])
    #expect(VLLMEvents.difference(read, read, names: ("a", "b")) == nil)
    // The positional form of vLLM's msgpack structs reads the same.
    let positional =
      "[0, [[\"BlockStored\", [9561501211280363793, 15292913576410714033], null, [1,2,3,4,5,6,7,8], 4, null, \"GPU\"]], null]"
    let other = try KVEventStream.read(Data(positional.utf8), file: "p").batches
    #expect(other[0].stored == read[0].stored && other[0].parents == read[0].parents)
  }

  @Test("read back, the stream's resident set equals the run's cached blocks at every batch")
  func residentSetRoundTrip() throws {
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("scenarios/vllm-v1-walkthrough.yaml").path
    for scenario in [Self.scenario, EngineWalkthrough.vllm, try ScenarioLoader.load(path: file)] {
      let batches = VLLMEvents.batches(scenario)
      let read = try KVEventStream.read(
        Data(batches.map(VLLMEvents.line).joined(separator: "\n").utf8), file: "e")
      let history = KVEventHistory(read)
      let sets = read.batches.indices.map { history.residentCounts(after: $0) }
      // The run's cached frames at the end of each iteration, as the hashes events carry.
      var state = EngineState(scenario: scenario)
      var ends: [EngineState] = []
      var previous = state
      state.run(
        to: Int.max,
        observe: { step in
          while ends.count < step.iteration { ends.append(previous) }
          previous = step
        })
      for (batch, resident) in zip(batches, sets) {
        let end = ends[batch.step]
        var cached: [String: Int] = [:]
        for frame in end.pool.cached.keys {
          let page = end.pool.cached[frame]!
          let spec = end.requests[Int(page.request)].spec
          var hash: BlockHash?
          var parent: BlockHash?
          for p in 0...Int(page.page) {
            let size = scenario.cache.pageSize
            let tokens = (p * size..<((p + 1) * size)).map { Int(spec.token(at: $0)) }
            parent = hash
            hash = BlockHash.of(tokens: tokens, parent: hash)
          }
          cached[String(hash!.external), default: 0] += 1
          // The history's parent link is the engine's previous page.
          #expect(history.blocks[String(hash!.external)]?.parent == parent.map { String($0.external) })
        }
        #expect(resident == cached, "batch at iteration \(batch.step)")
        // The prefix tree holds every resident block with its copies.
        let index = batches.firstIndex(of: batch)!
        let nodes = history.tree(after: index).nodes.filter { $0.copies > 0 }
        #expect(Dictionary(uniqueKeysWithValues: nodes.map { ($0.hash, $0.copies) }) == cached)
      }
    }
  }

  @Test("diff names the first batch that differs")
  func diff() throws {
    let a = try KVEventStream.read(
      Data(
        "{\"ts\":0,\"events\":[{\"type\":\"BlockStored\",\"block_hashes\":[1,2],\"parent_block_hash\":null}]}\n{\"ts\":1,\"events\":[{\"type\":\"BlockRemoved\",\"block_hashes\":[1]}]}"
          .utf8), file: "a"
    ).batches
    let b = try KVEventStream.read(
      Data(
        "{\"ts\":0,\"events\":[{\"type\":\"BlockStored\",\"block_hashes\":[1,2],\"parent_block_hash\":null}]}\n{\"ts\":1,\"events\":[{\"type\":\"BlockRemoved\",\"block_hashes\":[2]}]}"
          .utf8), file: "b"
    ).batches
    let lines = VLLMEvents.difference(a, b, names: ("a", "b"))
    #expect(
      lines == [
        "batch 2 (a line 2, ts 1; b line 2, ts 1):", "  removed only in a: 1", "  removed only in b: 2",
      ])
    #expect(throws: ScenarioError.self) {
      _ = try KVEventStream.read(Data("{\"ts\":0,\"events\":[{\"type\":\"Nope\"}]}".utf8), file: "c")
    }
  }
}
