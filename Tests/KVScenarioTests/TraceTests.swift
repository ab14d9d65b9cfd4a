import Foundation
import KVEngine
import Testing

@testable import KVScenario

// MARK: - Helpers

private let schedulerYAML = """
  name: trace test
  description: "a paged run with a prefix cache and preemption"
  cache: {pages: 12, page_size: 4}
  scheduler: {policy: paged, max_batch: 4, prefix_cache: true, on_oom: preempt}
  requests:
    - {id: A, arrive: 0, prompt: [1, 2, 3, 4, 5, 6, 7, 8, 9], output: 6}
    - {id: B, arrive: 1, prompt: [1, 2, 3, 4, 5, 6, 7, 8, 1, 1], output: 5}
    - {id: C, arrive: 2, prompt: {blocks: [3, 4], block_size: 4, length: 7}, output: 4}
    - {id: D, arrive: 3, prompt: 6, output: 3}
  events:
    - {at: 9, abort: D}
  """

private let opsYAML = """
  name: ops trace
  cache: {pages: 4, page_size: 16}
  scheduler: {policy: astrai-seed}
  ops: [alloc, alloc, {free: 0}, {alloc_n: 2}, {inc_ref: 1}, {free: 1}, {free: 1}]
  """

private func scenario(_ yaml: String) throws -> Scenario { try ScenarioLoader.parse(yaml, file: "t.yaml") }

private func temporaryPath(_ name: String) -> String {
  let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
    "kvscope-trace-tests-\(ProcessInfo.processInfo.processIdentifier)")
  try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  return directory.appendingPathComponent("\(name)-\(UUID().uuidString).kvtrace").path
}

private func lines(_ path: String) throws -> [String] {
  try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
    .map(String.init)
}

private func write(_ lines: [String], to path: String, newline: Bool = true) throws {
  try (lines.joined(separator: "\n") + (newline ? "\n" : "")).write(
    toFile: path, atomically: false, encoding: .utf8)
}

/// Every state of a timeline as JSON records.
private func records(_ timeline: Timeline) -> [StateRecord] {
  timeline.states(0...timeline.totalSteps).map(StateRecord.init)
}

/// The error reading the trace at `path` fails with.
private func readError(_ path: String, partial: Bool = false) -> ScenarioError? {
  do {
    _ = try TraceReader.read(path: path, partial: partial)
    return nil
  } catch {
    return error
  }
}

/// A live session simulated on a timeline with a recorder attached, as `LiveSession` drives it.
private struct Session {
  var timeline: Timeline
  let recorder: TraceRecorder

  init(_ scenario: Scenario, path: String) throws {
    timeline = Timeline(scenario: scenario, interval: 8)
    recorder = try TraceRecorder(path: path, timeline: timeline, kvscopeVersion: "0.1.0")
  }

  mutating func seek(_ step: Int) throws {
    timeline.seek(to: step)
    try recorder.catchUp(timeline, to: timeline.current.step)
  }

  mutating func apply(_ action: UserAction) throws {
    let step = timeline.apply(action)
    try recorder.applied(step: step, action: action, timeline: timeline)
    try recorder.catchUp(timeline, to: timeline.current.step)
  }
}

/// Records a session with actions, a step back and a rewritten future; returns the final timeline.
private func recordSession(to path: String) throws -> Timeline {
  var session = try Session(scenario(schedulerYAML), path: path)
  try session.seek(5)
  try session.apply(
    .addRequest(RequestSpec(id: "E", arrive: 1, prompt: .tokens([1, 2, 3, 4, 9]), output: 3)))
  try session.seek(20)
  try session.apply(.abort("B"))
  // Back before the abort: the abort and the steps after 12 are dropped, a new future is written.
  try session.seek(12)
  try session.apply(.addRequest(RequestSpec(id: "F", arrive: 2, prompt: .length(5), output: 2)))
  try session.seek(30)
  try session.apply(.abort("A"))
  try session.seek(25)
  try session.recorder.finish(session.timeline)
  return session.timeline
}

// MARK: - Round trips

@Suite("Trace format")
struct TraceTests {
  @Test("record then replay gives identical states at every step")
  func recordThenReplay() throws {
    let path = temporaryPath("session")
    let recorded = try recordSession(to: path)
    #expect(recorded.actions.count == 3)

    let trace = try TraceReader.read(path: path)
    #expect(trace.scenario == recorded.scenario)
    #expect(trace.actions == recorded.actions)
    #expect(trace.recordedBy == "0.1.0")
    #expect(
      trace.end
        == TraceEnd(
          steps: recorded.totalSteps, done: true, reason: recorded.final.endReason.map(TraceEnd.code)))
    #expect(trace.steps.map(\.step) == Array(1...recorded.totalSteps))

    let replayed = Timeline(scenario: trace.scenario, actions: trace.actions)
    #expect(replayed.totalSteps == recorded.totalSteps)
    #expect(records(replayed) == records(recorded))
    // The step lines agree with the recorded run, step by step.
    let states = recorded.states(1...recorded.totalSteps)
    #expect(trace.steps == states.map(TraceStep.init))
    #expect(TraceVerifier.verify(trace) == .verified(steps: recorded.totalSteps))
  }

  @Test("an action line drops the step lines after it and later actions")
  func actionRewritesFuture() throws {
    let path = temporaryPath("rewrite")
    _ = try recordSession(to: path)
    let all = try lines(path).filter { !$0.isEmpty }
    let actionLines = all.filter { $0.contains("\"type\":\"action\"") }
    // E given at 5, abort B at 20 (dropped later), F at 12, abort A at 30; each runs at the end of the
    // operation under way: after steps 7, 13 and 36.
    #expect(actionLines.count == 4)
    #expect(actionLines[1].contains("\"abort\":\"B\""))
    let trace = try TraceReader.read(path: path)
    #expect(trace.actions.keys.sorted() == [7, 13, 36])
  }

  @Test("recording started mid-session keeps the actions taken before")
  func recordingStartsLate() throws {
    var timeline = Timeline(scenario: try scenario(schedulerYAML))
    timeline.seek(to: 4)
    timeline.apply(.addRequest(RequestSpec(id: "E", arrive: 1, prompt: .length(3), output: 2)))
    timeline.seek(to: 10)
    timeline.apply(.abort("A"))
    timeline.seek(to: 3)
    let path = temporaryPath("late")
    let recorder = try TraceRecorder(path: path, timeline: timeline, kvscopeVersion: "0.1.0")
    // Killed here: no step past 3, no end line, but both actions are in the file.
    let early = try TraceReader.read(path: path)
    #expect(early.actions == timeline.actions)
    #expect(early.steps.count == 3)
    #expect(early.end == nil)
    #expect(TraceVerifier.verify(early) == .verified(steps: 3))
    try recorder.finish(timeline)
    let trace = try TraceReader.read(path: path)
    #expect(records(Timeline(scenario: trace.scenario, actions: trace.actions)) == records(timeline))
    #expect(TraceVerifier.verify(trace) == .verified(steps: timeline.totalSteps))
  }

  @Test("allocator-only scenarios record their operations", arguments: ["astrai-seed", "paged"])
  func allocatorTrace(policy: String) throws {
    let scenario = try scenario(opsYAML.replacingOccurrences(of: "astrai-seed", with: policy))
    var timeline = Timeline(scenario: scenario)
    timeline.seek(to: 2)
    timeline.apply(.pool(.free(1)))
    timeline.apply(.pool(.allocN(3)))
    timeline.seek(to: timeline.totalSteps - 2)
    timeline.apply(.pool(.incRef(7)))
    timeline.apply(.pool(.free(0)))
    timeline.apply(.pool(.free(0)))
    let path = temporaryPath("ops")
    try TraceRecorder.write(timeline, to: path, kvscopeVersion: "0.1.0")
    let trace = try TraceReader.read(path: path)
    #expect(trace.scenario == scenario)
    #expect(trace.actions == timeline.actions)
    #expect(records(Timeline(scenario: trace.scenario, actions: trace.actions)) == records(timeline))
    #expect(TraceVerifier.verify(trace) == .verified(steps: timeline.totalSteps))
    // Findings go into the step lines (a bad index; a double free or a negative refcount).
    let kinds = Set(trace.steps.flatMap { $0.findings ?? [] }.map(\.kind))
    #expect(kinds.contains("bad-frame-index"))
    #expect(kinds.contains(policy == "paged" ? "double-free" : "negative-refcount"))
  }

  @Test("the header's scenario reads back to the same scenario", arguments: [schedulerYAML, opsYAML])
  func headerRoundTrip(yaml: String) throws {
    let original = try scenario(yaml)
    let path = temporaryPath("header")
    try TraceRecorder.write(Timeline(scenario: original), to: path, kvscopeVersion: "0.1.0")
    #expect(try TraceReader.read(path: path).scenario == original)
  }

  @Test("every scenario in the repository survives the header round trip")
  func repositoryScenarios() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    var files: [String] = []
    for folder in ["scenarios", "Tests/KVViewTests"] {
      let directory = root.appendingPathComponent(folder)
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
      files += names.filter { $0.hasSuffix(".yaml") }.map { directory.appendingPathComponent($0).path }
    }
    for file in files {
      guard let original = try? ScenarioLoader.load(path: file) else { continue }
      let json = ScenarioJSON.line(original)
      let back = try ScenarioLoader.parse(json, file: file)
      #expect(back == original, "\(file)")
    }
  }

  @Test("large pools write the touched frames and the free count, not the whole mask")
  func largePoolLines() throws {
    let small = try scenario(schedulerYAML)
    var large = small
    large.cache.pages = TraceFormat.fullMaskLimit + 1
    var state = EngineState(scenario: large)
    for _ in 0..<6 { state.advance() }
    let step = TraceStep(state)
    #expect(step.freeMask == nil)
    #expect(step.free == state.pool.freeCount)
    var smallState = EngineState(scenario: small)
    smallState.advance()
    #expect(TraceStep(smallState).freeMask?.count == 12)
  }

  // MARK: - Verify

  @Test("--verify catches an edited step line")
  func verifyCatchesEditedStep() throws {
    let path = temporaryPath("edit")
    try TraceRecorder.write(
      Timeline(scenario: try scenario(schedulerYAML)), to: path, kvscopeVersion: "0.1.0")
    var all = try lines(path)
    let before = try TraceReader.read(path: path)
    // The first alloc that got a frame: `"kind":"alloc","request":"A","result":N,` becomes N + 1.
    let pattern = try Regex(#""kind":"alloc","request":"[^"]*","result":([0-9]+),"#)
    let index = try #require(all.firstIndex { $0.contains(pattern) })
    let match = try #require(all[index].firstMatch(of: pattern))
    let frame = try #require(Int(match.output[1].substring!))
    let edited = String(all[index][match.range]).replacingOccurrences(
      of: "\"result\":\(frame),", with: "\"result\":\(frame + 1),")
    all[index].replaceSubrange(match.range, with: edited)
    let step = before.steps[try #require(before.stepLines.firstIndex(of: index + 1))].step
    try write(all.filter { !$0.isEmpty }, to: path)
    let verdict = TraceVerifier.verify(try TraceReader.read(path: path))
    guard case .mismatch(let line, let mismatchStep, let field, _, _) = verdict else {
      Issue.record("expected a mismatch, got \(verdict)")
      return
    }
    #expect(line == index + 1)
    #expect(mismatchStep == step)
    #expect(field == "event.result")
    #expect(verdict.description.hasPrefix("line \(index + 1) (step \(step)): event.result: trace says"))
  }

  @Test("--verify catches an edited action")
  func verifyCatchesEditedAction() throws {
    let path = temporaryPath("edit-action")
    _ = try recordSession(to: path)
    var all = try lines(path).filter { !$0.isEmpty }
    let index = try #require(all.firstIndex { $0.contains("\"id\":\"F\"") })
    all[index] = all[index].replacingOccurrences(of: "\"output\":2", with: "\"output\":7")
    try write(all, to: path)
    let trace = try TraceReader.read(path: path)
    let verdict = TraceVerifier.verify(trace)
    guard case .mismatch(let line, _, _, _, _) = verdict else {
      Issue.record("expected a mismatch, got \(verdict)")
      return
    }
    #expect(line > index + 1)
  }

  @Test("--verify catches a changed phase, iteration or free mask")
  func verifyCatchesOtherFields() throws {
    let path = temporaryPath("fields")
    try TraceRecorder.write(
      Timeline(scenario: try scenario(schedulerYAML)), to: path, kvscopeVersion: "0.1.0")
    let all = try lines(path).filter { !$0.isEmpty }
    let index = 3
    for (from, to, field) in [
      ("\"iteration\":", "\"iteration\":9", "iteration"),
      ("\"free_mask\":\"", "\"free_mask\":\"1", "free_mask"),
    ] {
      var edited = all
      var line = edited[index].replacingOccurrences(of: from, with: to)
      if field == "free_mask" {
        // Keep the mask's length: flip its first bit.
        let mask = try #require(try TraceReader.read(path: path).steps[index - 1].freeMask)
        let flipped = (mask.first == "1" ? "0" : "1") + mask.dropFirst()
        line = edited[index].replacingOccurrences(
          of: "\"free_mask\":\"\(mask)\"", with: "\"free_mask\":\"\(flipped)\"")
      }
      edited[index] = line
      try write(edited, to: path)
      let verdict = TraceVerifier.verify(try TraceReader.read(path: path))
      guard case .mismatch(let at, _, let got, _, _) = verdict else {
        Issue.record("expected a mismatch on \(field), got \(verdict)")
        continue
      }
      #expect(at == index + 1)
      #expect(got == field)
    }
  }

  @Test("a step line past the end of the engine's run is caught")
  func verifyCatchesExtraStep() throws {
    let path = temporaryPath("extra")
    try TraceRecorder.write(Timeline(scenario: try scenario(opsYAML)), to: path, kvscopeVersion: "0.1.0")
    var all = try lines(path).filter { !$0.isEmpty }
    let end = all.removeLast()
    let last = try #require(try TraceReader.read(path: path).steps.last)
    var extra = last
    extra.step += 1
    all.append(JSONText.line(extra))
    all.append(end.replacingOccurrences(of: "\"steps\":\(last.step)", with: "\"steps\":\(last.step + 1)"))
    try write(all, to: path)
    let verdict = TraceVerifier.verify(try TraceReader.read(path: path))
    guard case .mismatch(let line, let step, let field, _, let engine) = verdict else {
      Issue.record("expected a mismatch, got \(verdict)")
      return
    }
    #expect(line == all.count - 1)
    #expect(step == last.step + 1)
    #expect(field == "step")
    #expect(engine.contains("ended"))
  }

  // MARK: - Bad files

  @Test("a truncated last line is named, and --partial reads up to the line before")
  func truncatedTrace() throws {
    let path = temporaryPath("truncated")
    try TraceRecorder.write(
      Timeline(scenario: try scenario(schedulerYAML)), to: path, kvscopeVersion: "0.1.0")
    var all = try lines(path).filter { !$0.isEmpty }
    all.removeLast()  // the end line
    let cut = all.count
    all[cut - 1] = String(all[cut - 1].prefix(all[cut - 1].count / 2))
    try write(all, to: path, newline: false)

    let error = try #require(readError(path))
    #expect(error.line == cut)
    #expect(error.message.contains("truncated line"))
    #expect(error.description.hasPrefix("\(path):\(cut): truncated line"))

    let partial = try TraceReader.read(path: path, partial: true)
    #expect(partial.lastValidLine == cut - 1)
    #expect(partial.stoppedBy?.line == cut)
    #expect(partial.end == nil)
    #expect(partial.steps.count == cut - 2)
    #expect(TraceVerifier.verify(partial) == .verified(steps: cut - 2))
  }

  @Test("garbage in the middle names its line")
  func garbageLine() throws {
    let path = temporaryPath("garbage")
    try TraceRecorder.write(
      Timeline(scenario: try scenario(schedulerYAML)), to: path, kvscopeVersion: "0.1.0")
    var all = try lines(path).filter { !$0.isEmpty }
    all[4] = "\u{1}\u{2}garbage}{"
    try write(all, to: path)
    let error = try #require(readError(path))
    #expect(error.line == 5)
    #expect(error.message.contains("not valid JSON"))
    let partial = try TraceReader.read(path: path, partial: true)
    #expect(partial.lastValidLine == 4)
    #expect(partial.steps.count == 3)
  }

  @Test(
    "bad lines get clear errors",
    arguments: [
      ("{\"type\":\"step\",\"step\":5}", "step line: required key `iteration` is missing", "iteration"),
      (
        "{\"type\":\"step\",\"step\":1,\"iteration\":0,\"phase\":\"nap\",\"event\":{\"kind\":\"start\",\"text\":\"\"}}",
        "unknown phase `nap`", "phase"
      ),
      (
        "{\"type\":\"step\",\"step\":2,\"iteration\":0,\"phase\":\"cleanup\",\"event\":{\"kind\":\"start\",\"text\":\"\"}}",
        "step 2 out of order: expected step 1", "step"
      ),
      ("{\"type\":\"dance\"}", "unknown line type `dance`", "type"),
      ("{\"step\":1}", "required key `type` is missing", "type"),
      ("[1,2]", "not valid JSON", ""),
      (
        "{\"type\":\"action\",\"step\":0,\"action\":{\"abort\":\"Z\"}}", "no request has id `Z`",
        "action.abort"
      ),
      (
        "{\"type\":\"action\",\"step\":0,\"action\":{\"op\":\"alloc\"}}", "allocator-only scenario",
        "action.op"
      ),
      (
        "{\"type\":\"action\",\"step\":0,\"action\":{\"add\":{\"id\":\"A\",\"prompt\":3,\"output\":1}}}",
        "a request with id `A` exists already", "action.add.id"
      ),
      (
        "{\"type\":\"action\",\"step\":0,\"action\":{\"add\":{\"id\":\"Q\",\"prompt\":999,\"output\":1}}}",
        "longer than the whole pool", "action.add.prompt"
      ),
      (
        "{\"type\":\"action\",\"step\":0,\"action\":{\"add\":{\"id\":\"Q\",\"prompt\":3,\"output\":-1}}}",
        "must be at least 0", "action.add.output"
      ),
      ("{\"type\":\"action\",\"step\":0,\"action\":{}}", "exactly one of", "action"),
      ("{\"type\":\"end\",\"steps\":3,\"done\":true}", "end line says 3 steps", "steps"),
      ("{\"format\":\"kvscope-trace\",\"version\":1}", "a second header", ""),
    ])
  func badLines(line: String, fragment: String, key: String) throws {
    let path = temporaryPath("bad")
    let header = JSONText.line(
      TraceHeaderJSON(kvscope: "0.1.0", scenario: ScenarioJSON(try scenario(schedulerYAML))))
    try write([header, line], to: path)
    let error = try #require(readError(path))
    #expect(error.line == 2, "\(error)")
    #expect(error.key == key, "\(error)")
    #expect(error.message.contains(fragment), "\(error)")
  }

  @Test("content after the end line is an error")
  func afterEnd() throws {
    let path = temporaryPath("after-end")
    try TraceRecorder.write(Timeline(scenario: try scenario(opsYAML)), to: path, kvscopeVersion: "0.1.0")
    var all = try lines(path).filter { !$0.isEmpty }
    all.append(all[1])
    try write(all, to: path)
    let error = try #require(readError(path))
    #expect(error.line == all.count)
    #expect(error.message.contains("after the end line"))
  }

  @Test(
    "foreign files are not traces",
    arguments: [
      ("", "empty file"),
      ("name: x\ncache: {pages: 2, page_size: 2}\n", "not a kvscope trace"),
      ("{\"timestamp\": 0, \"input_length\": 1}\n", "not a kvscope trace"),
      ("\u{0}\u{1}\u{2}binary", "not a kvscope trace"),
      ("{\"format\":\"kvscope-trace\",\"version\":3,\"scenario\":{}}\n", "version 3 is not supported"),
      ("{\"format\":\"kvscope-trace\",\"version\":1}\n", "required key `scenario` is missing"),
      ("{\"format\":\"kvscope-trace\",\"version\":1,\"scenario\":{\"cache\":{\"pa", "truncated header"),
    ])
  func foreignFiles(text: String, fragment: String) throws {
    let path = temporaryPath("foreign")
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    let error = try #require(readError(path))
    #expect(error.message.contains(fragment), "\(error)")
    if !text.isEmpty { #expect(error.line == 1, "\(error)") }
  }

  @Test("an invalid scenario in the header names the key and the column in line 1")
  func badHeaderScenario() throws {
    let path = temporaryPath("bad-header")
    let line =
      "{\"format\":\"kvscope-trace\",\"version\":1,\"kvscope\":\"0.1.0\",\"scenario\":{\"cache\":{\"pages\":0,\"page_size\":4},\"requests\":[]}}"
    try write([line], to: path)
    let error = try #require(readError(path))
    #expect(error.line == 1)
    #expect(error.key == "scenario.cache.pages")
    #expect(error.message.contains("must be between 1 and"))
    let column = line.distance(from: line.startIndex, to: line.range(of: "0,\"page_size\"")!.lowerBound) + 1
    #expect(error.column == column, "\(error)")
  }

  @Test("traces are told from scenarios by content")
  func detection() throws {
    let trace = temporaryPath("detect")
    try TraceRecorder.write(Timeline(scenario: try scenario(opsYAML)), to: trace, kvscopeVersion: "0.1.0")
    #expect(TraceFormat.isTrace(path: trace))
    let yaml = temporaryPath("detect-yaml")
    try opsYAML.write(toFile: yaml, atomically: false, encoding: .utf8)
    #expect(!TraceFormat.isTrace(path: yaml))
    let json = temporaryPath("detect-json")
    try ScenarioJSON.line(try scenario(opsYAML)).write(toFile: json, atomically: false, encoding: .utf8)
    #expect(!TraceFormat.isTrace(path: json))
    // A scenario written as JSON is a valid scenario file.
    #expect(try ScenarioLoader.load(path: json) == (try scenario(opsYAML)))
  }
}
