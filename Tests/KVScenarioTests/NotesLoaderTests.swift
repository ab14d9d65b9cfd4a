import KVEngine
import Testing

@testable import KVScenario

/// `notes`: each a sentence and its moment; bad ones name their file, line, column and key.
struct NotesLoaderTests {
  static let head = """
    cache: {pages: 8, page_size: 64}
    requests:
      - {id: A, arrive: 0, prompt: 120, output: 60}
      - {id: B, arrive: 1, prompt: 90, output: 40}
    notes:

    """

  @Test func everyMomentParses() throws {
    let scenario = try ScenarioLoader.parse(
      Self.head + """
          - step: 0
            text: Eight empty frames.
          - {iteration: 3, text: Iteration three.}
          - on: preempt
            text: The first preemption.
          - on: admit A
            text: >
              A is admitted:
              two pages.
          - {on: free A, nth: 3, text: "A's third page goes back: mask 11110011."}
        """, file: "t.yaml")
    #expect(
      scenario.notes == [
        ScenarioNote(.step(0), text: "Eight empty frames."),
        ScenarioNote(.iteration(3), text: "Iteration three."),
        ScenarioNote(.event(.preempt, request: nil, nth: 1), text: "The first preemption."),
        ScenarioNote(.event(.admit, request: "A", nth: 1), text: "A is admitted: two pages."),
        ScenarioNote(.event(.free, request: "A", nth: 3), text: "A's third page goes back: mask 11110011."),
      ])
  }

  @Test func writingBackKeepsTheNotes() throws {
    let scenario = try ScenarioLoader.parse(
      Self.head + """
          - {step: 55, text: "A grows: 11100000"}
          - {iteration: 7, text: yes}
          - {on: admit B, nth: 2, text: "B, again"}
          - {on: finish, text: "Done: \\"quoted\\" # not a comment"}
        """, file: "t.yaml")
    let written = ScenarioYAML.text(scenario)
    #expect(written.contains("notes:\n  - {step: 55, text: \"A grows: 11100000\"}\n"))
    #expect(try ScenarioLoader.parse(written, file: "back.yaml").notes == scenario.notes)
  }

  @Test func anAllocatorScenarioKeepsItsNotes() throws {
    let yaml = """
      cache: {pages: 4, page_size: 64}
      ops: [alloc, {free: 0}]
      notes:
        - {on: free, text: Frame 0 is free again.}
      """
    let scenario = try ScenarioLoader.parse(yaml, file: "t.yaml")
    #expect(
      scenario.notes == [ScenarioNote(.event(.free, request: nil, nth: 1), text: "Frame 0 is free again.")])
    #expect(try ScenarioLoader.parse(ScenarioYAML.text(scenario), file: "back.yaml") == scenario)
  }

  @Test func badNotesNameTheirPlace() {
    // Lines: 1-4 the head, 5 `notes:`, 6 the first note.
    expectError(
      Self.head + "  - {at: 5, text: x}\n", line: 6, column: 6, key: "notes[0].at",
      "unknown key `at`; allowed: step, iteration, on, nth, text")
    expectError(
      Self.head + "  - {on: grow A, text: x}\n", line: 6, column: 10, key: "notes[0].on",
      "unknown event `grow`; expected an event, optionally with a request id: one of alloc, free, evict, preempt, admit, finish"
    )
    expectError(
      Self.head + "  - {on: admit Z, text: x}\n", line: 6, column: 10, key: "notes[0].on",
      "no request has id `Z`")
    expectError(
      Self.head + "  - {step: -1, text: x}\n", line: 6, column: 12, key: "notes[0].step",
      "must be at least 0, got -1")
    expectError(
      Self.head + "  - {step: soon, text: x}\n", line: 6, column: 12, key: "notes[0].step",
      "expected an integer, found the string \"soon\"")
    expectError(
      Self.head + "  - {text: x}\n", line: 6, column: 5, key: "notes[0]",
      "a note needs its moment: `step: N`, `iteration: N` or `on: EVENT`")
    expectError(
      Self.head + "  - {step: 3, on: preempt, text: x}\n", line: 6, column: 15, key: "notes[0].on",
      "a note has one moment; found both `step` and `on`")
    expectError(
      Self.head + "  - {step: 3, nth: 2, text: x}\n", line: 6, column: 15, key: "notes[0].nth",
      "`nth` counts events")
    expectError(
      Self.head + "  - {on: preempt, nth: 0, text: x}\n", line: 6, column: 24, key: "notes[0].nth",
      "must be between 1 and 1000000000, got 0")
    expectError(
      Self.head + "  - {step: 3}\n", line: 6, column: 5, key: "notes[0].text", "required key `text`")
    expectError(
      Self.head + "  - {step: 3, text: \"  \"}\n", line: 6, column: 21, key: "notes[0].text",
      "must not be empty")
    expectError(Self.head + "  step: 3\n", line: 6, column: 3, key: "notes", "expected a list of notes")
    expectError(
      """
      cache: {pages: 4, page_size: 64}
      ops: [alloc]
      notes: [{on: admit, text: x}]
      """, line: 3, column: 14, key: "notes[0].on",
      "an allocator-only scenario has no `admit` events; allowed: alloc, free")
  }
}
