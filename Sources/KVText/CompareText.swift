import KVEngine

/// What each run decided in an iteration where the runs differ, as sentences: "admits C (1 hit page)",
/// "admits nothing after a preemption; preempts D", "takes blocks 3, 4 for C" when only the blocks
/// differ, "nothing" when the run decided nothing, "has ended".
extension Comparison {
  /// One sentence per run of `divergence`, without the run's label.
  public func sentences(_ divergence: Divergence) -> [String] {
    let facts = divergence.facts
    let decisions = facts.map { $0.normalized(withBlocks: false) }
    let onlyBlocks = decisions.allSatisfy { $0 == decisions[0] }
    let withHits = facts.contains { f in f.admitted.contains { (f.hits[$0] ?? 0) > 0 } }
    return facts.indices.map { i in
      let run = runs[i]
      if divergence.iteration >= run.facts.count { return "has ended" }
      return Self.sentence(facts[i], names: run.final, withHits: withHits, withBlocks: onlyBlocks)
    }
  }

  /// The decisions of one run's iteration: admissions, preemptions, finishes, and the blocks taken
  /// when `withBlocks`; hit pages of the admissions when `withHits`.
  public static func sentence(_ facts: IterationFacts, names: EngineState, withHits: Bool, withBlocks: Bool)
    -> String
  {
    var parts: [String] = []
    if !facts.admitted.isEmpty {
      var text = "admits " + list(facts.admitted, names)
      if withHits {
        let pages = facts.admitted.reduce(0) { $0 + (facts.hits[$1] ?? 0) }
        text += " (\(pages) hit page\(pages == 1 ? "" : "s"))"
      }
      parts.append(text)
    } else if facts.admissionSkipped {
      parts.append("admits nothing after a preemption")
    }
    if !facts.preempted.isEmpty { parts.append("preempts " + list(facts.preempted, names)) }
    if !facts.finished.isEmpty { parts.append("finishes " + list(facts.finished, names)) }
    if withBlocks && !facts.blocks.isEmpty { parts.append(blocksText(facts.blocks, names)) }
    return parts.isEmpty ? "nothing" : parts.joined(separator: "; ")
  }

  /// `takes blocks 3, 4 for C, 5 for D`, requests in the order they first took a block.
  private static func blocksText(_ blocks: [BlockChoice], _ names: EngineState) -> String {
    var order: [Int] = []
    var frames: [Int: [Int]] = [:]
    for block in blocks {
      if frames[block.request] == nil { order.append(block.request) }
      frames[block.request, default: []].append(block.frame)
    }
    let pieces = order.map { r in
      (frames[r] ?? []).map(String.init).joined(separator: ", ") + " for " + names.name(r)
    }
    let count = blocks.count
    return "takes block\(count == 1 ? "" : "s") " + pieces.joined(separator: ", ")
  }

  private static func list(_ requests: [Int], _ names: EngineState) -> String {
    requests.map(names.name).joined(separator: ", ")
  }
}
