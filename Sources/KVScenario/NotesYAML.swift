import KVEngine

extension ScenarioYAML {
  /// The `notes:` block, one flow-style line per note; empty without notes.
  static func notes(_ notes: [ScenarioNote]) -> String {
    guard !notes.isEmpty else { return "" }
    var out = "notes:\n"
    for note in notes {
      let moment: String
      switch note.moment {
      case .step(let step): moment = "step: \(step)"
      case .iteration(let iteration): moment = "iteration: \(iteration)"
      case .event(let kind, let request, let nth):
        let event = request.map { "\(kind.rawValue) \($0)" } ?? kind.rawValue
        moment = "on: \(quoted(event))" + (nth == 1 ? "" : ", nth: \(nth)")
      }
      out += "  - {\(moment), text: \(quoted(note.text))}\n"
    }
    return out
  }
}
