import Testing

@testable import KVEngine
@testable import KVText
@testable import KVView

/// Names and ids with wide characters (CJK, emoji; the loader accepts them) and zero-width ones: every
/// cell of the grid is one column on a terminal, so rows stay aligned at any width; such a character is
/// drawn as `?`, as `kvscope frame` prints it.
struct WideCharacterTests {
  static let scenario = Scenario(
    name: "漢字のシナリオ 🦀 名前", description: "説明: ｆｕｌｌｗｉｄｔｈ and zero\u{200B}width",
    cache: CacheConfig(pages: 12, pageSize: 16),
    scheduler: SchedulerConfig(policy: .paged, maxBatch: 8),
    requests: [
      RequestSpec(id: "甲", arrive: 0, prompt: .length(40), output: 6),
      RequestSpec(id: "🦀", arrive: 0, prompt: .length(20), output: 4),
      RequestSpec(id: "a\u{200B}", arrive: 1, prompt: .length(30), output: 5),
      RequestSpec(id: "한국", arrive: 1, prompt: .length(10), output: 3),
    ])

  /// A reference of the test's own (not the code under test): characters that do not take exactly one
  /// column: East Asian wide, emoji, zero-width.
  static func isNotOneColumn(_ character: Character) -> Bool {
    guard let scalar = character.unicodeScalars.first else { return true }
    switch scalar.value {
    case 0x1100...0x115F, 0x2E80...0x9FFF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFF00...0xFF60,
      0x1F300...0x1FAFF, 0x20000...0x3FFFD, 0x200B...0x200F, 0xFEFF:
      return true
    default:
      return false
    }
  }

  @Test(arguments: [(120, 40), (80, 24), (97, 31), (200, 60)])
  func everyCellIsOneColumnAtAnySize(_ size: (Int, Int)) {
    var timeline = Timeline(scenario: Self.scenario)
    for step in stride(from: 0, through: timeline.totalSteps, by: max(1, timeline.totalSteps / 6)) {
      timeline.seek(to: step)
      var view = ViewState()
      view.selectedRequest = 1
      let grid = Fixtures.render(timeline, view: view, width: size.0, height: size.1)
      let wide = grid.cells.map(\.character).filter(Self.isNotOneColumn)
      #expect(wide.isEmpty, "step \(step): \(wide)")
    }
  }

  @Test func wideNamesGolden() {
    var timeline = Timeline(scenario: Self.scenario)
    timeline.seek(to: timeline.iterationStarts.count > 2 ? timeline.iterationStarts[2] + 3 : 10)
    let grid = Fixtures.render(timeline, width: 120, height: 40)
    #expect(grid.text.contains("?"))
    Golden.check("wide-names-120x40", grid.text)
  }

  @Test func aCellIsMadeSafeWhereverItIsWritten() {
    var grid = Grid(width: 4, height: 1)
    grid.put("漢\u{1b}\u{200B}x", x: 0, y: 0)
    #expect(grid.line(0) == "???x")
    grid[3, 0] = Cell("🦀")
    #expect(grid.line(0) == "????")
  }
}
