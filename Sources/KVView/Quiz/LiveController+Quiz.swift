import KVEngine

/// Predict-then-reveal: `→` in quiz mode moves to the state before the next step whose
/// result a student can work out and asks about it; the answer reveals the step.
extension LiveController {
  /// Steps searched for the next question before the search stops and says so.
  static let quizSearchLimit = 20_000

  /// Turns quiz mode on (keeping an earlier score) and asks the first question from here.
  public mutating func startQuiz() {
    view.quiz = QuizSession(stage: .idle, score: view.quiz?.score ?? QuizScore())
    askNextQuestion()
  }

  /// The score line to print once the view has closed, when quiz mode was used.
  public var quizSummary: String? { view.quiz?.summary }

  /// `Q`: quiz mode on or off.
  mutating func toggleQuiz() {
    guard let quiz = view.quiz, quiz.isOn else { return startQuiz() }
    view.quiz?.stage = .off
    view.message = StatusMessage("quiz off: \(quiz.score.summary)")
  }

  /// Moves to the state before the next quizzable step and opens its question; at the end of the run,
  /// the quiz is over.
  mutating func askNextQuestion() {
    view.playing = false
    var state = timeline.current
    for _ in 0..<Self.quizSearchLimit {
      let before = state
      guard Timeline.advance(&state, actions: timeline.actions) else {
        view.quiz?.stage = .finished
        timeline.seek(to: timeline.totalSteps)
        return
      }
      if let question = QuizQuestion(before: before, after: state) {
        timeline.seek(to: question.step - 1)
        view.quiz?.stage = .asking(question, input: "", error: nil)
        return
      }
    }
    timeline.seek(to: state.step)
    view.quiz?.stage = .idle
    view.message = StatusMessage(
      "no question in the next \(Fmt.grouped(Self.quizSearchLimit)) steps (step \(Fmt.grouped(state.step))); → searches on"
    )
  }

  /// Keys while a question is open: characters type the answer, Enter answers, Esc skips, Ctrl-C quits.
  mutating func answerQuiz(_ key: Key) -> [ControllerEffect] {
    guard case .asking(let question, var input, _)? = view.quiz?.stage else { return [] }
    switch key {
    case .enter:
      switch question.judge(input) {
      case .malformed(let message):
        view.quiz?.stage = .asking(question, input: input, error: message)
      case .right:
        reveal(question, .right)
      case .wrong:
        reveal(question, .wrong(given: String(input.drop { $0 == " " })))
      }
    case .escape:
      reveal(question, .skipped)
    case .control("c"):
      return [.quit]
    case .backspace:
      if !input.isEmpty { input.removeLast() }
      view.quiz?.stage = .asking(question, input: input, error: nil)
    case .character(let c):
      if input.count < 80 { input.append(c) }
      view.quiz?.stage = .asking(question, input: input, error: nil)
    default:
      break
    }
    return []
  }

  /// Shows the step the question was about, with the verdict, and counts it.
  private mutating func reveal(_ question: QuizQuestion, _ outcome: QuizOutcome) {
    view.quiz?.score.record(outcome)
    view.quiz?.stage = .revealed(question, outcome)
    timeline.seek(to: question.step)
  }
}
