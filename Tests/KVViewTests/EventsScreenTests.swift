import Foundation
import Testing

@testable import KVScenario
@testable import KVView

/// The events view on the stream `kvscope events` writes for `scenarios/vllm-v1-walkthrough.yaml`
/// (kept as `Tests/KVScenarioTests/Corpus/events/vllm-v1-walkthrough.jsonl`, which the end-to-end test
/// opens with `kvscope open --batch`).
enum EventsFixtures {
  static let file = "Tests/KVScenarioTests/Corpus/events/vllm-v1-walkthrough.jsonl"

  static func controller() throws -> EventsController {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let data = try Data(contentsOf: root.appendingPathComponent(file))
    return EventsController(history: KVEventHistory(try KVEventStream.read(data, file: file)), file: file)
  }
}

struct EventsScreenTests {
  /// Batch 6 (ts 9): C's and D's chains grow by a block each, extending their cached chains.
  @Test func goldenFrames() throws {
    var controller = try EventsFixtures.controller()
    controller.show(batch: 5)
    let text = controller.render(width: 120, height: 40).text
    #expect(text.contains("batch 6/8") && text.contains("+ stored 1 block, 4 tok"))
    Golden.check("events-walkthrough-batch6-120x40", text)
    Golden.check("events-walkthrough-batch6-80x24", controller.render(width: 80, height: 24).text)
    controller.show(batch: 0)
    controller.unicode = false
    Golden.check("events-walkthrough-batch1-ascii-80x24", controller.render(width: 80, height: 24).text)
  }

  @Test("keys step and jump between batches, fold the tree, open help and quit")
  func keys() throws {
    var controller = try EventsFixtures.controller()
    let removals = controller.history.summaries.indices.filter {
      controller.history.summaries[$0].removedBlocks > 0
    }
    _ = controller.handle(.character("r"))
    #expect(controller.batch == removals[0])
    _ = controller.handle(.character("r"))
    #expect(controller.batch == removals[1])
    _ = controller.handle(.character("R"))
    #expect(controller.batch == removals[0])
    _ = controller.handle(.character("l"))
    #expect(controller.batch == removals[0] + 1)
    _ = controller.handle(.character("G"))
    #expect(controller.batch == controller.count - 1)
    _ = controller.handle(.right)
    #expect(controller.message?.text == "the last batch; g goes to the first")
    _ = controller.handle(.character("c"))
    #expect(controller.message?.text == "no batch after this one clears the cache")
    _ = controller.handle(.character("g"))
    #expect(controller.batch == 0)
    _ = controller.handle(.character("f"))
    #expect(!controller.folded)
    _ = controller.handle(.character("?"))
    #expect(controller.render(width: 120, height: 40).text.contains("next/previous batch that stores"))
    _ = controller.handle(.character("l"))
    #expect(controller.batch == 0 && controller.showHelp)
    _ = controller.handle(.escape)
    #expect(!controller.showHelp)
    #expect(controller.handle(.character("q")) == [.quit])
    #expect(controller.render(width: 79, height: 24).text.contains("terminal too small"))
  }

  /// Folding: a run of single-child blocks is one row; a branch is indented under its parent.
  @Test func treeRows() throws {
    let text = """
      {"ts": 0, "events": [{"type": "BlockStored", "block_hashes": ["a", "b", "c", "d"], "parent_block_hash": null, "token_ids": [1,2,3,4,5,6,7,8], "block_size": 2}]}
      {"ts": 1, "events": [{"type": "BlockStored", "block_hashes": ["x"], "parent_block_hash": "c", "token_ids": [9,9], "block_size": 2}]}
      """
    let history = KVEventHistory(try KVEventStream.read(Data(text.utf8), file: "t"))
    let tree = history.tree(after: 1)
    let folded = PrefixTreeRows(tree: tree, folded: true).rows
    #expect(folded.map(\.node.hash) == ["b", "c", "d", "x"])
    #expect(folded.map(\.blocks) == [2, 1, 1, 1] && folded.map(\.tokens) == [4, 2, 2, 2])
    #expect(folded.map(\.indent) == [0, 0, 1, 1])
    #expect(PrefixTreeRows(tree: tree, folded: false).rows.count == 5)
  }
}
