import KVEngine

extension Scenario {
  /// What a run decided in one iteration, for a comparison: `admits A, B (3 hit pages); preempts D`,
  /// `admits nothing after a preemption`, `nothing`. With `withBlocks`, the blocks it handed out too.
  public func reason(_ facts: IterationFacts, withBlocks: Bool = false) -> String {
    func ids(_ rs: [Int]) -> String {
      rs.map { $0 < requests.count ? requests[$0].id : "#\($0)" }.joined(separator: ", ")
    }
    var parts: [String] = []
    if !facts.admitted.isEmpty {
      let hits = facts.admitted.reduce(0) { $0 + (facts.hits[$1] ?? 0) }
      parts.append(
        "admits \(ids(facts.admitted))" + (hits > 0 ? " (\(hits) hit page\(hits == 1 ? "" : "s"))" : ""))
    } else if facts.admissionSkipped {
      parts.append("admits nothing after a preemption")
    }
    if !facts.preempted.isEmpty { parts.append("preempts \(ids(facts.preempted))") }
    if !facts.finished.isEmpty { parts.append("finishes \(ids(facts.finished))") }
    if withBlocks {
      var byRequest: [(Int, [Int])] = []
      for block in facts.blocks {
        if let last = byRequest.indices.last, byRequest[last].0 == block.request {
          byRequest[last].1.append(block.frame)
        } else {
          byRequest.append((block.request, [block.frame]))
        }
      }
      for (r, frames) in byRequest { parts.append("gives \(ids([r])) \(Text.list(frames))") }
    }
    return parts.isEmpty ? "nothing" : parts.joined(separator: "; ")
  }
}
