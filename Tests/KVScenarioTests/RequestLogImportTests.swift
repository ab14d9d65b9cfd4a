import Foundation
import KVEngine
import Testing

@testable import KVScenario

/// Request logs from any server: the common formats, times, bad rows.
@Suite("Request log import")
struct RequestLogImportTests {
  static func parse(
    _ text: String, columns: RequestLogImporter.Columns = .init(), unit: RequestLogImporter.TimeUnit = .ms,
    skipBad: Bool = false
  )
    throws(ScenarioError) -> RequestLogImporter.Parsed
  {
    try RequestLogImporter.parse(Data(text.utf8), file: "log", columns: columns, unit: unit, skipBad: skipBad)
  }

  @Test("an Azure LLM inference trace: CSV, date-time strings with 7 fractional digits")
  func azure() throws {
    let parsed = try Self.parse(
      "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:47.0000000,396,109\n"
    )
    #expect(
      parsed.records.map(\.inputLength) == [374, 396] && parsed.records.map(\.outputLength) == [44, 109])
    #expect(parsed.records.map(\.line) == [2, 3])
    // Python: datetime(2023, 11, 16, 18, 15, 46, 680590, tzinfo=timezone.utc).timestamp() * 1000.
    #expect(abs(parsed.records[0].timestamp - 1_700_158_546_680.59) < 0.01)
    #expect(abs(parsed.records[1].timestamp - parsed.records[0].timestamp - 319.41) < 0.01)
  }

  @Test("ISO 8601 with a zone, numbers in seconds, JSON Lines with vLLM benchmark names")
  func jsonLinesAndTimes() throws {
    #expect(DateTime.milliseconds("2023-11-16T18:15:46Z") == 1_700_158_546_000)
    #expect(DateTime.milliseconds("2023-11-16T20:15:46+02:00") == 1_700_158_546_000)
    #expect(DateTime.milliseconds("2023-02-30 10:00:00x") == nil)
    let parsed = try Self.parse(
      "{\"arrival_time\": 1.5, \"input_len\": 100, \"output_len\": 20}\n\n{\"arrival_time\": 2, \"input_len\": 7, \"output_len\": 1}\n",
      unit: .s)
    #expect(
      parsed.records.map(\.timestamp) == [1500, 2000] && parsed.records.map(\.inputLength) == [100, 7])
  }

  @Test("Mooncake lines keep their hash ids; a benchmark result's arrays arrive at once")
  func mooncakeAndBenchmark() throws {
    let mooncake = try Self.parse(
      "{\"timestamp\": 0, \"input_length\": 600, \"output_length\": 5, \"hash_ids\": [0, 1]}\n{\"timestamp\": 10, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": [0]}\n"
    )
    #expect(mooncake.records.map(\.hashIDs) == [[0, 1], [0]])
    let bench = try Self.parse(
      "{\"input_lens\": [10, 20, 30], \"output_lens\": [1, 2, 3], \"ttfts\": [0.1, 0.2, 0.3]}")
    #expect(
      bench.records.map(\.inputLength) == [10, 20, 30] && bench.records.allSatisfy { $0.timestamp == 0 })
    var options = MooncakeImportOptions()
    options.pages = 100
    options.sourceKind = .requestLog
    let scenario = try MooncakeImporter.makeScenario(bench.records, options: options, source: "bench.json")
      .scenario
    #expect(scenario.requests.map(\.id) == ["r1.1", "r1.2", "r1.3"])
    #expect(scenario.requests.map(\.prompt) == [.length(10), .length(20), .length(30)])
    #expect(
      scenario.description.contains("request log")
        && scenario.description.contains("every prompt is distinct"))
  }

  @Test("a bad row names its line, column and field; --skip-bad counts it")
  func badRows() throws {
    let text = "TIMESTAMP,ContextTokens,GeneratedTokens\n0,1,2\n5,x,2\n7,3\n9,4,5\n"
    do {
      _ = try Self.parse(text)
      Issue.record("expected an error")
    } catch {
      #expect(
        error.description == "log:3:3: ContextTokens: expected a token count from 0 to 100000000, got `x`")
    }
    let parsed = try Self.parse(text, skipBad: true)
    #expect(parsed.records.map(\.line) == [2, 5] && parsed.skipped.map(\.line) == [3, 4])
    #expect(parsed.skipped[1].message.contains("the row has 2 fields, the header 3"))
  }

  @Test("a missing column names the header and the flag; given columns are used")
  func columns() throws {
    do {
      _ = try Self.parse("when,in,out\n0,1,2\n")
      Issue.record("expected an error")
    } catch {
      #expect(
        error.line == 1
          && error.message.contains(
            "no timestamp column: the header has when, in, out; give it with --timestamp-column")
      )
    }
    let parsed = try Self.parse(
      "when,in,out\n0,1,2\n", columns: .init(timestamp: "when", prompt: "in", output: "out"))
    #expect(parsed.records.count == 1 && parsed.records[0].outputLength == 2)
    #expect(throws: ScenarioError.self) { _ = try Self.parse("") }
  }
}
