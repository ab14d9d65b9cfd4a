/// Which result of a step a quiz question asks for.
public enum QuizKind: Sendable, Equatable {
  /// The frame `alloc()` returns (lowest free bit, or the LRU head when none is free).
  case allocFrame
  /// The block `popleft()` hands out from a free queue (vLLM, nano-vllm).
  case popLeft
  /// The free mask after a `free`, in binary (pools of up to `QuizQuestion.maskBitsLimit` frames).
  case freeMask
  /// Whether the frame is free after a `free` (larger pools).
  case frameFreed
  /// Whether a request's admission fits.
  case admission
  /// Whether a running request's new tokens fit in the free blocks.
  case slotsFit
  /// Which request is preempted.
  case preemption

  /// What the student types, for the answer row.
  func inputHint(frames: Int) -> String {
    switch self {
    case .allocFrame: "a frame number, -1 if none"
    case .popLeft: "a block number, -1 if none"
    case .freeMask: "\(frames) bits, frame \(frames - 1) first"
    case .frameFreed, .admission, .slotsFit: "y or n"
    case .preemption: "a request id"
    }
  }
}
