import ArgumentParser
import Foundation
import KVEngine
import KVScenario
import KVText

/// `kvscope import FORMAT ...`: turns a workload trace into a scenario.
struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Turn a real workload trace into a scenario file.",
    subcommands: [ImportMooncake.self, ImportRequests.self]
  )
}

/// `kvscope import mooncake TRACE.jsonl -o scenario.yaml`.
struct ImportMooncake: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mooncake",
    abstract: "Turn a Mooncake trace (JSON Lines) into a scenario.",
    discussion: """
      Each line {timestamp (ms), input_length, output_length, hash_ids} becomes a request `r<line>` that
      arrives at iteration floor((timestamp - first timestamp of the slice) / --iteration-ms), with the
      prompt {blocks: hash_ids, block_size: 512, length: input_length}: equal hash ids give equal token
      blocks and so real prefix-cache hits. The pool is --pages x --page-size, or derived like vLLM from
      --kv-memory and a model shape: pages = floor(memory / (2 * layers * kv_heads * head_dim *
      dtype_bytes * page_size)). See docs/mooncake-import.md. Exit status: 0 ok, 2 bad input.
      """
  )

  @Argument(help: "The Mooncake trace (JSON Lines).")
  var trace: String

  @OptionGroup var common: ImportOptions

  func run() throws {
    let records: [MooncakeRecord]
    do {
      records = try MooncakeImporter.read(path: trace)
    } catch {
      Input.fail("\(error)")
    }
    common.write(records, source: trace, kind: .mooncake, command: "mooncake")
  }
}

/// The options every importer shares: the slice, the pool, the scheduler and the output.
struct ImportOptions: ParsableArguments {
  @Option(name: .shortAndLong, help: "Write the scenario here (default: standard output).")
  var output: String?

  @Option(help: "Milliseconds of trace time per scheduler iteration.")
  var iterationMs: Double = 50

  @Option(help: "Keep requests with timestamp >= this (ms).")
  var from: Double?

  @Option(help: "Keep requests with timestamp < this (ms).")
  var to: Double?

  @Option(help: "Keep the first N requests (after --from/--to).")
  var limit: Int?

  @Option(help: "Frames in the pool (default 30000, or derived from --kv-memory).")
  var pages: Int?

  @Option(help: "Tokens per page.")
  var pageSize: Int = 16

  @Option(help: "KV cache memory budget, such as 40GiB or 20GB; derives --pages with the model shape.")
  var kvMemory: String?

  @Option(help: "Model shape preset for --kv-memory: llama-3-8b, llama-3-70b, qwen2.5-7b.")
  var model: String?

  @Option(help: "Layers (with --kv-memory).")
  var layers: Int?

  @Option(help: "KV heads per layer (with --kv-memory).")
  var kvHeads: Int?

  @Option(help: "Head dimension (with --kv-memory).")
  var headDim: Int?

  @Option(help: "Bytes per KV element (2 for fp16/bf16, 1 for fp8).")
  var dtypeBytes: Int?

  @Option(help: "Most requests active at once (max_num_seqs).")
  var maxBatch: Int = 256

  @Option(help: "Tokens one step may schedule (vllm-v1, nano-vllm; default: the policy's).")
  var maxBatchedTokens: Int?

  @Option(help: "Scheduler policy: \(Policies.names).")
  var policy: String = "paged"

  @Flag(help: "Turn the prefix cache off (paged).")
  var noPrefixCache = false

  @Option(help: "What a failed decode growth does: preempt, abort or wait.")
  var onOom: String = "preempt"

  @Option(help: "Stop the run after this many iterations.")
  var maxIterations: Int?

  @Option(help: "The scenario's name.")
  var name: String?

  @Flag(
    help:
      "Leave out requests that cannot run in the pool (a prompt and output longer than it; under vllm-v1 and nano-vllm also no output) instead of failing."
  )
  var skipOversized = false

  /// The import options, and the sizing formula when the pool comes from --kv-memory.
  func options() -> (MooncakeImportOptions, sizing: String?) {
    var options = MooncakeImportOptions()
    options.iterationMs = iterationMs
    options.from = from
    options.to = to
    options.limit = limit
    options.pageSize = pageSize
    options.maxBatch = maxBatch
    options.name = name
    options.skipOversized = skipOversized
    options.prefixCache = !noPrefixCache
    options.maxBatchedTokens = maxBatchedTokens
    if let maxIterations { options.maxIterations = maxIterations }
    guard let policy = PolicyID(rawValue: policy) else {
      Input.fail("--policy must be one of \(Policies.names), got '\(self.policy)'")
    }
    options.policy = policy
    guard let onOOM = OOMAction(rawValue: onOom) else {
      Input.fail(
        "--on-oom must be one of \(OOMAction.allCases.map(\.rawValue).joined(separator: ", ")), got '\(onOom)'"
      )
    }
    options.onOOM = onOOM
    var sizing: String?
    if let kvMemory {
      if pages != nil { Input.fail("--pages and --kv-memory cannot be combined") }
      guard let bytes = KVCacheShape.parseBytes(kvMemory) else {
        Input.fail("--kv-memory must be a size such as 40GiB, 20GB or 1073741824, got '\(kvMemory)'")
      }
      let shape = self.shape()
      guard let perPage = shape.bytesPerPage(pageSize: pageSize), perPage > 0,
        let derived = shape.pages(memoryBytes: bytes, pageSize: pageSize)
      else {
        Input.fail("the model shape gives no valid page size in bytes")
      }
      options.pages = derived
      sizing =
        "pages = floor(\(bytes) B / (2 x \(shape.layers) layers x \(shape.kvHeads) kv_heads x \(shape.headDim) head_dim x \(shape.dtypeBytes) B x \(pageSize) tokens = \(perPage) B)) = \(derived)"
    } else {
      if model != nil || layers != nil || kvHeads != nil || headDim != nil || dtypeBytes != nil {
        Input.fail(
          "--model, --layers, --kv-heads, --head-dim and --dtype-bytes size the pool with --kv-memory")
      }
      if let pages { options.pages = pages }
    }

    return (options, sizing)
  }

  /// Makes the scenario of `records` and writes it, with a summary on standard error.
  func write(
    _ records: [MooncakeRecord], source trace: String, kind: MooncakeImportOptions.SourceKind, command: String
  ) {
    var (options, sizing) = self.options()
    options.sourceKind = kind
    let result: MooncakeImport
    do {
      result = try MooncakeImporter.makeScenario(records, options: options, source: trace)
    } catch {
      Input.fail("\(error)")
    }
    var comments = [
      "Generated by kvscope \(KVScope.version): kvscope import \(command) \(CommandLine.arguments.dropFirst(3).joined(separator: " "))",
      "Source: \(trace), \(result.scenario.requests.count) of \(records.count) requests.",
      "arrive = floor((timestamp - \(MooncakeImporter.format(result.startTimestamp)) ms) / \(MooncakeImporter.format(iterationMs)) ms per iteration)",
    ]
    if let sizing { comments.append(sizing) }
    let text = ScenarioYAML.text(result.scenario, comments: comments)
    Input.write(text, to: output)
    let last = result.scenario.requests.map(\.arrive).max() ?? 0
    var summary =
      "imported \(result.scenario.requests.count) requests (lines \(result.lines.first!)-\(result.lines.last!)), arrivals over iterations 0-\(last); "
      + "\(result.scenario.cache.pages) pages x \(result.scenario.cache.pageSize) tokens; "
      + "\(result.distinctBlocks) distinct blocks, \(result.repeatedBlocks) repeated block references"
    if !result.skipped.isEmpty {
      summary +=
        "; skipped \(result.skipped.count) oversized (lines \(result.skipped.prefix(5).map(String.init).joined(separator: ", "))\(result.skipped.count > 5 ? ", ..." : ""))"
    }
    if let output { summary += "; wrote \(output)" }
    Input.warn(summary)
  }

  func shape() -> KVCacheShape {
    var shape: KVCacheShape
    if let model {
      guard let preset = KVCacheShape.presets.first(where: { $0.name == model.lowercased() }) else {
        Input.fail(
          "--model must be one of \(KVCacheShape.presets.map(\.name).joined(separator: ", ")), got '\(model)'"
        )
      }
      shape = preset.shape
    } else {
      guard let layers, let kvHeads, let headDim else {
        Input.fail("--kv-memory needs --model, or --layers, --kv-heads and --head-dim")
      }
      shape = KVCacheShape(layers: layers, kvHeads: kvHeads, headDim: headDim)
    }
    if let layers { shape.layers = layers }
    if let kvHeads { shape.kvHeads = kvHeads }
    if let headDim { shape.headDim = headDim }
    if let dtypeBytes { shape.dtypeBytes = dtypeBytes }
    for (name, value) in [
      ("--layers", shape.layers), ("--kv-heads", shape.kvHeads), ("--head-dim", shape.headDim),
      ("--dtype-bytes", shape.dtypeBytes),
    ]
    where value < 1 {
      Input.fail("\(name) must be at least 1, got \(value)")
    }
    return shape
  }
}
