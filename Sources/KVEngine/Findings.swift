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

/// Something wrong the engine or the checker saw at a step.
public struct Finding: Sendable, Equatable {
  /// The step at which it happened (the state after that step shows it).
  public var step: Int
  public var kind: FindingKind
  /// One line a person can read.
  public var message: String
  /// The frame it is about, if any.
  public var frame: Int?
  /// The index of the request it is about, if any.
  public var request: Int?

  public init(step: Int, kind: FindingKind, message: String, frame: Int? = nil, request: Int? = nil) {
    self.step = step
    self.kind = kind
    self.message = message
    self.frame = frame
    self.request = request
  }
}
