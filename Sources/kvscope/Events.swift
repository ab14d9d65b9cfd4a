import ArgumentParser
import Foundation
import KVEngine
import KVScenario

/// `kvscope events FILE -o events.jsonl` and `kvscope events diff A B`.
struct Events: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the KV cache events a vllm-v1 run publishes, or compare two event streams.",
    subcommands: [EventsExport.self, EventsDiff.self],
    defaultSubcommand: EventsExport.self
  )
}

/// `kvscope events FILE [--format vllm] [-o events.jsonl]`.
struct EventsExport: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Write the KV cache events of a vllm-v1 run, in the shape of vLLM's KVEventBatch.",
    discussion: """
      One JSON line per engine step with events: {"ts": ITERATION, "events": [...], "data_parallel_rank":
      null}, events {"type": "BlockStored", "block_hashes", "parent_block_hash", "token_ids", "block_size",
      "lora_id", "medium", "lora_name"} and {"type": "BlockRemoved", "block_hashes", "medium"}. Block hashes
      are vLLM's sha256_cbor hashes (NONE_HASH from the seed "vllm-none-hash", as vLLM uses without
      PYTHONHASHSEED) as the events carry them by default: the last 8 bytes as an integer. A server run with
      --prefix-caching-hash-algo sha256_cbor on the same token ids publishes the same hashes.
      """
  )

  @Argument(help: "A scenario file (YAML).")
  var file: String

  @Option(help: "The event format: vllm.")
  var format: String = "vllm"

  @Option(help: "Run under this policy instead of the scenario's (events need vllm-v1).")
  var policy: String?

  @Option(name: .shortAndLong, help: "Write the events here (default: standard output).")
  var output: String?

  func run() throws {
    guard format == "vllm" else { Input.fail("--format must be vllm, got '\(format)'") }
    var scenario = Input.source(file).scenario
    if let policy { scenario = Input.scenario(scenario, under: policy, file: file) }
    guard scenario.scheduler.policy == .vllmV1 else {
      Input.fail(
        "\(file): events follow the vllm-v1 policy, not \(scenario.scheduler.policy); add --policy vllm-v1")
    }
    if !scenario.scheduler.prefixCache {
      Input.warn("\(file): prefix_cache is off: vLLM publishes no events")
    }
    var text = ""
    for batch in VLLMEvents.batches(scenario) { text += VLLMEvents.line(batch) + "\n" }
    Input.write(text, to: output)
  }
}

/// `kvscope events diff A.jsonl B.jsonl`.
struct EventsDiff: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "The first batch where two KV event streams disagree.",
    discussion: "Exit status: 0 when they agree, 1 when they differ, 2 on bad input."
  )

  @Argument(help: "The first event stream (JSON Lines).")
  var a: String

  @Argument(help: "The second event stream (JSON Lines).")
  var b: String

  func run() throws {
    func read(_ path: String) -> [RecordedBatch] {
      guard let data = FileManager.default.contents(atPath: path) else { Input.fail("\(path): no such file") }
      do {
        return try KVEventStream.read(data, file: path).batches
      } catch {
        Input.fail("\(error)")
      }
    }
    let x = read(a)
    let y = read(b)
    if let lines = VLLMEvents.difference(x, y, names: (a, b)) {
      print(lines.joined(separator: "\n"))
      throw ExitCode(1)
    }
    print("the streams agree: \(x.count) batches")
  }
}
