import Foundation
import KVEngine
import Yams

/// Reads a scenario's `notes`: each a sentence and the moment it is shown from, `step: N`,
/// `iteration: N` or `on: KIND [ID]` (with `nth: N` for a later one than the first).
extension Reader {
  static let noteKeys = ["step", "iteration", "on", "nth", "text"]
  static let noteMoments = ["step", "iteration", "on"]

  /// `requests` is nil in an allocator-only scenario: its events are `alloc` and `free`, of no request.
  func notes(_ node: Node, requests: [RequestSpec]?) throws(ScenarioError) -> [ScenarioNote] {
    var result: [ScenarioNote] = []
    for (index, item) in try list(node, "notes", of: "notes").enumerated() {
      let note = try fields(item, path: "notes[\(index)]", allowed: Self.noteKeys)
      let given = Self.noteMoments.filter { note[$0] != nil }
      guard let which = given.first else {
        throw error(item, note.path, "a note needs its moment: `step: N`, `iteration: N` or `on: EVENT`")
      }
      if given.count > 1 {
        throw error(
          note.keys[given[1]], note.path(given[1]),
          "a note has one moment; found both `\(given[0])` and `\(given[1])`")
      }
      if which != "on", let nth = note.keys["nth"] {
        throw error(
          nth, note.path("nth"), "`nth` counts events: it goes with `on`, as in `on: preempt, nth: 2`")
      }
      let moment: NoteMoment
      switch which {
      case "step":
        moment = .step(try count(note["step"]!, note.path("step"), upTo: Int(Int32.max)))
      case "iteration":
        moment = .iteration(
          try count(note["iteration"]!, note.path("iteration"), upTo: Scenario.maxIteration))
      default:
        let nth =
          try note["nth"].map { (node) throws(ScenarioError) in
            try int(node, note.path("nth"), 1...1_000_000_000)
          }
          ?? 1
        moment = try event(note["on"]!, note.path("on"), nth: nth, requests: requests)
      }
      let textNode = try required(note, "text")
      let words = try text(textNode, note.path("text"), allowing: ["\n", "\t"])
        .split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
      guard !words.isEmpty else { throw error(textNode, note.path("text"), "must not be empty") }
      result.append(ScenarioNote(moment, text: words.joined(separator: " ")))
    }
    return result
  }

  /// `KIND` or `KIND ID`, such as `preempt` or `admit A`.
  private func event(_ node: Node, _ path: String, nth: Int, requests: [RequestSpec]?) throws(ScenarioError)
    -> NoteMoment
  {
    let allowedKinds = requests == nil ? [EventKind.alloc, .free] : EventKind.allCases
    let allowed = allowedKinds.map(\.rawValue).joined(separator: ", ")
    let usage =
      "an event, optionally with a request id: one of \(allowed), as in `\(requests == nil ? "free" : "admit A")`"
    guard case .scalar(let scalar) = node, Self.tagName(node) == .str else {
      throw error(node, path, "expected \(usage), found \(describe(node))")
    }
    let words = scalar.string.split(separator: " ", maxSplits: 1).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    guard let first = words.first, let kind = EventKind(rawValue: first) else {
      throw error(node, path, "unknown event `\(Self.shorten(words.first ?? ""))`; expected \(usage)")
    }
    guard allowedKinds.contains(kind) else {
      throw error(
        node, path, "an allocator-only scenario has no `\(kind.rawValue)` events; allowed: \(allowed)")
    }
    guard words.count > 1, !words[1].isEmpty else { return .event(kind, request: nil, nth: nth) }
    let id = words[1]
    guard let requests, requests.contains(where: { $0.id == id }) else {
      throw error(node, path, "no request has id `\(Self.shorten(id))`")
    }
    return .event(kind, request: id, nth: nth)
  }
}
