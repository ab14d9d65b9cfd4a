import Testing

@testable import KVEngine

/// The pieces that make snapshots cheap: chunked arrays, one page-key chain, and the snapshots a
/// timeline keeps around its current step.
struct SnapshotSharingTests {
  @Test(arguments: [0, 1, 3, 6])
  func aChunkedArrayBehavesLikeAnArrayAndItsCopiesAreIndependent(_ shift: Int) {
    var generator = SplitMix64(state: UInt64(shift))
    var chunked = ChunkedArray<Int>(chunkShift: shift)
    var plain: [Int] = []
    var copies: [(ChunkedArray<Int>, [Int])] = []
    for round in 0..<2_000 {
      if plain.isEmpty || Int.random(in: 0..<3, using: &generator) == 0 {
        let value = Int.random(in: 0..<1_000, using: &generator)
        chunked.append(value)
        plain.append(value)
      } else {
        let index = Int.random(in: 0..<plain.count, using: &generator)
        let value = Int.random(in: 0..<1_000, using: &generator)
        chunked[index] = value
        plain[index] = value
      }
      if round % 97 == 0 { copies.append((chunked, plain)) }
    }
    #expect(Array(chunked) == plain)
    #expect(chunked.count == plain.count)
    for (copy, expected) in copies { #expect(Array(copy) == expected) }
    #expect(ChunkedArray(plain, chunkShift: shift) == chunked)
  }

  static let prompts: [Prompt] = [
    .length(45), .tokens(Array(0..<37).map { $0 * 7 % 11 }),
    .blocks(ids: [3, 9, 3, 4], blockSize: 10, length: 38),
  ]

  @Test(arguments: prompts.indices)
  func pageKeysChainAsPageKeyOverEachToken(_ index: Int) {
    let spec = RequestSpec(id: "r\(index)", arrive: 0, prompt: Self.prompts[index], output: 30)
    for pageSize in [1, 2, 4, 16] {
      let count = (spec.prompt.count + spec.output) / pageSize
      var expected: [UInt64] = []
      for page in 0..<count {
        expected.append(
          Tokens.pageKey(
            parent: expected.last ?? 0, tokens: (page * pageSize..<(page + 1) * pageSize).map(spec.token(at:))
          ))
      }
      var whole: [UInt64] = []
      spec.extendPageKeys(&whole, to: count, pageSize: pageSize)
      #expect(whole == expected, "page size \(pageSize)")
      var piecewise: [UInt64] = []
      for page in stride(from: 0, through: count, by: 3) {
        spec.extendPageKeys(&piecewise, to: page, pageSize: pageSize)
      }
      spec.extendPageKeys(&piecewise, to: count, pageSize: pageSize)
      #expect(piecewise == expected, "page size \(pageSize), a few pages at a time")
      // Through a memo that another request with the same first blocks filled, whole and a few pages
      // at a time (block 3 comes twice, after different keys).
      let memo = BlockKeyMemo()
      var other: [UInt64] = []
      RequestSpec(
        id: "o", arrive: 0, prompt: .blocks(ids: [3, 9, 3, 7], blockSize: 10, length: 40), output: 5
      )
      .extendPageKeys(&other, to: 40 / pageSize, pageSize: pageSize, memo: memo)
      var remembered: [UInt64] = []
      spec.extendPageKeys(&remembered, to: count, pageSize: pageSize, memo: memo)
      #expect(remembered == expected, "page size \(pageSize), through a memo")
      var rememberedPiecewise: [UInt64] = []
      for page in stride(from: 0, through: count, by: 3) {
        spec.extendPageKeys(&rememberedPiecewise, to: page, pageSize: pageSize, memo: memo)
      }
      spec.extendPageKeys(&rememberedPiecewise, to: count, pageSize: pageSize, memo: memo)
      #expect(rememberedPiecewise == expected, "page size \(pageSize), through a memo, a few pages at a time")
    }
  }

  /// Warming hashes, on another thread, the whole prompt blocks of the requests up to
  /// `BlockKeyMemo.warmingLead` ahead of the furthest one the run asked for, and no further, skipping
  /// those the run has passed; keys through the warmed memo equal keys hashed alone.
  @Test func warmingHashesTheBlocksOfTheRequestsAheadOfTheRun() async {
    let pageSize = 4
    let blockSize = 8
    // Blocks 0 and 1...5 are shared; blocks 100 + i and 200 + i (partial) are request i's own.
    let specs = (0..<48).map { i in
      RequestSpec(
        id: "w\(i)", arrive: i,
        prompt: .blocks(ids: [0, i % 5 + 1, 100 + i, 200 + i], blockSize: blockSize, length: 24 + i % 8),
        output: 3)
    }
    func keys(_ r: Int, memo: BlockKeyMemo?) -> [UInt64] {
      var keys: [UInt64] = []
      specs[r].extendPageKeys(&keys, to: specs[r].prompt.count / pageSize, pageSize: pageSize, memo: memo)
      return keys
    }
    let alone = specs.indices.map { keys($0, memo: nil) }
    /// True when `memo` holds request `r`'s own (third) block.
    func holdsOwnBlock(_ r: Int, in memo: BlockKeyMemo) -> Bool {
      memo[
        .init(
          parent: alone[r][2 * blockSize / pageSize - 1], block: 100 + r, blockSize: blockSize,
          pageSize: pageSize)]
        == Array(alone[r][2 * blockSize / pageSize..<3 * blockSize / pageSize])
    }
    func eventually(_ condition: () -> Bool) async -> Bool {
      for _ in 0..<3_000 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
      }
      return false
    }
    let lead = BlockKeyMemo.warmingLead
    let memo = BlockKeyMemo()
    memo.warm(specs, order: Array(specs.indices), pageSize: pageSize)
    // Before the run asks for any, the first `lead` requests.
    #expect(await eventually { (0..<lead).allSatisfy { holdsOwnBlock($0, in: memo) } })
    try? await Task.sleep(for: .milliseconds(50))
    #expect(!holdsOwnBlock(lead, in: memo))
    // The run asks for request 10, then for an earlier one: warming goes on to request 10 + lead.
    memo.noteAsked(place: 10)
    memo.noteAsked(place: 4)
    #expect(await eventually { (0...10 + lead).allSatisfy { holdsOwnBlock($0, in: memo) } })
    #expect(!holdsOwnBlock(10 + lead + 1, in: memo))
    #expect(specs.indices.allSatisfy { keys($0, memo: memo) == alone[$0] })
    // A run already at request 20 when warming starts: the requests it passed are left alone.
    let late = BlockKeyMemo()
    late.noteAsked(place: 20)
    late.warm(specs, order: Array(specs.indices), pageSize: pageSize)
    #expect(await eventually { (21..<specs.count).allSatisfy { holdsOwnBlock($0, in: late) } })
    #expect((0...20).allSatisfy { !holdsOwnBlock($0, in: late) })
  }

  /// A run long enough that its checkpoints lie farther apart than the snapshots kept near a seek.
  static let longRun = T.paged(
    pages: 64, pageSize: 4, maxBatch: 6, prefix: true,
    (0..<300).map { T.req("r\($0)", at: $0 / 3, 20 + $0 % 7 * 9, out: 12 + $0 % 5) }, maxIterations: 100_000)

  @Test func stepsForwardAndBackFromASeekMatchAFreshRun() {
    var timeline = Timeline(scenario: Self.longRun, interval: 8_192, maxCheckpoints: 4)
    #expect(timeline.checkpointInterval > Timeline.nearbyInterval)
    #expect(timeline.totalSteps > 20_000)
    var generator = SplitMix64(state: 3)
    for _ in 0..<2 {
      timeline.seek(to: Int.random(in: 0..<timeline.totalSteps - 3_000, using: &generator))
      for _ in 0..<2_100 { timeline.move(.step, forward: true) }
      for _ in 0..<3 { timeline.move(.step, forward: false) }
      var fresh = EngineState(scenario: Self.longRun)
      fresh.run(to: timeline.current.step)
      #expect(Snapshot(timeline.current) == Snapshot(fresh))
    }
  }
}
