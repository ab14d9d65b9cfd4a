import KVEngine
import KVText

/// One predict-then-reveal question: built from the state before a step and the state after it, it
/// holds the question, the expected answer and the explanation taken from the step's facts, and judges
/// what the student types. Pure: no view, no terminal.
public struct QuizQuestion: Sendable, Equatable {
  /// Pools up to this many frames are asked for the whole mask after a `free`; larger ones whether
  /// the frame is free.
  public static let maskBitsLimit = 16

  public let kind: QuizKind
  /// The step whose result is asked; the view shows the state after `step - 1` while asking.
  public let step: Int
  /// The question, without its answer.
  public let prompt: String
  public let expected: QuizAnswer
  /// Why the answer is what it is, from the step's facts.
  public let explanation: String
  /// Frames in the pool (the range of a frame answer, the width of a mask answer).
  let frames: Int
  /// Ids of the requests there are (the answers a preemption question accepts).
  let requestIDs: [String]

  /// The question about the step from `before` to `after`, or nil when that step's result is not
  /// something a student works out (a plan, a write, a record, ...).
  public init?(before: EngineState, after: EngineState) {
    guard after.step == before.step + 1 else { return nil }
    let asked: (QuizKind, String, QuizAnswer, String)
    switch after.event.action {
    case .alloc(let trace, let purpose):
      asked = (
        Self.allocKind(before), Self.allocPrompt(before, purpose), .frame(trace.frame),
        before.quizAllocReason(trace)
      )
    case .growthFailed(let r, let position, let outcome):
      if case .preempt(let victim) = outcome {
        asked = Self.preemption(before, requester: r, victim: victim)
      } else {
        let have = r < before.requests.count ? before.requests[r].pageTable.count : 0
        let purpose = AllocPurpose.grow(request: r, position: position, needed: have + 1, have: have)
        asked = (
          Self.allocKind(before), Self.allocPrompt(before, purpose), .frame(-1),
          before.quizGrowthFailureReason(request: r, outcome: outcome)
        )
      }
    case .free(let trace, let request, let reason):
      if reason == .preempted, let request, !Self.victimShown(request, before.event.action) {
        asked = Self.preemption(before, requester: Self.requester(before.event.action), victim: request)
      } else {
        guard before.pool.contains(trace.frame) else { return nil }
        let call = before.quizFreeCall(frame: trace.frame, request: request, reason: reason)
        let n = before.pool.count
        let nowFree = after.pool.freeMask.contains(trace.frame)
        if n <= Self.maskBitsLimit {
          let mask = after.pool.freeMask.binary()
          asked = (
            .freeMask, "\(call): what is free_mask after it?", .mask(mask),
            before.quizFreeReason(trace, maskAfter: mask, nowFree: nowFree)
          )
        } else {
          asked = (
            .frameFreed, "\(call): is frame \(trace.frame) free after it?", .decision(nowFree),
            before.quizFreeReason(trace, maskAfter: nil, nowFree: nowFree)
          )
        }
      }
    case .preempted(let r, let forRequest, _):
      guard !Self.victimShown(r, before.event.action) else { return nil }
      asked = Self.preemption(before, requester: forRequest, victim: r)
    case .lookup(let r, let hits, let need, let available, let admitted):
      asked = (
        .admission, "\(before.quizAdmissionCall(r)): is it admitted now?", .decision(admitted),
        before.quizAdmissionReason(
          request: r, hits: hits, need: need, available: available, admitted: admitted)
      )
    case .slots(let r, let tokens, let need, let free, let fits):
      // No new block needed: nothing to work out.
      guard need > 0 else { return nil }
      asked = (
        .slotsFit, "\(before.quizSlotsCall(r, tokens: tokens)): do they fit?", .decision(fits),
        before.quizSlotsReason(request: r, tokens: tokens, need: need, free: free, fits: fits)
      )
    default:
      return nil
    }
    (kind, prompt, expected, explanation) = asked
    step = after.step
    frames = before.pool.count
    requestIDs = before.requests.map(\.id)
  }

  /// A question about `alloc()` or, in a queue pool, `popleft()`.
  private static func allocKind(_ before: EngineState) -> QuizKind {
    before.pool.order == .queue ? .popLeft : .allocFrame
  }

  private static func allocPrompt(_ before: EngineState, _ purpose: AllocPurpose) -> String {
    let what =
      allocKind(before) == .popLeft
      ? "which block does it hand out?" : "which frame does it return?"
    return "\(before.quizAllocCall(purpose)): \(what)"
  }

  /// The question "who is preempted?".
  private static func preemption(_ before: EngineState, requester: Int?, victim: Int)
    -> (QuizKind, String, QuizAnswer, String)
  {
    (
      .preemption, "\(before.quizPreemptionCause(for: requester)): which request is preempted?",
      .request(before.name(victim)), before.quizPreemptionReason(victim: victim)
    )
  }

  /// True when the step before already named `victim` as the one preempted (its growth failure, or a
  /// free of its pages).
  private static func victimShown(_ victim: Int, _ previous: StepAction) -> Bool {
    switch previous {
    case .growthFailed(_, _, .preempt(let v)): v == victim
    case .free(_, let r, .preempted): r == victim
    default: false
    }
  }

  /// The request a preemption makes room for, as the step before shows it.
  private static func requester(_ previous: StepAction) -> Int? {
    switch previous {
    case .slots(let r, _, _, _, _): r
    case .preempted(_, let forRequest, _): forRequest
    case .growthFailed(let r, _, _): r
    default: nil
    }
  }

  /// What the student types, for the answer row.
  public var inputHint: String { kind.inputHint(frames: frames) }

  /// Parses `input` as an answer of this question's shape.
  public func parse(_ input: String) -> Result<QuizAnswer, QuizInputError> {
    let text = input.trimmingSpaces
    guard !text.isEmpty else {
      return .failure(QuizInputError("type an answer (\(inputHint)), or Esc to skip"))
    }
    switch expected {
    case .frame:
      let noun = kind == .popLeft ? "block" : "frame"
      guard let frame = Int(text), frame >= -1, frame < frames else {
        return .failure(
          QuizInputError("'\(text)' is not a \(noun): type a whole number from -1 to \(frames - 1)"))
      }
      return .success(.frame(frame))
    case .mask:
      var bits = text.lowercased().filter { $0 != " " && $0 != "_" }
      if bits.hasPrefix("0b") { bits.removeFirst(2) }
      guard bits.allSatisfy({ $0 == "0" || $0 == "1" }) else {
        return .failure(QuizInputError("'\(text)' is not a mask: type \(frames) bits of 0 and 1"))
      }
      guard bits.count == frames else {
        return .failure(
          QuizInputError(
            "'\(text)' has \(bits.count) bits; the mask has \(frames), frame \(frames - 1) first"))
      }
      return .success(.mask(bits))
    case .decision:
      switch text.lowercased() {
      case "y", "yes": return .success(.decision(true))
      case "n", "no": return .success(.decision(false))
      default: return .failure(QuizInputError("'\(text)' is not yes or no: type y or n"))
      }
    case .request:
      if let id = requestIDs.first(where: { $0 == text }) { return .success(.request(id)) }
      let folded = requestIDs.filter { $0.lowercased() == text.lowercased() }
      if folded.count == 1 { return .success(.request(folded[0])) }
      let known = requestIDs.prefix(6).joined(separator: ", ") + (requestIDs.count > 6 ? ", ..." : "")
      return .failure(QuizInputError("no request named '\(text)': type one of \(known)"))
    }
  }

  /// Right, wrong, or not an answer at all (asked again).
  public func judge(_ input: String) -> QuizJudgement {
    switch parse(input) {
    case .failure(let error): .malformed(error.message)
    case .success(let answer): answer == expected ? .right : .wrong
    }
  }
}

/// Why a typed answer is not an answer of the asked shape.
public struct QuizInputError: Error, Sendable, Equatable {
  public let message: String

  init(_ message: String) { self.message = message }
}
