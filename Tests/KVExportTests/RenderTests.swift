import Foundation
import Testing

@testable import KVExport

/// rsvg-convert (Debian's librsvg2-bin), a real SVG renderer.
enum Renderer {
  static let path = ["/usr/bin/rsvg-convert", "/usr/local/bin/rsvg-convert"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }

  /// Renders `svg` to PNG at its own size.
  static func png(_ svg: String) throws -> PNG {
    let directory = FileManager.default.temporaryDirectory
    let input = directory.appendingPathComponent("kvscope-render-\(UUID().uuidString).svg")
    let output = directory.appendingPathComponent("kvscope-render-\(UUID().uuidString).png")
    defer {
      try? FileManager.default.removeItem(at: input)
      try? FileManager.default.removeItem(at: output)
    }
    try svg.write(to: input, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path ?? "rsvg-convert")
    process.arguments = ["--format", "png", "--output", output.path, input.path]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw PNG.Failure(description: "rsvg-convert exited with \(process.terminationStatus)")
    }
    return try PNG(Array(try Data(contentsOf: output)))
  }
}

@Suite(.enabled(if: Renderer.path != nil, "rsvg-convert is not installed (Debian: librsvg2-bin)"))
struct RenderTests {
  @Test func growthRendersAtItsSizeInTheOwnersColours() throws {
    let timeline = try Walkthrough.timeline()
    let step = try #require(Walkthrough.maskSteps(timeline).first { $0.mask == "11100000" }?.step)
    let svg = Walkthrough.svg(timeline, step: step)
    let parsed = ParsedXML(svg)
    let png = try Renderer.png(svg)
    #expect(png.width == Int(parsed.rootAttributes["width"] ?? ""))
    #expect(png.height == Int(parsed.rootAttributes["height"] ?? ""))
    // A (request 0) fills three frames and its table, B (request 1) two frames and its table: each
    // tint covers thousands of pixels; the legend's swatches are the strong colours.
    for (owner, frames) in [(0, 3), (1, 2)] {
      #expect(png.count(Palette.tint(owner)) > frames * 4_000, "tint of owner \(owner)")
      #expect(png.count(Palette.owner(owner)) >= 100, "colour of owner \(owner)")
    }
    #expect(png.count(Palette.tint(2)) == 0, "no third owner")
    #expect(png.count("#ffffff") > png.width * png.height / 2, "a white page")
  }

  @Test func startHasNoOwnerColours() throws {
    let timeline = try Walkthrough.timeline()
    let png = try Renderer.png(Walkthrough.svg(timeline, step: 0))
    #expect(png.width >= 760)
    for owner in 0..<2 {
      #expect(png.count(Palette.tint(owner)) == 0)
      #expect(png.count(Palette.owner(owner)) == 0)
    }
  }

  @Test func afterAFinishesOnlyBsColourIsLeft() throws {
    let timeline = try Walkthrough.timeline()
    let step = try #require(Walkthrough.maskSteps(timeline).first { $0.mask == "11110011" }?.step)
    let png = try Renderer.png(Walkthrough.svg(timeline, step: step))
    #expect(png.count(Palette.tint(0)) == 0)
    #expect(png.count(Palette.tint(1)) > 2 * 4_000)
  }
}
