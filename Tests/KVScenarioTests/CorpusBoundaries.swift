@testable import KVEngine

/// Operation boundaries of a run under today's agenda engine: steps after which no operation is under way.
enum CorpusBoundaries {
  static func steps(_ timeline: Timeline) -> [Int] {
    timeline.states(0...timeline.totalSteps).filter { state in
      guard let next = state.agenda.first else { return true }
      if case .pool = next { return true }
      return false
    }.map(\.step)
  }
}
