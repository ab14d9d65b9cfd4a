/// How a question ended.
public enum QuizOutcome: Sendable, Equatable {
  case right
  /// The student's answer, as typed (trimmed).
  case wrong(given: String)
  /// Esc: no answer.
  case skipped
}

/// The judgement of one typed answer.
public enum QuizJudgement: Sendable, Equatable {
  case right
  case wrong
  /// Not an answer of the asked shape: the question is asked again with this message.
  case malformed(String)
}
