// swift-tools-version: 6.1
import PackageDescription

let package = Package(
  name: "kvscope",
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
      dependencies: [.product(name: "DequeModule", package: "swift-collections")]
    ),
    // Scenario files (YAML), traces (JSON Lines), state JSON and the Mooncake importer.
    .target(
      name: "KVScenario",
      dependencies: ["KVEngine", "Yams"]
    ),
    // The screen: renders engine state into an in-memory grid of cells, and the view's key handling.
    .target(name: "KVView", dependencies: ["KVEngine"]),
    // The thin curses layer: copies a grid to the terminal and reads keys.
    .systemLibrary(name: "CNcurses", providers: [.apt(["libncurses-dev"])]),
    .target(name: "KVTerminal", dependencies: ["CNcurses", "KVView"]),
    .executableTarget(
      name: "kvscope",
      dependencies: [
        "KVEngine", "KVScenario", "KVView", "KVTerminal",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(
      name: "KVEngineTests",
      dependencies: ["KVEngine", .product(name: "PropertyBased", package: "swift-property-based")]
    ),
    .testTarget(name: "KVScenarioTests", dependencies: ["KVScenario", "KVEngine"]),
    .testTarget(
      name: "KVViewTests", dependencies: ["KVView", "KVScenario", "KVEngine"], exclude: ["Golden"]),
    .testTarget(name: "EndToEndTests", dependencies: ["kvscope"]),
  ]
)
