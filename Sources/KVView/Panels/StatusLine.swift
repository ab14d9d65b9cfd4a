import KVEngine

/// The top bar: the source's name, the policy, the step, iteration and phase, play mode, recording and
/// the findings seen so far.
struct StatusLine: Panel {
  let timeline: Timeline
  let state: EngineState
  let view: ViewState
  let g: Glyphs

  func draw(into grid: inout Grid, in rect: Rect) {
    guard !rect.isEmpty else { return }
    let width = rect.width
    let y = rect.y
    grid.fill(x: rect.x, y: y, width: width, height: 1, with: Cell(" ", role: .title, reverse: true))
    let bar = TextStyle(.title, bold: true, reverse: true)
    let name = view.sourceLabel ?? timeline.scenario.name
    let seen = timeline.findings.prefix { $0.step <= state.step }.count
    let total = timeline.findings.count
    var parts: [(String, TextStyle)] = [
      (timeline.scenario.scheduler.policy.rawValue, bar),
      ("step \(Fmt.grouped(state.step))/\(Fmt.grouped(timeline.totalSteps))", bar),
      ("iter \(Fmt.grouped(state.iteration))", bar),
      (state.phase.rawValue, bar),
    ]
    let narrow = width < 100
    var play = view.playing ? "playing" : "paused"
    if !narrow { play = (view.playing ? (g.unicode ? "▶ " : "> ") : (g.unicode ? "❚❚ " : "|| ")) + play }
    play += " \(view.speed)/s"
    if view.playGranularity != .step { play += " by \(view.playGranularity.rawValue)" }
    parts.append((play, bar))
    if let quiz = view.quiz, quiz.isOn { parts.append((quiz.score.statusText, bar)) }
    if view.recording { parts.append(("REC", TextStyle(.finding, bold: true, reverse: true))) }
    parts.append(
      (
        "findings \(seen)/\(total)", total > 0 ? TextStyle(.finding, bold: true, reverse: true) : bar
      ))
    let separator = narrow ? "  " : g.separator
    let rest = parts.map(\.0).joined(separator: separator)
    let room = width - 1 - rest.count - separator.count
    let title = room >= 4 ? Fmt.clip(name, room, ellipsis: g.ellipsis) : ""
    var x = rect.x + 1
    if !title.isEmpty {
      x = grid.put(title, x: x, y: y, in: rect, style: bar)
      x = grid.put(separator, x: x, y: y, in: rect, style: TextStyle(.title, reverse: true))
    }
    for (i, part) in parts.enumerated() {
      if i > 0 { x = grid.put(separator, x: x, y: y, in: rect, style: TextStyle(.title, reverse: true)) }
      x = grid.put(part.0, x: x, y: y, in: rect, style: part.1)
    }
  }
}
