/// The quiz's rows at the bottom of the screen: the open question and the answer being typed, or the
/// verdict of the last answer with its reason, or the final score. Drawn over the command row (and,
/// with two rows, the hint bar).
struct QuizPanel: Panel {
  let quiz: QuizSession
  let g: Glyphs

  /// Rows the panel takes: two for a question or a verdict, one for the final score, none otherwise.
  var rows: Int {
    switch quiz.stage {
    case .asking, .revealed: 2
    case .finished: 1
    case .idle, .off: 0
    }
  }

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty, rows > 0 else { return }
    grid.fill(x: rect.x, y: rect.y, width: rect.width, height: rect.height)
    let top = rect.y
    let bottom = rect.y + rect.height - 1
    switch quiz.stage {
    case .asking(let question, let input, let error):
      line(
        "Q\(quiz.score.asked + 1)  \(question.prompt)", y: top, rect, TextStyle(.accent, bold: true), &grid)
      var x = grid.put(
        "answer: " + input, x: rect.x, y: bottom, in: rect, style: TextStyle(.accent, bold: true))
      grid.set(g.cursor, x: x, y: bottom, style: TextStyle(.accent))
      x += 3
      if let error {
        line(error, x: x, y: bottom, rect, TextStyle(.finding, bold: true), &grid)
      } else {
        line(
          "(\(question.inputHint))  Enter answers  Esc skips", x: x, y: bottom, rect, TextStyle(.hint), &grid)
      }
    case .revealed(let question, let outcome):
      let answer = question.expected.text
      let (verdict, style): (String, TextStyle) =
        switch outcome {
        case .right: ((g.unicode ? "✓ " : "") + "right: \(answer)", TextStyle(.free, bold: true))
        case .wrong(let given):
          (
            (g.unicode ? "✗ " : "") + "wrong: you said \(given), it is \(answer)",
            TextStyle(.finding, bold: true)
          )
        case .skipped: ("skipped: it is \(answer)", TextStyle(.dim, bold: true))
        }
      let x = grid.put(verdict, x: rect.x, y: top, in: rect, style: style)
      line(
        "   score \(quiz.score.right)/\(quiz.score.asked)   →: next question   Q: quiz off", x: x,
        y: top,
        rect, TextStyle(.hint), &grid)
      line("why: " + question.explanation, y: bottom, rect, TextStyle(.normal), &grid)
    case .finished:
      line(
        "quiz over, no more questions in this run: \(quiz.score.summary)   Q: quiz off", y: top, rect,
        TextStyle(.accent, bold: true), &grid)
    case .idle, .off:
      break
    }
  }

  /// Text clipped to the rest of the row, with the screen's arrows.
  private func line(
    _ text: String, x: Int? = nil, y: Int, _ rect: Rect, _ style: TextStyle, _ grid: inout Grid
  ) {
    let start = x ?? rect.x
    let room = rect.maxX - start
    guard room > 0 else { return }
    let shown = text.replacing("→", with: g.right)
    grid.put(Fmt.clip(shown, room, ellipsis: g.ellipsis), x: start, y: y, in: rect, style: style)
  }
}
