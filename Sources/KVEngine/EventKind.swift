/// Kinds of step a viewer can jump between and a note can wait for.
public enum EventKind: String, Sendable, CaseIterable {
  /// `alloc()` was called (it may have returned -1).
  case alloc
  /// `free(idx)` was called.
  case free
  /// An allocation evicted a cached page.
  case evict
  /// A request was preempted.
  case preempt
  /// A request was admitted: it holds the pages of its prompt.
  case admit
  /// A request finished.
  case finish

  /// The mark of a step of this kind.
  public var mark: StepMarks {
    switch self {
    case .alloc: .alloc
    case .free: .free
    case .evict: .evict
    case .preempt: .preempt
    case .admit: .admit
    case .finish: .finish
    }
  }
}

/// What a step did, as a set of flags: its event kinds, and whether it changed the free mask, the free
/// queue or the LRU list of cached frames.
public struct StepMarks: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let alloc = StepMarks(rawValue: 1 << 0)
  public static let free = StepMarks(rawValue: 1 << 1)
  public static let evict = StepMarks(rawValue: 1 << 2)
  public static let preempt = StepMarks(rawValue: 1 << 3)
  public static let admit = StepMarks(rawValue: 1 << 4)
  public static let finish = StepMarks(rawValue: 1 << 5)
  /// The set of free frames or their order changed.
  public static let freeSetChange = StepMarks(rawValue: 1 << 6)
}

extension StepAction {
  /// The marks of a step that did this.
  public var marks: StepMarks {
    switch self {
    case .alloc(let trace, _):
      var marks: StepMarks = .alloc
      if trace.frame >= 0 { marks.insert(.freeSetChange) }
      if trace.evictedKey != nil { marks.insert(.evict) }
      return marks
    case .free(let trace, _, _):
      return trace.changesFreeSet ? [.free, .freeSetChange] : .free
    case .incRef(let trace, _):
      return trace.changesFreeSet ? .freeSetChange : []
    case .preempted: return .preempt
    case .admitted: return .admit
    case .retired(_, let status): return status == .finished ? .finish : []
    default: return []
    }
  }

  /// The request a step of `kind` concerns, if any: the one allocated for, freed, preempted, admitted
  /// or finished.
  public var subject: Int? {
    switch self {
    case .alloc(_, let purpose):
      switch purpose {
      case .admit(let request, _, _), .grow(let request, _, _, _): return request
      case .op: return nil
      }
    case .free(_, let request, _), .incRef(_, let request): return request
    case .preempted(let request, _, _), .admitted(let request, _, _), .retired(let request, _):
      return request
    default: return nil
    }
  }
}

extension RefTrace {
  /// The frame entered or left the free mask, the LRU list or the free queue.
  var changesFreeSet: Bool { wordBefore != wordAfter || lru || queued != nil }
}

/// Which marks occur in each block of `StepMarkIndex.blockSize` steps: a coarse index, one byte per
/// block, that lets a search skip the blocks without the kind it looks for. A block's byte may claim a
/// mark that is no longer there (after a user action rewrote the run); it never misses one.
public struct StepMarkIndex: Sendable, Equatable {
  public static let blockShift = 8
  /// Steps per block.
  public static let blockSize = 1 << blockShift
  private(set) var blocks: [UInt8] = []

  public init() {}

  /// Number of blocks.
  public var blockCount: Int { blocks.count }

  /// The marks of the steps of block `block`.
  public func marks(inBlock block: Int) -> StepMarks {
    block >= 0 && block < blocks.count ? StepMarks(rawValue: blocks[block]) : []
  }

  /// Adds the marks of step `step`.
  mutating func record(step: Int, _ marks: StepMarks) {
    let block = step >> Self.blockShift
    if block >= blocks.count { blocks.append(contentsOf: repeatElement(0, count: block - blocks.count + 1)) }
    blocks[block] |= marks.rawValue
  }

  /// Forgets the blocks after the one holding `step`.
  mutating func truncate(after step: Int) {
    let keep = max(0, step >> Self.blockShift) + 1
    if blocks.count > keep { blocks.removeLast(blocks.count - keep) }
  }
}
