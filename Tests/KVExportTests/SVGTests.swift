import Foundation
import KVEngine
import KVScenario
import Testing

@testable import KVExport

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// Golden SVG files live next to this file under `Golden/`. A missing golden, or `KVSCOPE_RECORD=1`,
/// writes the file and fails the test so that the new picture is reviewed before it is trusted.
enum Golden {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "Golden")

  static func check(_ name: String, _ content: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let url = directory.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["KVSCOPE_RECORD"] == "1"
      || !FileManager.default.fileExists(atPath: url.path)
    {
      try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      try? content.write(to: url, atomically: true, encoding: .utf8)
      Issue.record(
        "recorded golden \(name); review it and run the tests again", sourceLocation: sourceLocation)
      return
    }
    let expected = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    if expected != content {
      let got = content.split(separator: "\n", omittingEmptySubsequences: false)
      let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
      let line =
        zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        ?? min(got.count, want.count)
      Issue.record(
        "\(name) differs at line \(line + 1):\n got: \(line < got.count ? String(got[line]) : "<none>")\nwant: \(line < want.count ? String(want[line]) : "<none>")\n(KVSCOPE_RECORD=1 rewrites goldens)",
        sourceLocation: sourceLocation)
    }
  }
}

enum Walkthrough {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  static func timeline(_ name: String = "walkthrough") throws -> Timeline {
    Timeline(scenario: try ScenarioLoader.load(path: root + "/scenarios/\(name).yaml"))
  }

  /// The seed animation's four free masks.
  static let masks = ["11111100", "11110000", "11100000", "11110011"]

  /// The first step whose free mask shows each of the animation's masks.
  static func maskSteps(_ timeline: Timeline) -> [(mask: String, step: Int)] {
    let states = timeline.states(0...timeline.totalSteps)
    return masks.compactMap { mask in
      states.first { $0.pool.freeMask.binary() == mask }.map { (mask, $0.step) }
    }
  }

  static func svg(_ timeline: Timeline, step: Int, limits: DiagramLimits = DiagramLimits()) -> String {
    CacheSVG(CacheDiagram(state: timeline.state(at: step), totalSteps: timeline.totalSteps, limits: limits))
      .xml
  }
}

/// What an XML parser saw of a document: well-formed or not, the root and its attributes, the elements.
struct ParsedXML {
  var wellFormed: Bool
  var error: String?
  var root: String?
  var rootAttributes: [String: String] = [:]
  var elements: [String: Int] = [:]
  var texts: [String] = []

  #if canImport(FoundationXML)
    private final class Collector: NSObject, XMLParserDelegate {
      var root: String?
      var rootAttributes: [String: String] = [:]
      var elements: [String: Int] = [:]
      var texts: [String] = []
      var inText = false

      func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
      ) {
        if root == nil {
          root = name
          rootAttributes = attributes
        }
        elements[name, default: 0] += 1
        if name == "text" {
          texts.append("")
          inText = true
        }
      }

      func parser(
        _ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?
      ) {
        if name == "text" { inText = false }
      }

      func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { texts[texts.count - 1] += string }
      }
    }
  #endif

  /// Parses `xml` with Foundation's XMLParser (libxml2), which rejects a document that is not well formed.
  init(_ xml: String) {
    #if canImport(FoundationXML)
      let parser = XMLParser(data: Data(xml.utf8))
      let collector = Collector()
      parser.delegate = collector
      wellFormed = parser.parse()
      error = parser.parserError.map { "\($0) at line \(parser.lineNumber)" }
      root = collector.root
      rootAttributes = collector.rootAttributes
      elements = collector.elements
      texts = collector.texts
    #else
      wellFormed = xml.hasPrefix("<?xml") && xml.hasSuffix("</svg>\n")
    #endif
  }
}

struct SVGTests {
  @Test func walkthroughGoldensAtTheFourMasks() throws {
    let timeline = try Walkthrough.timeline()
    let steps = Walkthrough.maskSteps(timeline)
    #expect(steps.map(\.mask) == Walkthrough.masks)
    for (mask, step) in steps {
      let svg = Walkthrough.svg(timeline, step: step)
      #expect(svg.contains("free_mask = \(mask) = "), "mask \(mask) at step \(step)")
      Golden.check("walkthrough-mask-\(mask).svg", svg)
    }
  }

  @Test func walkthroughSVGIsWellFormedSVG11() throws {
    let timeline = try Walkthrough.timeline()
    for (_, step) in Walkthrough.maskSteps(timeline) {
      let svg = Walkthrough.svg(timeline, step: step)
      let parsed = ParsedXML(svg)
      #expect(parsed.wellFormed, "\(parsed.error ?? "")")
      #expect(parsed.root == "svg")
      #expect(parsed.rootAttributes["version"] == "1.1")
      let width = try #require(parsed.rootAttributes["width"].flatMap { Int($0) })
      let height = try #require(parsed.rootAttributes["height"].flatMap { Int($0) })
      #expect(parsed.rootAttributes["viewBox"] == "0 0 \(width) \(height)")
      #expect(svg == Walkthrough.svg(timeline, step: step), "the same step gives the same bytes")
    }
  }

  @Test func pictureOfTheGrowthShowsTablesArrowsAndRefs() throws {
    let timeline = try Walkthrough.timeline()
    let step = try #require(Walkthrough.maskSteps(timeline).first { $0.mask == "11100000" }?.step)
    let parsed = ParsedXML(Walkthrough.svg(timeline, step: step))
    #expect(
      parsed.texts.contains("Paged KV cache walkthrough \u{2014} astrai-seed \u{2014} step \(step) of 582"))
    #expect(parsed.texts.contains("refs = [1,1,1,1,1,0,0,0]"))
    #expect(parsed.texts.contains("free_mask = 11100000 = 0xE0  (1 = free, 0 = alloc)"))
    #expect(parsed.texts.filter { $0.hasPrefix("frame ") }.count == 5, "A's three pages and B's two")
    #expect(parsed.texts.contains("A:2") && parsed.texts.contains("B:1"))
    #expect(parsed.texts.filter { $0 == "free" }.count == 3 + 1, "three free frames and the legend")
    // One arrow per page held: A's three and B's two.
    #expect(parsed.elements["path"] == 5 + 2, "five arrows and the two arrow heads")
  }

  @Test func textIsEscaped() throws {
    var scenario = try Walkthrough.timeline().scenario
    scenario.name = "a <b> & \"c\" 'd' \u{1B}[2J"
    scenario.requests[0].id = "<A&>"
    let timeline = Timeline(scenario: scenario)
    let svg = Walkthrough.svg(timeline, step: 20)
    let parsed = ParsedXML(svg)
    #expect(parsed.wellFormed, "\(parsed.error ?? "")")
    #expect(parsed.texts.contains { $0.hasPrefix("a <b> & \"c\" 'd' ?[2J") })
    #expect(parsed.texts.contains("<A&>"))
    #expect(!svg.contains("\u{1B}"))
  }

  @Test(arguments: [
    "walkthrough", "alloc-lesson", "prefix-sharing", "oom-preempt", "seed-negative-refcount",
    "vllm-v1-walkthrough", "nano-vllm-walkthrough",
  ])
  func everyPolicyDrawsWellFormedPictures(name: String) throws {
    let timeline = try Walkthrough.timeline(name)
    let queue = timeline.current.pool.order == .queue
    for step in [0, timeline.totalSteps / 3, timeline.totalSteps / 2, timeline.totalSteps] {
      let svg = Walkthrough.svg(timeline, step: step)
      let parsed = ParsedXML(svg)
      #expect(parsed.wellFormed, "\(name) step \(step): \(parsed.error ?? "")")
      #expect(parsed.texts.contains { $0.hasPrefix(queue ? "free_queue = [" : "free_mask = ") }, "\(name)")
      #expect(!parsed.texts.contains { $0.hasPrefix(queue ? "free_mask" : "free_queue") }, "\(name)")
      #expect(parsed.texts.contains { $0.hasPrefix("refs = [") })
    }
  }

  @Test func queuePoliciesShowTheFreeQueueHeadFirst() throws {
    let timeline = try Walkthrough.timeline("vllm-v1-walkthrough")
    let state = timeline.state(at: timeline.totalSteps / 2)
    let diagram = CacheDiagram(state: state, totalSteps: timeline.totalSteps)
    let queue = state.pool.freeQueue.frames.map(String.init).joined(separator: ", ")
    #expect(diagram.maskLine == "free_queue = [\(queue)]  (head first)")
    #expect(diagram.frames[0].kind == .null, "vLLM's null block")
  }

  @Test func sharedFramesNameEveryHolder() throws {
    let timeline = try Walkthrough.timeline("prefix-sharing")
    let states = timeline.states(0...timeline.totalSteps)
    let shared = try #require(
      states.first { state in
        let frames = state.requests.flatMap(\.pageTable).filter { $0 >= 0 }
        return Set(frames).count < frames.count
      })
    let diagram = CacheDiagram(state: shared, totalSteps: timeline.totalSteps)
    let held = diagram.frames.compactMap { box -> [CacheDiagram.Holder]? in
      if case .held(let holders) = box.kind, holders.count > 1 { return holders }
      return nil
    }
    #expect(!held.isEmpty)
    let svg = CacheSVG(diagram).xml
    #expect(svg.contains("shared by several tables"))
    #expect(held.allSatisfy { svg.contains("\($0[0].id):\($0[0].logical) + \($0[1].id):\($0[1].logical)") })
  }

  @Test func largePoolsAreCappedAndSaySo() {
    let requests = (0..<30).map { i in
      RequestSpec(id: "R\(i)", arrive: 0, prompt: .length(300 + i * 40), output: 5)
    }
    let scenario = Scenario(
      name: "large", cache: CacheConfig(pages: 5_000, pageSize: 16),
      scheduler: SchedulerConfig(policy: .paged, maxBatch: 30), requests: requests)
    let timeline = Timeline(scenario: scenario)
    let step = timeline.totalSteps / 2
    let state = timeline.state(at: step)
    let diagram = CacheDiagram(state: state, totalSteps: timeline.totalSteps)
    #expect(diagram.frames.count == 64)
    #expect(diagram.tables.count == 6)
    #expect(diagram.tables.allSatisfy { $0.entries.count <= 8 })
    #expect(diagram.notes.contains("frames 64-4,999 (5,000 in all)"))
    #expect(diagram.notes.contains { $0.hasSuffix("more requests holding pages") })
    #expect(diagram.maskLine.hasPrefix("free_mask[63..0] = "))
    let parsed = ParsedXML(CacheSVG(diagram).xml)
    #expect(parsed.wellFormed)
    let height = Int(parsed.rootAttributes["height"] ?? "") ?? .max
    let width = Int(parsed.rootAttributes["width"] ?? "") ?? .max
    #expect(width <= 2400 && height <= 2400, "\(width)x\(height)")
    #expect(parsed.texts.contains("not drawn: frames 64-4,999 (5,000 in all)"))
  }
}
