// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "kvscope",
  // On Apple platforms, the engine's block-key memo locks with the standard library's `Mutex`.
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "kvscope", targets: ["kvscope"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
  ],
  targets: [
    // The engine: allocator, scheduler, checker and stepping. Knows nothing of screens or files.
    .target(
      name: "KVEngine",
      dependencies: ["CPrefetch", .product(name: "DequeModule", package: "swift-collections")]
    ),
    // A cache-line prefetch hint for the engine's tables, which C can give and Swift cannot.
    .target(name: "CPrefetch"),
    // Sentences: the event log lines, finding messages and end reasons made from the engine's facts.
    .target(name: "KVText", dependencies: ["KVEngine"]),
    // Scenario files (YAML), traces (JSON Lines), state JSON and the Mooncake importer.
    .target(
      name: "KVScenario",
      dependencies: ["KVEngine", "KVText", "Yams"]
    ),
    // The screen: renders engine state into an in-memory grid of cells, and the view's key handling.
    .target(name: "KVView", dependencies: ["KVEngine", "KVText", "KVScenario"]),
    // The thin curses layer: copies a grid to the terminal and reads keys.
    .systemLibrary(name: "CNcurses", providers: [.apt(["libncurses-dev"])]),
    .target(name: "KVTerminal", dependencies: ["CNcurses", "KVView"]),
    // Files for slides and web pages: an SVG picture of a step, an asciinema recording of a range.
    .target(name: "KVExport", dependencies: ["KVEngine", "KVText", "KVView"]),
    // The pool's allocator in plain C, the yardstick of `kvscope bench alloc` (used by it only).
    .target(name: "CAllocRef"),
    .executableTarget(
      name: "kvscope",
      dependencies: [
        "KVEngine", "KVText", "KVScenario", "KVView", "KVTerminal", "KVExport", "CAllocRef",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(
      name: "KVEngineTests",
      dependencies: ["KVEngine", .product(name: "PropertyBased", package: "swift-property-based")]
    ),
    .testTarget(name: "KVScenarioTests", dependencies: ["KVScenario", "KVEngine", "KVText"], exclude: ["Corpus"]),
    .testTarget(
      name: "KVViewTests", dependencies: ["KVView", "KVScenario", "KVEngine", "KVText"], exclude: ["Golden"]),
    .testTarget(
      name: "KVExportTests", dependencies: ["KVExport", "KVView", "KVScenario", "KVEngine", "KVText"],
      exclude: ["Golden"]),
    .testTarget(name: "EndToEndTests", dependencies: ["kvscope", "KVEngine"]),
  ]
)
