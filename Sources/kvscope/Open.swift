import ArgumentParser
import Foundation
import KVScenario
import KVTerminal
import KVView

/// `kvscope open events.jsonl`: a recorded KV cache event stream, batch by batch.
struct Open: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "View a recorded KV cache event stream (vLLM, SGLang, TensorRT-LLM) batch by batch.",
    discussion: """
      The cached blocks as a prefix tree with their token counts, the stores and removals of each batch, and
      the resident set over time. The format is detected from the first record: vllm (events {"type":
      "BlockStored", ...}), vllm-array (positional events ["BlockStored", hashes, parent, tokens, size, lora,
      medium]), sglang (the positional form without medium) or trtllm ({"event_id", "data": {"type": "stored",
      ...}}). Without a terminal, prints a summary; --batch N prints the view at batch N as text.
      Exit status: 0, or 2 on bad input.
      """
  )

  @Argument(help: "An event stream (JSON Lines).")
  var file: String

  @Option(help: "The format (\(KVEventFormat.names)); detected from the first record when not given.")
  var format: String?

  @Option(help: "Print the view at this batch (1 = the first) as text, and exit.")
  var batch: Int?

  @Option(help: "The size of the text of --batch, WIDTHxHEIGHT.")
  var size = "120x40"

  @OptionGroup var display: DisplayOptions

  func run() throws {
    let history = KVEventHistory(stream())
    var controller = EventsController(history: history, file: file)
    if let batch {
      guard let (width, height) = Input.size(size) else {
        Input.fail("--size must be WIDTHxHEIGHT, got '\(size)'")
      }
      guard (1...max(1, controller.count)).contains(batch), controller.count > 0 else {
        Input.fail("--batch must be between 1 and \(controller.count), got \(batch)")
      }
      controller.show(batch: batch - 1)
      controller.unicode = !display.ascii
      print(controller.render(width: width, height: height).text)
      return
    }
    guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1 else {
      print(Self.summary(history, file: file))
      return
    }
    let terminal = ViewTerminal.open(
      display: display, view: "the events view",
      instead: "Use `kvscope open FILE --batch N` for a batch as text.")
    defer { terminal.close() }
    controller.unicode = display.unicode(on: terminal)
    while true {
      terminal.draw(controller.render(width: terminal.width, height: terminal.height))
      guard let key = terminal.readKey(timeoutMilliseconds: -1) else { continue }
      if controller.handle(key).contains(.quit) { return }
      if case .control("l") = key { terminal.redrawAll() }
    }
  }

  /// The stream, or a clear failure.
  private func stream() -> KVEventStream {
    var chosen: KVEventFormat?
    if let format {
      guard let known = KVEventFormat(rawValue: format) else {
        Input.fail("--format must be one of \(KVEventFormat.names), got '\(format)'")
      }
      chosen = known
    }
    guard let data = FileManager.default.contents(atPath: file) else { Input.fail("\(file): no such file") }
    do {
      return try KVEventStream.read(data, file: file, format: chosen)
    } catch {
      Input.fail("\(error)")
    }
  }

  /// The text printed without a terminal: batches, stores, removals, the final resident set and the
  /// deepest chain.
  static func summary(_ history: KVEventHistory, file: String) -> String {
    let stream = history.stream
    let s = history.summaries
    let last = stream.batches.count - 1
    let stored = s.reduce(0) { $0 + $1.storedBlocks }
    let removed = s.reduce(0) { $0 + $1.removedBlocks }
    let unknown = s.reduce(0) { $0 + $1.unknownRemovals }
    let deepest = history.deepestChain(after: last)
    let peak = s.indices.max { s[$0].resident < s[$1].resident }
    var lines = [
      "events:      \(file), \(stream.format.title)",
      "batches:     \(stream.batches.count)"
        + (stream.batches.isEmpty ? "" : ", ts \(stream.batches[0].ts) to \(stream.batches[last].ts)"),
      "stored:      \(stored) blocks, in \(s.filter { $0.storedBlocks > 0 }.count) of the batches",
      "removed:     \(removed) blocks, in \(s.filter { $0.removedBlocks > 0 }.count) of the batches"
        + (unknown > 0 ? " (\(unknown) not resident when removed)" : ""),
      "cleared:     \(s.filter(\.cleared).count) times",
      "resident:    \(s.last?.resident ?? 0) blocks at the end"
        + (peak.map { ", peak \(s[$0].resident) after batch \($0 + 1)" } ?? ""),
      "deepest:     \(deepest.blocks) blocks, \(deepest.tokens) tokens at the end",
      "reuse:       \(s.reduce(0) { $0 + $1.branched }) stores branch off a chain another sequence cached (prefix hits), "
        + "\(s.reduce(0) { $0 + $1.extended }) extend a cached chain (a hit or the same request)",
      "not in the events: physical block ids, refcounts, request ids",
    ]
    if s.contains(where: { $0.otherEvents > 0 }) {
      lines.insert("other:       \(s.reduce(0) { $0 + $1.otherEvents }) created/updated events", at: 5)
    }
    return lines.joined(separator: "\n")
  }
}
