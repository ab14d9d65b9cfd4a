/// A kind of finding: a stable kebab-case name.
public enum FindingKind: String, Sendable, CaseIterable, Codable {
  // Defects of the astrai-seed scheduler, named when they fire.
  case lostTask = "lost-task"
  case outOfBoundsWrite = "out-of-bounds-write"
  case ignoredGrowthFailure = "ignored-growth-failure"
  case emptyPromptDeadlock = "empty-prompt-deadlock"
  case negativeRefcount = "negative-refcount"
  // Allocator misuse.
  case doubleFree = "double-free"
  case badFrameIndex = "bad-frame-index"
  case incRefFreeFrame = "inc-ref-free-frame"
  // Invariants the checker verifies after every step.
  case maskRefcountMismatch = "mask-refcount-mismatch"
  case refcountBelowHolders = "refcount-below-holders"
  case sharedWithoutCache = "shared-without-cache"
  case shortPageTable = "short-page-table"
  case lruFrameInUse = "lru-frame-in-use"
  case leakedFrame = "leaked-frame"
  // The run cannot go on.
  case deadlock
}

/// Something wrong the engine or the checker saw at a step, as facts; sentences are made elsewhere.
public struct Finding: Sendable, Equatable {
  /// The step at which it happened (the state after that step shows it).
  public var step: Int
  public var detail: FindingDetail
  /// The frame it is about, if any.
  public var frame: Int?
  /// The index of the request it is about, if any.
  public var request: Int?

  public init(step: Int, _ detail: FindingDetail, frame: Int? = nil, request: Int? = nil) {
    self.step = step
    self.detail = detail
    self.frame = frame
    self.request = request
  }

  public var kind: FindingKind { detail.kind }
}

/// The facts of a finding. Request fields are indices into `EngineState.requests`.
public enum FindingDetail: Sendable, Equatable {
  /// `request` was popped at refill and dropped when the admission of `failed` failed.
  case lostTask(failed: Int)
  /// A decode wrote `position` (page `page`) into a table of `pages` pages; the padded -1 index hit
  /// `frame`, held by `owners`.
  case outOfBoundsWrite(position: Int, page: Int, pages: Int, frame: Int, owners: [Int])
  /// Growth to `needed` pages for `position` got -1 and went on.
  case ignoredGrowthFailure(needed: Int, position: Int)
  case emptyPromptDeadlock
  case negativeRefcount(before: Int, after: Int)
  case doubleFree
  case badFrameIndex(poolSize: Int)
  /// `checked`: the pool rejected it; otherwise refs went to `refsAfter` and the free bit stayed set.
  case incRefFreeFrame(checked: Bool, refsAfter: Int)
  case maskRefcountMismatch(freeBit: Bool, refs: Int, cached: Bool)
  case refcountBelowHolders(refs: Int, holders: [Int])
  case sharedWithoutCache(holders: [Int])
  /// A running request holds `pages` pages for `tokens` tokens.
  case shortPageTable(pages: Int, tokens: Int)
  case lruFrameInUse(refs: Int)
  case leakedFrame(refs: Int, holders: [Int])
  /// No request can make progress, for the reason given, reported as soon as it is certain.
  case deadlock(stuck: [Int], cause: DeadlockCause)

  public var kind: FindingKind {
    switch self {
    case .lostTask: return .lostTask
    case .outOfBoundsWrite: return .outOfBoundsWrite
    case .ignoredGrowthFailure: return .ignoredGrowthFailure
    case .emptyPromptDeadlock: return .emptyPromptDeadlock
    case .negativeRefcount: return .negativeRefcount
    case .doubleFree: return .doubleFree
    case .badFrameIndex: return .badFrameIndex
    case .incRefFreeFrame: return .incRefFreeFrame
    case .maskRefcountMismatch: return .maskRefcountMismatch
    case .refcountBelowHolders: return .refcountBelowHolders
    case .sharedWithoutCache: return .sharedWithoutCache
    case .shortPageTable: return .shortPageTable
    case .lruFrameInUse: return .lruFrameInUse
    case .leakedFrame: return .leakedFrame
    case .deadlock: return .deadlock
    }
  }
}

/// Why requests can make no progress.
public enum DeadlockCause: Sendable, Equatable {
  /// The request's prompt and output need `pages` pages and the pool has `usable`: it can never
  /// finish, and the policy neither refuses nor aborts it. Reported when it arrives.
  case sequenceExceedsPool(pages: Int, usable: Int)
  /// Under `on_oom: wait`, every running request waits for one more page while together they hold
  /// every frame (`holds[i]` pages for the i-th stuck request): none will ever free one. Reported
  /// when it forms.
  case waitCycle(holds: [Int], frames: Int)
  /// An iteration passed in which nothing moved and nothing can arrive.
  case noProgress
}
