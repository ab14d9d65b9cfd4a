/// The quiz mode of the live view: where it stands and the score so far. A value kept in `ViewState`.
public struct QuizSession: Sendable, Equatable {
  /// Where the quiz stands.
  public enum Stage: Sendable, Equatable {
    /// A question is open: the view shows the state before its step, the student types `input`;
    /// `error` says why the last answer was not an answer.
    case asking(QuizQuestion, input: String, error: String?)
    /// The step of the last question is shown with the verdict.
    case revealed(QuizQuestion, QuizOutcome)
    /// Quiz mode is on with no open question (a long stretch without one was skipped).
    case idle
    /// The run has no more questions.
    case finished
    /// Quiz mode is off; the score is kept.
    case off
  }

  public var stage: Stage
  public var score = QuizScore()

  public init(stage: Stage = .idle, score: QuizScore = QuizScore()) {
    self.stage = stage
    self.score = score
  }

  public var isOn: Bool { stage != .off }

  /// The open question, if any.
  public var question: QuizQuestion? {
    if case .asking(let question, _, _) = stage { return question }
    return nil
  }

  /// True while a question about the frame `alloc()` or `popleft()` hands out is open: the frames
  /// panel's "lowest free" and "next" would give it away.
  public var hidesNextFrame: Bool {
    guard let kind = question?.kind else { return false }
    return kind == .allocFrame || kind == .popLeft
  }

  /// The line printed after the view closes: `quiz: 2 of 3 right, 1 wrong, 0 skipped`.
  public var summary: String { "quiz: \(score.summary)" }
}
