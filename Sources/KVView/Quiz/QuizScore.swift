/// Answers right, wrong and skipped so far.
public struct QuizScore: Sendable, Equatable {
  public var right = 0
  public var wrong = 0
  public var skipped = 0

  public init(right: Int = 0, wrong: Int = 0, skipped: Int = 0) {
    self.right = right
    self.wrong = wrong
    self.skipped = skipped
  }

  /// Questions asked and ended (answered or skipped).
  public var asked: Int { right + wrong + skipped }

  /// Counts `outcome`.
  public mutating func record(_ outcome: QuizOutcome) {
    switch outcome {
    case .right: right += 1
    case .wrong: wrong += 1
    case .skipped: skipped += 1
    }
  }

  /// `quiz 2/3` for the status line.
  public var statusText: String { "quiz \(right)/\(asked)" }

  /// `2 of 3 right, 1 wrong, 0 skipped`.
  public var summary: String { "\(right) of \(asked) right, \(wrong) wrong, \(skipped) skipped" }
}
