import Testing

@testable import KVEngine
@testable import KVView

/// Predict-then-reveal: the questions each policy asks, how answers are judged (right, wrong, not an
/// answer at all), the controller's score, and the prompt and reveal on screen.
struct QuizTests {
  /// Every question of a run, in step order.
  static func questions(_ scenario: Scenario) -> [QuizQuestion] {
    let timeline = Timeline(scenario: scenario)
    let states = timeline.states(0...timeline.totalSteps)
    return zip(states, states.dropFirst()).compactMap { QuizQuestion(before: $0, after: $1) }
  }

  /// The first question of `kind` in a run.
  static func first(_ kind: QuizKind, in scenario: Scenario) -> QuizQuestion? {
    questions(scenario).first { $0.kind == kind }
  }

  /// A wrong answer of the same shape as `expected`.
  static func wrong(_ question: QuizQuestion, otherRequest: String = "A") -> String {
    switch question.expected {
    case .frame(let frame): "\(frame == 0 ? 1 : 0)"
    case .mask(let bits): String(bits.map { $0 == "1" ? "0" : "1" })
    case .decision(let yes): yes ? "n" : "y"
    case .request: otherRequest
    }
  }

  func isMalformed(_ judgement: QuizJudgement) -> Bool {
    if case .malformed = judgement { true } else { false }
  }

  @Test func seedAllocAndFree() throws {
    let questions = Self.questions(Fixtures.walkthrough)
    // The animation's masks: A gets 0 and 1, B 2 and 3, A grows into 4, A's release frees 0, 1, 4.
    let allocs = questions.filter { $0.kind == .allocFrame }.prefix(5).map(\.expected)
    #expect(allocs == [.frame(0), .frame(1), .frame(2), .frame(3), .frame(4)])
    let grow = try #require(questions.first { $0.prompt.contains("grow to 3 pages") })
    #expect(grow.prompt == "alloc() for A (grow to 3 pages for position 128): which frame does it return?")
    #expect(
      grow.explanation == "alloc() returns the lowest free frame: mask 11110000 -> lowest set bit is frame 4")
    #expect(grow.judge("4") == .right)
    #expect(grow.judge(" 4 ") == .right)
    #expect(grow.judge("5") == .wrong)
    #expect(grow.judge("-1") == .wrong)
    for bad in ["", "four", "8", "-2", "4.0"] { #expect(isMalformed(grow.judge(bad)), "\(bad)") }

    let frees = questions.filter { $0.kind == .freeMask }
    #expect(frees.prefix(3).map(\.expected) == [.mask("11100001"), .mask("11100011"), .mask("11110011")])
    let free = try #require(frees.first)
    #expect(free.prompt == "free(0) for A (finished): what is free_mask after it?")
    #expect(free.explanation == "free(0): refs 1 -> 0, bit 0 is set again: mask 11100000 -> 11100001")
    #expect(free.judge("11100001") == .right)
    #expect(free.judge("0b1110_0001") == .right)
    #expect(free.judge("11100000") == .wrong)
    #expect(free.judge("1110000") == .malformed("'1110000' has 7 bits; the mask has 8, frame 7 first"))
    #expect(isMalformed(free.judge("1110000x")))
  }

  @Test func seedIgnoredGrowthAsksForMinusOne() throws {
    let scenario = Scenario(
      name: "full", cache: CacheConfig(pages: 2, pageSize: 4),
      scheduler: SchedulerConfig(policy: .astraiSeed, maxBatch: 4),
      requests: [RequestSpec(id: "A", prompt: .length(7), output: 4)])
    let failed = try #require(Self.questions(scenario).first { $0.expected == .frame(-1) })
    #expect(failed.kind == .allocFrame)
    #expect(failed.explanation.hasSuffix("alloc() returns -1; the seed ignores the failure"))
    #expect(failed.judge("-1") == .right)
    #expect(failed.judge("0") == .wrong)
  }

  @Test func pagedPreemptionAndLargePoolFrees() throws {
    let questions = Self.questions(Fixtures.preempting)
    let preemption = try #require(questions.first { $0.kind == .preemption })
    guard case .request(let victim) = preemption.expected else {
      Issue.record("a preemption question expects a request")
      return
    }
    #expect(preemption.prompt.hasSuffix(": which request is preempted?"))
    #expect(preemption.explanation.hasPrefix("on_oom: preempt takes the last running request: ["))
    #expect(preemption.explanation.hasSuffix("-> \(victim)"))
    #expect(preemption.judge(victim) == .right)
    #expect(preemption.judge(victim.lowercased()) == .right)
    #expect(preemption.judge(victim == "Q0" ? "Q1" : "Q0") == .wrong)
    #expect(isMalformed(preemption.judge("nobody")))
    // 24 frames: too many bits to type; a free asks whether the frame is free.
    let free = try #require(questions.first { $0.kind == .frameFreed })
    #expect(free.judge(Self.wrong(free)) == .wrong)
    #expect(free.judge(free.expected.text) == .right)
    #expect(isMalformed(free.judge("maybe")))
    #expect(questions.contains { $0.kind == .admission })
  }

  @Test func vllmPopLeftAdmissionAndSlots() throws {
    let questions = Self.questions(EngineScreenTests.vllm)
    let admission = try #require(questions.first)
    #expect(admission.kind == .admission)
    #expect(admission.prompt == "A asks for admission: 8 tokens, pages of 4: is it admitted now?")
    #expect(admission.expected == .decision(true))
    #expect(admission.judge("yes") == .right)
    #expect(admission.judge("Y") == .right)
    #expect(admission.judge("no") == .wrong)
    #expect(admission.judge("perhaps") == .malformed("'perhaps' is not yes or no: type y or n"))
    let pop = try #require(Self.first(.popLeft, in: EngineScreenTests.vllm))
    #expect(
      pop.prompt == "popleft() for A (admission: page 1 of 2): which block does it hand out?")
    #expect(
      pop.explanation == "popleft() hands out the head of the free queue [1, 2, 3, 4, 5, 6, ...]: block 1")
    #expect(pop.judge("1") == .right)
    #expect(pop.judge("0") == .wrong)
    #expect(pop.judge("x") == .malformed("'x' is not a block: type a whole number from -1 to 7"))
    let slots = try #require(Self.first(.slotsFit, in: EngineScreenTests.vllm))
    #expect(slots.explanation.contains("need"))
    #expect(slots.judge(slots.expected.text) == .right)
    #expect(slots.judge(Self.wrong(slots)) == .wrong)
    #expect(Self.first(.preemption, in: EngineScreenTests.vllm) != nil)
  }

  @Test func nanoPreemption() throws {
    let preemption = try #require(Self.first(.preemption, in: EngineScreenTests.nano))
    #expect(preemption.prompt == "A needs a page and none is free: which request is preempted?")
    #expect(preemption.expected == .request("B"))
    #expect(
      preemption.explanation
        == "nano-vllm preempts the last running sequence (itself when no other is left): [A, B] -> B")
    #expect(preemption.judge("B") == .right)
    #expect(preemption.judge("A") == .wrong)
    #expect(preemption.judge("Z") == .malformed("no request named 'Z': type one of A, B, C"))
    #expect(preemption.judge("") == .malformed("type an answer (a request id), or Esc to skip"))
    // The free of B's block that follows is a mask question, not the preemption again.
    let questions = Self.questions(EngineScreenTests.nano)
    let index = try #require(questions.firstIndex(of: preemption))
    #expect(questions[index + 1].kind == .freeMask)
  }

  // MARK: The controller

  static func typed(_ text: String, _ controller: inout LiveController) {
    for character in text { _ = controller.handle(.character(character)) }
    _ = controller.handle(.enter)
  }

  @Test func controllerAsksRevealsAndScores() throws {
    var controller = LiveController(timeline: Timeline(scenario: Fixtures.walkthrough))
    controller.startQuiz()
    let first = try #require(controller.view.quiz?.question)
    // The view shows the state before the step asked about.
    #expect(controller.timeline.current.step == first.step - 1)
    Self.typed("zero", &controller)
    // Not an answer: asked again with a message, nothing counted.
    guard case .asking(_, "zero", let error?)? = controller.view.quiz?.stage else {
      Issue.record("a malformed answer must re-ask")
      return
    }
    #expect(error.contains("not a frame"))
    #expect(controller.view.quiz?.score == QuizScore())
    for _ in 0..<4 { _ = controller.handle(.backspace) }
    Self.typed("0", &controller)
    #expect(controller.view.quiz?.stage == .revealed(first, .right))
    #expect(controller.timeline.current.step == first.step)
    _ = controller.handle(.right)
    Self.typed("7", &controller)
    #expect(controller.view.quiz?.score == QuizScore(right: 1, wrong: 1))
    _ = controller.handle(.right)
    _ = controller.handle(.escape)
    #expect(controller.view.quiz?.score == QuizScore(right: 1, wrong: 1, skipped: 1))
    #expect(controller.quizSummary == "quiz: 1 of 3 right, 1 wrong, 1 skipped")
    // Play runs to the next question and stops there.
    _ = controller.handle(.character(" "))
    _ = controller.handle(.tick)
    #expect(controller.view.playing == false)
    let asked = try #require(controller.view.quiz?.question)
    #expect(controller.timeline.current.step == asked.step - 1)
    _ = controller.handle(.escape)
    #expect(controller.quizSummary == "quiz: 1 of 4 right, 1 wrong, 2 skipped")
    // Q turns it off, keeping the score; → steps again.
    _ = controller.handle(.character("Q"))
    #expect(controller.view.quiz?.isOn == false)
    let step = controller.timeline.current.step
    _ = controller.handle(.right)
    #expect(controller.timeline.current.step == step + 1)
    #expect(controller.quizSummary == "quiz: 1 of 4 right, 1 wrong, 2 skipped")
  }

  @Test func theLastQuestionEndsTheQuiz() {
    var controller = LiveController(timeline: Timeline(scenario: Fixtures.walkthrough))
    controller.startQuiz()
    var asked = 0
    while controller.view.quiz?.question != nil && asked < 100 {
      _ = controller.handle(.escape)
      _ = controller.handle(.right)
      asked += 1
    }
    #expect(controller.view.quiz?.stage == .finished)
    #expect(controller.view.quiz?.score.skipped == asked)
    #expect(controller.timeline.current.step == controller.timeline.totalSteps)
  }

  // MARK: On screen

  /// The walkthrough's quiz at A's growth (the README's frame 4), asked.
  static func atGrowth() throws -> LiveController {
    var controller = LiveController(timeline: Timeline(scenario: Fixtures.walkthrough))
    controller.startQuiz()
    for _ in 0..<20 {
      if controller.view.quiz?.question?.prompt.contains("grow to 3") == true { return controller }
      _ = controller.handle(.escape)
      _ = controller.handle(.right)
    }
    Issue.record("no question about A's growth")
    return controller
  }

  @Test func promptAndRevealGoldens() throws {
    var controller = try Self.atGrowth()
    let prompt = controller.render(width: 120, height: 40).text
    // Nothing on screen gives the answer away: the step before is shown, "lowest free" is hidden.
    #expect(prompt.contains("lowest free ?"))
    #expect(!prompt.contains("frame 4"))
    #expect(!prompt.contains("11100000"))
    Golden.check("quiz-walkthrough-grow-prompt-120x40", prompt)
    var right = controller
    Self.typed("4", &right)
    Golden.check("quiz-walkthrough-grow-right-120x40", right.render(width: 120, height: 40).text)
    Self.typed("5", &controller)
    Golden.check("quiz-walkthrough-grow-wrong-120x40", controller.render(width: 120, height: 40).text)
    // The next question is the mask after A's first free; a malformed answer is shown inline.
    _ = controller.handle(.right)
    Self.typed("1111", &controller)
    Golden.check("quiz-walkthrough-free-malformed-120x40", controller.render(width: 120, height: 40).text)
  }
}
