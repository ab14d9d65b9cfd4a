import ArgumentParser
import Foundation
import KVEngine
import KVScenario

/// `kvscope import requests LOG -o scenario.yaml`: a request log from any server.
struct ImportRequests: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "requests",
    abstract: "Turn a request log (CSV or JSON Lines) into a scenario.",
    discussion: """
      Each row gives an arrival time, a prompt length and an output length. The columns are found by
      name (Azure LLM inference traces: TIMESTAMP, ContextTokens, GeneratedTokens; Mooncake:
      timestamp, input_length, output_length, hash_ids; vLLM benchmark rows: input_len, output_len; a
      vLLM benchmark result object with input_lens and output_lens arrays, all arriving at once) or
      given with --timestamp-column, --prompt-column, --output-column. Times are numbers (--time-unit ms
      or s) or date-times (2023-11-16 18:17:03.9799600, ISO 8601; UTC unless they carry an offset).
      Without hash ids every prompt is distinct; with them, equal ids are equal 512-token blocks.
      A bad row stops the import with its line, column and reason, or with --skip-bad is counted and left
      out. The slice, pool and scheduler options are those of `import mooncake`. Exit status: 0 ok, 2 bad input.
      """
  )

  @Argument(help: "The request log (CSV with a header row, JSON Lines, or a vLLM benchmark result).")
  var log: String

  @Option(help: "The column (or JSON key) of the arrival time.")
  var timestampColumn: String?

  @Option(help: "The column (or JSON key) of the prompt length.")
  var promptColumn: String?

  @Option(help: "The column (or JSON key) of the output length.")
  var outputColumn: String?

  @Option(help: "The unit of numeric times: ms or s.")
  var timeUnit: String = "ms"

  @Flag(help: "Leave out bad rows (and say how many) instead of failing on the first.")
  var skipBad = false

  @OptionGroup var common: ImportOptions

  func run() throws {
    guard let unit = RequestLogImporter.TimeUnit(rawValue: timeUnit) else {
      Input.fail("--time-unit must be ms or s, got '\(timeUnit)'")
    }
    guard FileManager.default.fileExists(atPath: log), let data = FileManager.default.contents(atPath: log)
    else {
      Input.fail("\(log): no such file")
    }
    let parsed: RequestLogImporter.Parsed
    do {
      parsed = try RequestLogImporter.parse(
        data, file: log,
        columns: .init(timestamp: timestampColumn, prompt: promptColumn, output: outputColumn), unit: unit,
        skipBad: skipBad)
    } catch {
      Input.fail("\(error)")
    }
    if !parsed.skipped.isEmpty {
      Input.warn(
        "skipped \(parsed.skipped.count) bad row\(parsed.skipped.count == 1 ? "" : "s"); the first: \(parsed.skipped[0])"
      )
    }
    guard !parsed.records.isEmpty else { Input.fail("\(log): no request in the log") }
    common.write(parsed.records, source: log, kind: .requestLog, command: "requests")
  }
}
