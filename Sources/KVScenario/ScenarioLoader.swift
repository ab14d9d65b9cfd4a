import Foundation
import KVEngine
import KVText
import Yams

/// Reads scenario files (YAML) into ``Scenario`` values.
///
/// Every problem is reported as a ``ScenarioError`` that names the file, the line and column, the dotted
/// key and what is allowed. No input makes the loader trap. The format is described in
/// `docs/scenario-format.md`.
public enum ScenarioLoader {
  /// Largest file ``load(path:)`` reads, so that a stray huge file fails fast.
  public static let maxFileBytes = 64 << 20

  /// Reads and parses the scenario file at `path`.
  ///
  /// - Throws: ``ScenarioError`` when the file is missing, unreadable, not UTF-8 text or not a valid
  ///   scenario. The error's `file` is `path`.
  public static func load(path: String) throws(ScenarioError) -> Scenario {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ScenarioError(file: path, message: "no such file")
    }
    if isDirectory.boolValue {
      throw ScenarioError(file: path, message: "is a directory, expected a scenario file")
    }
    if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
      let size = attributes[.size] as? NSNumber, size.int64Value > Int64(maxFileBytes)
    {
      throw ScenarioError(
        file: path,
        message:
          "file is too large (\(size) bytes); a scenario file is at most \(maxFileBytes) bytes (64 MiB)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ScenarioError(file: path, message: "cannot read file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      guard let bad = UTF8Text.firstInvalid(data) else {
        throw ScenarioError(file: path, message: "not utf-8 text")
      }
      throw ScenarioError(
        file: path, line: bad.line, column: bad.column,
        message: "not utf-8 text: byte \(UTF8Text.hex(bad.byte)) is not valid UTF-8; save the file as UTF-8")
    }
    return try parse(text, file: path)
  }

  /// Parses scenario text. `file` is used in errors and for the default scenario name.
  ///
  /// - Throws: ``ScenarioError`` for invalid YAML or an invalid scenario.
  public static func parse(_ text: String, file: String) throws(ScenarioError) -> Scenario {
    let reader = Reader(file: file)
    // libyaml skips a byte order mark only when it detects the encoding itself, and Yams sets it.
    var text = text
    if text.unicodeScalars.first == "\u{FEFF}" {
      text = String(text.unicodeScalars.dropFirst())
    }
    let root: Node?
    do {
      // Plain scalars are resolved by `PlainScalarTag` when read, not by Yams' regular expressions.
      root = try Yams.compose(yaml: text, .basic)
    } catch {
      throw reader.convert(error, text: text)
    }
    return try reader.scenario(root)
  }
}

// MARK: - Reader

/// Turns a node tree into a scenario, one checked key at a time.
struct Reader {
  let file: String

  // MARK: Errors

  func error(_ node: Node?, _ key: String, _ message: String) -> ScenarioError {
    let mark = node?.mark
    return ScenarioError(
      file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, key: key, message: message)
  }

  /// Converts an error from Yams into a scenario error at the position Yams reports.
  func convert(_ error: any Error, text: String) -> ScenarioError {
    guard let yaml = error as? YamlError else {
      return ScenarioError(file: file, message: "invalid yaml: \(error)")
    }
    func detail(_ problem: String, _ context: YamlError.Context?) -> String {
      if problem.contains("Maximum nesting level") {
        return "invalid yaml: nested too deeply (at most 1000 levels)"
      }
      if problem == "but found another document" {
        return "invalid yaml: more than one document; a scenario is a single document"
      }
      var message = "invalid yaml: \(problem)"
      if let context, !context.text.isEmpty {
        message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
      }
      return message
    }
    switch yaml {
    case .reader(let problem, let offset, _, _):
      let (line, column) = offset.map { position(ofCharacter: $0, in: text) } ?? (0, 0)
      return ScenarioError(
        file: file, line: line, column: column, message: "invalid yaml: \(problem.lowercased())")
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      return ScenarioError(
        file: file, line: mark.line, column: mark.column, message: detail(problem, context))
    case .duplicatedKeysInMapping(let duplicates, let context):
      let names = duplicates.map { "`\(Self.shorten($0))`" }.joined(separator: ", ")
      return ScenarioError(
        file: file, line: context.mark.line, column: context.mark.column,
        message: "duplicate key \(names); each key may appear once in a mapping")
    default:
      return ScenarioError(file: file, message: "invalid yaml: \(yaml)")
    }
  }

  /// The 1-based line and column of the character at `offset`.
  private func position(ofCharacter offset: Int, in text: String) -> (Int, Int) {
    var line = 1
    var column = 1
    for (index, character) in text.enumerated() {
      if index >= offset { break }
      if character.isNewline {
        line += 1
        column = 1
      } else {
        column += character.unicodeScalars.count
      }
    }
    return (line, column)
  }

  // MARK: Node description

  /// The node's resolved tag, such as `Tag.Name.int` for a plain `12`. A plain scalar without a tag
  /// still has the implicit tag (the file is composed with Yams' basic resolver) and is resolved here.
  static func tagName(_ node: Node) -> Tag.Name {
    if case .scalar(let scalar) = node, scalar.tag.rawValue == Tag.Name.implicit.rawValue {
      return PlainScalarTag.of(scalar.string)
    }
    return Tag.Name(rawValue: node.tag.rawValue)
  }

  /// What a node is, for "expected X, found Y" messages.
  func describe(_ node: Node) -> String {
    switch node {
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    case .scalar(let scalar):
      let shown = Self.shorten(scalar.string)
      switch Self.tagName(node) {
      case .str: return "the string \"\(shown)\""
      case .int: return "the integer \(shown)"
      case .float: return "the number \(shown)"
      case .bool: return "the boolean \(shown)"
      case .null: return "null"
      case .timestamp: return "the date \(shown)"
      default:
        if node.tag.rawValue.hasPrefix("tag:yaml.org,2002:") {
          return "`\(shown)`"
        }
        return "a value tagged `\(node.tag.rawValue)`"
      }
    }
  }

  static func shorten(_ text: String) -> String {
    let flat = text.replacingOccurrences(of: "\n", with: " ")
    return flat.count > 40 ? String(flat.prefix(37)) + "..." : flat
  }

  // MARK: Mappings

  /// A mapping whose keys have been checked against the allowed ones.
  struct Fields {
    let path: String
    let node: Node
    var values: [String: Node] = [:]
    var keys: [String: Node] = [:]

    func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    subscript(key: String) -> Node? { values[key] }
  }

  func fields(_ node: Node, path: String, allowed: [String], what: String = "a mapping")
    throws(ScenarioError) -> Fields
  {
    guard case .mapping(let mapping) = node else {
      throw error(node, path, "expected \(what), found \(describe(node))")
    }
    var result = Fields(path: path, node: node)
    for (keyNode, value) in mapping {
      guard case .scalar(let scalar) = keyNode else {
        throw error(keyNode, path, "expected a key name, found \(describe(keyNode))")
      }
      let name = scalar.string
      guard allowed.contains(name) else {
        throw error(
          keyNode, result.path(name),
          "unknown key `\(Self.shorten(name))`; allowed: \(allowed.joined(separator: ", "))")
      }
      result.values[name] = value
      result.keys[name] = keyNode
    }
    return result
  }

  func required(_ fields: Fields, _ key: String) throws(ScenarioError) -> Node {
    guard let value = fields[key] else {
      throw error(fields.node, fields.path(key), "required key `\(key)` is missing")
    }
    return value
  }

  // MARK: Scalars

  enum ParsedInt {
    case value(Int)
    case overflow
    case invalid
  }

  /// Parses a YAML integer: decimal, `0x` hex, `0o` octal or `0b` binary, with optional sign and `_`.
  static func parseInt(_ raw: String) -> ParsedInt {
    // The common case first: up to 18 decimal digits cannot overflow.
    if raw.utf8.count <= 18, !raw.isEmpty, raw.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
      return .value(raw.utf8.reduce(0) { $0 * 10 + Int($1 - 48) })
    }
    var text = Substring(raw)
    if raw.utf8.contains(UInt8(ascii: "_")) { text = Substring(raw.replacingOccurrences(of: "_", with: "")) }
    var negative = false
    if text.first == "-" || text.first == "+" {
      negative = text.first == "-"
      text = text.dropFirst()
    }
    var radix = 10
    for (prefix, base) in [("0x", 16), ("0o", 8), ("0b", 2)] where text.hasPrefix(prefix) {
      radix = base
      text = text.dropFirst(2)
      break
    }
    guard !text.isEmpty else { return .invalid }
    var value = 0
    // Only scalars tagged int get here: ASCII digits, letters of a hex number, sign and underscores.
    for byte in text.utf8 {
      guard let digit = hexDigit(byte), digit < radix else { return .invalid }
      let (shifted, overflow1) = value.multipliedReportingOverflow(by: radix)
      let (next, overflow2) =
        negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
      if overflow1 || overflow2 { return .overflow }
      value = next
    }
    return .value(value)
  }

  /// The value of an ASCII hexadecimal digit.
  private static func hexDigit(_ byte: UInt8) -> Int? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a")) + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A")) + 10
    default: return nil
    }
  }

  /// An integer within `range`.
  /// The path is made only for an error: a large scenario has hundreds of thousands of integers.
  func int(_ node: Node, _ path: @autoclosure () -> String, _ range: ClosedRange<Int>) throws(ScenarioError)
    -> Int
  {
    func outOfRange(_ shown: String) -> ScenarioError {
      if range.upperBound == Int.max {
        return error(node, path(), "must be at least \(range.lowerBound), got \(shown)")
      }
      return error(node, path(), "must be between \(range.lowerBound) and \(range.upperBound), got \(shown)")
    }
    guard case .scalar(let scalar) = node, Self.tagName(node) == .int else {
      throw error(node, path(), "expected an integer, found \(describe(node))")
    }
    switch Self.parseInt(scalar.string) {
    case .value(let value):
      guard range.contains(value) else { throw outOfRange(String(value)) }
      return value
    case .overflow:
      throw outOfRange(Self.shorten(scalar.string))
    case .invalid:
      throw error(node, path(), "expected an integer, found `\(Self.shorten(scalar.string))`")
    }
  }

  /// An integer from 0 to `limit`: a negative one is `must be at least 0`, a larger one names the range.
  func count(_ node: Node, _ path: String, upTo limit: Int) throws(ScenarioError) -> Int {
    let value = try int(node, path, 0...Int.max)
    guard value <= limit else { throw error(node, path, "must be between 0 and \(limit), got \(value)") }
    return value
  }

  func bool(_ node: Node, _ path: String) throws(ScenarioError) -> Bool {
    if case .scalar(let scalar) = node, Self.tagName(node) == .bool {
      switch scalar.string.lowercased() {
      case "true", "yes", "on": return true
      case "false", "no", "off": return false
      default: break
      }
    }
    throw error(node, path, "expected true or false, found \(describe(node))")
  }

  /// Free text: any scalar but null, without control characters (`allowing` lists the ones let through,
  /// such as the line breaks of a block scalar).
  func text(_ node: Node, _ path: String, allowing allowed: Set<Unicode.Scalar> = []) throws(ScenarioError)
    -> String
  {
    guard case .scalar(let scalar) = node, Self.tagName(node) != .null else {
      throw error(node, path, "expected text, found \(describe(node))")
    }
    try noControls(scalar.string, node, path, allowing: allowed)
    return scalar.string
  }

  /// Rejects control characters (C0, DEL, C1): printed raw they would drive the terminal.
  func noControls(_ text: String, _ node: Node, _ path: String, allowing allowed: Set<Unicode.Scalar> = [])
    throws(ScenarioError)
  {
    guard let bad = text.unicodeScalars.first(where: { TerminalText.isControl($0) && !allowed.contains($0) })
    else { return }
    throw error(
      node, path,
      "contains the control character \(TerminalText.name(bad)); names, descriptions and ids must be printable text"
    )
  }

  /// One of the raw values of `T`.
  func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ path: String, _: T.Type)
    throws(ScenarioError) -> T where T.RawValue == String
  {
    try choice(node, path, allowed: T.allCases.map(\.rawValue).joined(separator: ", "), T.init(rawValue:))
  }

  /// A string that `make` accepts; `allowed` lists the accepted values for the message.
  func choice<T>(_ node: Node, _ path: String, allowed: String, _ make: (String) -> T?) throws(ScenarioError)
    -> T
  {
    guard case .scalar(let scalar) = node, Self.tagName(node) == .str else {
      throw error(node, path, "expected one of \(allowed), found \(describe(node))")
    }
    guard let value = make(scalar.string) else {
      throw error(node, path, "must be one of \(allowed), got `\(Self.shorten(scalar.string))`")
    }
    return value
  }

  func list(_ node: Node, _ path: String, of what: String) throws(ScenarioError) -> [Node] {
    guard case .sequence(let sequence) = node else {
      throw error(node, path, "expected a list of \(what), found \(describe(node))")
    }
    return Array(sequence)
  }

  // MARK: Scenario

  static let topKeys = [
    "name", "description", "cache", "scheduler", "max_iterations", "requests", "events", "ops", "notes",
  ]

  func scenario(_ root: Node?) throws(ScenarioError) -> Scenario {
    guard let root, !Self.isEmpty(root) else {
      throw ScenarioError(file: file, message: Reader.emptyMessage)
    }
    let top = try fields(root, path: "", allowed: Self.topKeys, what: "a mapping at the top level")

    let name = try top["name"].map { (node) throws(ScenarioError) in try text(node, "name") } ?? defaultName
    let description =
      try top["description"].map { (node) throws(ScenarioError) in
        try text(node, "description", allowing: ["\n", "\t"])
      } ?? ""
    let cache = try cacheConfig(required(top, "cache"))
    let maxIterations =
      try top["max_iterations"].map { (node) throws(ScenarioError) in
        try int(node, "max_iterations", 1...100_000_000)
      } ?? Scenario.defaultMaxIterations

    if let ops = top["ops"] {
      if top["requests"] != nil {
        throw error(top.keys["ops"], "ops", "cannot be combined with `requests`; use one or the other")
      }
      if top["events"] != nil {
        throw error(top.keys["events"], "events", "not allowed in an ops scenario; events need `requests`")
      }
      let scheduler = try top["scheduler"].map { (node) throws(ScenarioError) in
        try schedulerConfig(node, opsOnly: true)
      }
      let poolOps = try poolOps(ops)
      let notes = try top["notes"].map { (node) throws(ScenarioError) in try self.notes(node, requests: nil) }
      return Scenario(
        name: name, description: description, cache: cache, scheduler: scheduler ?? SchedulerConfig(),
        ops: poolOps, maxIterations: maxIterations, notes: notes ?? [])
    }

    guard let requestsNode = top["requests"] else {
      if top["events"] != nil {
        throw error(top.keys["events"], "events", "needs `requests`")
      }
      throw error(root, "", "needs `requests` or `ops`")
    }
    let scheduler =
      try top["scheduler"].map { (node) throws(ScenarioError) in try schedulerConfig(node, opsOnly: false) }
      ?? SchedulerConfig()
    let limits = scheduler.policyType.limits
    if limits.violation(pageSize: cache.pageSize) != nil {
      throw error(
        top.keys["cache"], "cache.page_size",
        "must be at least \(limits.minPageSize) under policy \(scheduler.policy): \(limits.reason)")
    }
    let requests = try requestSpecs(requestsNode, cache: cache, policy: scheduler.policyType)
    let events =
      try top["events"].map { (node) throws(ScenarioError) in try scenarioEvents(node, requests: requests) }
      ?? []
    if !events.isEmpty && !scheduler.policyType.capabilities.contains(.aborts) {
      throw error(
        top.keys["events"], "events",
        "policy \(scheduler.policy) has no abort (its engine cannot abort a request)")
    }
    let notes = try top["notes"].map { (node) throws(ScenarioError) in
      try self.notes(node, requests: requests)
    }
    return Scenario(
      name: name, description: description, cache: cache, scheduler: scheduler, requests: requests,
      events: events, ops: nil, maxIterations: maxIterations, notes: notes ?? [])
  }

  static let emptyMessage =
    "no scenario keys: the file is empty or only comments; start from scenarios/walkthrough.yaml "
    + "(a cache and a few requests), described in docs/scenario-format.md"

  /// True for a document that holds nothing, such as `---` alone.
  static func isEmpty(_ node: Node) -> Bool {
    if case .scalar(let scalar) = node, Self.tagName(node) == .null, scalar.string.isEmpty { return true }
    return false
  }

  /// The file name without directories and extension.
  var defaultName: String {
    var base = Substring(file)
    if let slash = base.lastIndex(of: "/") { base = base[base.index(after: slash)...] }
    if let dot = base.lastIndex(of: "."), dot != base.startIndex { base = base[..<dot] }
    return base.isEmpty ? "untitled" : String(base)
  }

  func cacheConfig(_ node: Node) throws(ScenarioError) -> CacheConfig {
    let cache = try fields(node, path: "cache", allowed: ["pages", "page_size"])
    let pages = try int(required(cache, "pages"), "cache.pages", 1...Scenario.maxPages)
    let pageSize = try int(required(cache, "page_size"), "cache.page_size", 1...Scenario.maxPageSize)
    return CacheConfig(pages: pages, pageSize: pageSize)
  }

  func schedulerConfig(_ node: Node, opsOnly: Bool) throws(ScenarioError) -> SchedulerConfig {
    let all = ["policy"] + SchedulerKey.allCases.map(\.rawValue)
    let scheduler = try fields(node, path: "scheduler", allowed: all)
    if opsOnly {
      for key in all.dropFirst() where scheduler[key] != nil {
        throw error(
          scheduler.keys[key], scheduler.path(key), "not allowed in an ops scenario; only `policy` is")
      }
    }
    let policy =
      try scheduler["policy"].map { (node) throws(ScenarioError) in
        try choice(node, "scheduler.policy", allowed: Policies.names, PolicyID.init(rawValue:))
      } ?? .astraiSeed
    let policyType = policy.type
    for key in SchedulerKey.allCases where !policyType.keys.contains(key) && scheduler[key.rawValue] != nil {
      let others = Policies.all.filter { $0.keys.contains(key) }.map { $0.id.rawValue }
      throw error(
        scheduler.keys[key.rawValue], scheduler.path(key.rawValue),
        "only valid with policy \(others.joined(separator: " or ")), not \(policy)")
    }
    let maxBatch = try scheduler["max_batch"].map { (node) throws(ScenarioError) in
      try int(node, "scheduler.max_batch", 1...100_000)
    }
    let prefixCache = try scheduler["prefix_cache"].map { (node) throws(ScenarioError) in
      try bool(node, "scheduler.prefix_cache")
    }
    let onOOM = try scheduler["on_oom"].map { (node) throws(ScenarioError) in
      try choice(node, "scheduler.on_oom", OOMAction.self)
    }
    let decode = try scheduler["decode"].map { (node) throws(ScenarioError) in
      try choice(node, "scheduler.decode", DecodeOrder.self)
    }
    let maxBatchedTokens = try scheduler["max_batched_tokens"].map { (node) throws(ScenarioError) in
      try int(node, "scheduler.max_batched_tokens", 1...100_000_000)
    }
    let config = SchedulerConfig(
      policy: policy, maxBatch: maxBatch, prefixCache: prefixCache, onOOM: onOOM, decode: decode,
      maxBatchedTokens: maxBatchedTokens)
    if policyType.limits.violation(batch: config.maxBatch, tokens: config.maxBatchedTokens) != nil {
      let key = scheduler["max_batched_tokens"] != nil ? "max_batched_tokens" : "max_batch"
      throw error(
        scheduler.keys[key], scheduler.path(key),
        "max_batched_tokens (\(config.maxBatchedTokens)) must be at least max_batch (\(config.maxBatch)) under policy \(policy): \(policyType.limits.reason)"
      )
    }
    return config
  }

  // MARK: Requests

  func requestSpecs(_ node: Node, cache: CacheConfig, policy: any SchedulingPolicy.Type) throws(ScenarioError)
    -> [RequestSpec]
  {
    let items = try list(node, "requests", of: "requests")
    let limits = policy.limits
    let usablePages = policy.usablePages(cache.pages)
    var result: [RequestSpec] = []
    var firstLine: [String: Int] = [:]
    let poolTokens = cache.pages * cache.pageSize
    for (index, item) in items.enumerated() {
      let path = "requests[\(index)]"
      let request = try fields(item, path: path, allowed: ["id", "arrive", "prompt", "output"])
      let idNode = try required(request, "id")
      let id = try requestID(idNode, request.path("id"))
      if let line = firstLine[id] {
        throw error(
          idNode, request.path("id"), "duplicate id `\(Self.shorten(id))` (first used on line \(line))")
      }
      firstLine[id] = idNode.mark?.line ?? 0
      let arrive =
        try request["arrive"].map { (node) throws(ScenarioError) in
          try count(node, request.path("arrive"), upTo: Scenario.maxIteration)
        } ?? 0
      let promptNode = try required(request, "prompt")
      let prompt = try self.prompt(promptNode, request.path("prompt"))
      if prompt.count > poolTokens {
        throw error(
          promptNode, request.path("prompt"),
          "prompt of request `\(Self.shorten(id))` has \(prompt.count) tokens, more than the whole pool "
            + "(\(cache.pages) pages x \(cache.pageSize) = \(poolTokens) tokens)")
      }
      let outputNode = try required(request, "output")
      let output = try count(outputNode, request.path("output"), upTo: Scenario.maxOutput)
      let spec = RequestSpec(id: id, arrive: arrive, prompt: prompt, output: output)
      if let violation = limits.violation(of: spec, usablePages: usablePages, pageSize: cache.pageSize) {
        throw error(outputNode, request.path("output"), violation.message(for: spec, policy: policy))
      }
      result.append(spec)
    }
    return result
  }

  /// A request id: a non-empty string, or an integer written in decimal.
  func requestID(_ node: Node, _ path: String) throws(ScenarioError) -> String {
    guard case .scalar(let scalar) = node, Self.tagName(node) == .str || Self.tagName(node) == .int else {
      throw error(node, path, "expected a string or an integer, found \(describe(node))")
    }
    if Self.tagName(node) == .int {
      switch Self.parseInt(scalar.string) {
      case .value(let value): return String(value)
      case .overflow, .invalid:
        throw error(node, path, "integer id `\(Self.shorten(scalar.string))` is not a valid integer")
      }
    }
    guard !scalar.string.isEmpty else { throw error(node, path, "must not be empty") }
    try noControls(scalar.string, node, path)
    return scalar.string
  }

  static let maxTokenID = 2_147_483_647

  func prompt(_ node: Node, _ path: String) throws(ScenarioError) -> Prompt {
    switch node {
    case .scalar:
      guard Self.tagName(node) == .int else {
        throw error(
          node, path,
          "expected a length, a list of token ids or {blocks, block_size, length}, found \(describe(node))")
      }
      return .length(try int(node, path, 0...Int.max))
    case .sequence(let sequence):
      var tokens: [Int] = []
      tokens.reserveCapacity(sequence.count)
      for (index, token) in sequence.enumerated() {
        tokens.append(try int(token, "\(path)[\(index)]", 0...Self.maxTokenID))
      }
      return .tokens(tokens)
    case .mapping:
      let spec = try fields(node, path: path, allowed: ["blocks", "block_size", "length"])
      let blocksNode = try required(spec, "blocks")
      var ids: [Int] = []
      for (index, block) in try list(blocksNode, spec.path("blocks"), of: "block ids").enumerated() {
        ids.append(try int(block, "\(spec.path("blocks"))[\(index)]", 0...Int.max))
      }
      let blockSize = try int(required(spec, "block_size"), spec.path("block_size"), 1...Int.max)
      let (capacity, overflow) = ids.count.multipliedReportingOverflow(by: blockSize)
      let maxLength = overflow ? Int.max : capacity
      guard let lengthNode = spec["length"] else {
        if overflow {
          throw error(node, spec.path("length"), "blocks x block_size is too large")
        }
        return .blocks(ids: ids, blockSize: blockSize, length: maxLength)
      }
      let (allButLast, overflowBelow) = max(ids.count - 1, 0).multipliedReportingOverflow(by: blockSize)
      let minLength = ids.isEmpty ? 0 : (overflowBelow || allButLast == Int.max ? Int.max : allButLast + 1)
      let length = try int(lengthNode, spec.path("length"), 0...Int.max)
      guard length <= maxLength, length >= minLength else {
        if ids.isEmpty {
          throw error(lengthNode, spec.path("length"), "must be 0 when `blocks` is empty, got \(length)")
        }
        throw error(
          lengthNode, spec.path("length"),
          "must be between \(minLength) and \(maxLength) for \(ids.count) blocks of \(blockSize), got \(length)"
        )
      }
      return .blocks(ids: ids, blockSize: blockSize, length: length)
    case .alias:
      throw error(node, path, "expected a prompt, found \(describe(node))")
    }
  }

  // MARK: Events

  func scenarioEvents(_ node: Node, requests: [RequestSpec]) throws(ScenarioError) -> [ScenarioEvent] {
    let ids = Set(requests.map(\.id))
    var result: [ScenarioEvent] = []
    for (index, item) in try list(node, "events", of: "events").enumerated() {
      let path = "events[\(index)]"
      let event = try fields(item, path: path, allowed: ["at", "abort"])
      let at = try count(required(event, "at"), event.path("at"), upTo: Scenario.maxIteration)
      guard let target = event["abort"] else {
        throw error(item, path, "needs an action; allowed: abort")
      }
      let id = try requestID(target, event.path("abort"))
      guard ids.contains(id) else {
        throw error(target, event.path("abort"), "no request has id `\(Self.shorten(id))`")
      }
      result.append(ScenarioEvent(at: at, action: .abort(id)))
    }
    return result
  }

  // MARK: Ops

  static let opKeys = ["free", "alloc_n", "inc_ref"]

  func poolOps(_ node: Node) throws(ScenarioError) -> [PoolOp] {
    var result: [PoolOp] = []
    let expected = "`alloc`, {free: N}, {alloc_n: N} or {inc_ref: N}"
    for (index, item) in try list(node, "ops", of: "operations").enumerated() {
      let path = "ops[\(index)]"
      switch item {
      case .scalar(let scalar) where Self.tagName(item) == .str:
        guard scalar.string == "alloc" else {
          if Self.opKeys.contains(scalar.string) {
            throw error(item, path, "`\(scalar.string)` needs an argument, as in {\(scalar.string): 0}")
          }
          throw error(item, path, "unknown operation `\(Self.shorten(scalar.string))`; allowed: \(expected)")
        }
        result.append(.alloc)
      case .mapping(let mapping):
        let op = try fields(item, path: path, allowed: Self.opKeys)
        guard mapping.count == 1, let (name, argument) = op.values.first else {
          throw error(item, path, "an operation has exactly one key; allowed: \(expected)")
        }
        let argumentPath = op.path(name)
        switch name {
        case "free": result.append(.free(try int(argument, argumentPath, 0...Int.max)))
        case "inc_ref": result.append(.incRef(try int(argument, argumentPath, 0...Int.max)))
        default: result.append(.allocN(try int(argument, argumentPath, 0...Scenario.maxPages)))
        }
      default:
        throw error(item, path, "expected \(expected), found \(describe(item))")
      }
    }
    return result
  }
}
