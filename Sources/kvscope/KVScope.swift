import ArgumentParser

@main
struct KVScope: ParsableCommand {
  static let version = "0.1.0"

  static let configuration = CommandConfiguration(
    commandName: "kvscope",
    abstract: "Watch a paged KV cache's allocator and scheduler, step by step.",
    discussion: """
      `kvscope FILE` opens a scenario in the live view. `kvscope check FILE` runs it without a terminal.
      `kvscope play FILE --record T.kvtrace` records a trace; `kvscope replay T.kvtrace [--verify]` replays it.
      `kvscope compare FILE --policy vllm-v1 --policy nano-vllm` runs it under several policies side by side.
      `kvscope export svg FILE --step N -o step.svg` draws a step for slides; `kvscope export cast` records a range.
      `kvscope open events.jsonl` shows a recorded KV cache event stream (vLLM, SGLang, TensorRT-LLM).
      Exit status: 0 ok, 1 findings (check) or a disagreement (replay --verify), 2 bad input.
      """,
    version: version,
    subcommands: [
      Play.self, Check.self, Compare.self, Frame.self, Bench.self, Replay.self, Import.self, Events.self,
      Export.self, Open.self,
    ],
    defaultSubcommand: Play.self
  )
}
