import KVEngine
import KVText

/// How much of a large state a picture draws; the rest is counted in a note.
public struct DiagramLimits: Sendable, Equatable {
  /// Frames drawn, from frame 0.
  public var frames: Int
  /// Page tables drawn.
  public var requests: Int
  /// Rows of one page table drawn.
  public var pagesPerRequest: Int

  public init(frames: Int = 64, requests: Int = 6, pagesPerRequest: Int = 8) {
    self.frames = max(1, frames)
    self.requests = max(1, requests)
    self.pagesPerRequest = max(1, pagesPerRequest)
  }
}

/// What the picture of one step shows, read from the engine state: the page tables of the requests
/// holding pages, the frames with their owners and refcounts, the free mask (or the free queue) and
/// the refs, in the words of the live view. No layout: `CacheSVG` places it.
public struct CacheDiagram: Sendable, Equatable {
  /// One logical page of a page table.
  public struct Entry: Sendable, Equatable {
    public var logical: Int
    /// The physical frame, or nil for an entry already released.
    public var frame: Int?
  }

  /// A request's page table.
  public struct Table: Sendable, Equatable {
    /// The request's index (its colour).
    public var request: Int
    public var id: String
    /// `running, 128 tokens written`.
    public var caption: String
    public var entries: [Entry]
    /// Pages of the table not drawn.
    public var hiddenPages: Int
  }

  /// A frame's holder: request and logical page.
  public struct Holder: Sendable, Equatable {
    public var request: Int
    public var id: String
    public var logical: Int
  }

  /// What a frame is at this step.
  public enum FrameKind: Sendable, Equatable {
    /// Held by one or more page tables (more than one: shared through the prefix cache).
    case held([Holder])
    case free
    /// Refcount 0, kept for its cached content (`paged`'s LRU list); `label` names the content.
    case cached(label: String?)
    /// Free and in the free queue, still holding a hash (the engine policies); `label` names the content.
    case hashed(label: String?)
    /// vLLM's null block, never handed out.
    case null
    /// Allocated with no page table holding it (an allocator-only scenario, or a leak).
    case used
  }

  /// One frame box.
  public struct FrameBox: Sendable, Equatable {
    public var index: Int
    public var kind: FrameKind
    public var refs: Int
    public var freeBit: Bool
    /// Touched by the step (drawn with a double outline, as the live view does).
    public var touched: Bool
  }

  public var title: String
  public var subtitle: String
  public var step: Int
  public var event: String
  public var frameSummary: String
  public var tables: [Table]
  public var frames: [FrameBox]
  /// The free mask line (bitmask policies) or the free queue line (queue policies).
  public var maskLine: String
  public var refsLine: String
  public var countsLine: String
  /// What stands in place of the page tables when none is drawn.
  public var noTables: String
  /// `waiting C, D` and the like, when there is something to say.
  public var queueLine: String?
  /// What was left out of a large state (each read after "not drawn: ").
  public var notes: [String]

  /// The picture of `state`, the state after step `state.step` of a run of `totalSteps` steps.
  public init(state: EngineState, totalSteps: Int, limits: DiagramLimits = DiagramLimits()) {
    let pool = state.pool
    let n = pool.count
    title = "\(state.scenario.name) \u{2014} \(state.policy) \u{2014} step \(state.step) of \(totalSteps)"
    step = state.step
    subtitle = "iteration \(state.iteration), phase \(state.phase.rawValue)"
    event = state.eventText
    frameSummary = "\(Self.grouped(n)) frame\(n == 1 ? "" : "s") of \(state.pageSize) token slots"
    var notes: [String] = []

    // Page tables: the requests holding pages, in request order.
    let holding = state.requests.indices.filter { state.requests[$0].pageTable.contains { $0 >= 0 } }
    tables = holding.prefix(limits.requests).map { r in
      let request = state.requests[r]
      let entries = request.pageTable.prefix(limits.pagesPerRequest).enumerated().map {
        Entry(logical: $0.offset, frame: $0.element >= 0 ? $0.element : nil)
      }
      return Table(
        request: r, id: request.id,
        caption: "\(request.status.rawValue), \(Self.grouped(request.computed)) tokens written",
        entries: entries, hiddenPages: request.pageTable.count - entries.count)
    }
    noTables = state.requests.isEmpty ? "allocator only: no page tables" : "no request holds a page"
    if holding.count > tables.count {
      let more = holding.count - tables.count
      notes.append("\(Self.grouped(more)) more request\(more == 1 ? "" : "s") holding pages")
    }

    // Frames: who holds each one drawn.
    let shown = min(n, limits.frames)
    var holders = [[Holder]](repeating: [], count: shown)
    for r in state.requests.indices {
      for (page, frame) in state.requests[r].pageTable.enumerated() where frame >= 0 && frame < shown {
        holders[frame].append(Holder(request: r, id: state.requests[r].id, logical: page))
      }
    }
    let touched = Set(state.event.frames)
    frames = (0..<shown).map { f in
      FrameBox(
        index: f, kind: Self.kind(of: f, holders: holders[f], state: state), refs: Int(pool.refs[f]),
        freeBit: pool.freeMask.contains(f), touched: touched.contains(f))
    }
    if shown < n {
      notes.append(
        "frames \(Self.grouped(shown))-\(Self.grouped(n - 1)) (\(Self.grouped(n)) in all)")
    }

    // The mask (or queue), the refs and the counts, as the live view writes them.
    let window = 0..<shown
    if pool.order == .queue {
      maskLine = Self.queueText(pool.freeQueue)
    } else if shown == n {
      maskLine =
        "free_mask = \(pool.freeMask.binary()) = \(pool.freeMask.hex(frames: window))  (1 = free, 0 = alloc)"
    } else {
      maskLine =
        "free_mask[\(shown - 1)..0] = \(pool.freeMask.binary(frames: window)) = \(pool.freeMask.hex(frames: window))"
    }
    let refs = window.map { String(pool.refs[$0]) }.joined(separator: ",")
    refsLine = shown == n ? "refs = [\(refs)]" : "refs[0..\(shown - 1)] = [\(refs)]"
    var counts = "\(Self.grouped(pool.freeCount)) free, \(Self.grouped(pool.usedCount)) used"
    if pool.order == .queue {
      if let reserved = pool.reserved { counts += ", null block \(reserved)" }
      counts += ", next " + (pool.freeQueue.head >= 0 ? Self.grouped(Int(pool.freeQueue.head)) : "none")
    } else {
      if pool.lru.count > 0 || state.config.prefixCache {
        counts += ", \(Self.grouped(pool.lru.count)) cached in LRU"
      }
      counts += ", lowest free " + (pool.freeMask.lowest.map(Self.grouped) ?? "none")
    }
    countsLine = counts
    queueLine = Self.queueLine(state)
    self.notes = notes
  }

  /// What frame `f` is, from its holders and the pool.
  private static func kind(of f: Int, holders: [Holder], state: EngineState) -> FrameKind {
    let pool = state.pool
    if !holders.isEmpty { return .held(holders) }
    if pool.reserved == f { return .null }
    let content = pool.cached[Int32(f)].map { page -> String in
      let r = Int(page.request)
      let id = r >= 0 && r < state.requests.count ? state.requests[r].id : "#\(r)"
      return "\(id):\(page.page)"
    }
    if pool.lru.contains(f) { return .cached(label: content) }
    if pool.freeMask.contains(f) {
      return pool.order == .queue && content != nil ? .hashed(label: content) : .free
    }
    return .used
  }

  /// `waiting C, D; finished A` for the requests not drawn as tables, when there are any.
  private static func queueLine(_ state: EngineState) -> String? {
    var parts: [String] = []
    let waiting = state.waiting.map { state.requests[$0].id }
    if !waiting.isEmpty { parts.append("waiting " + listed(waiting)) }
    let finished = state.requests.filter { $0.status == .finished }.map(\.id)
    if !finished.isEmpty { parts.append("finished " + listed(finished)) }
    return parts.isEmpty ? nil : parts.joined(separator: "; ")
  }

  /// At most eight ids, then how many more.
  private static func listed(_ ids: [String]) -> String {
    let head = ids.prefix(8).joined(separator: ", ")
    return ids.count > 8 ? head + " and \(grouped(ids.count - 8)) more" : head
  }

  /// `free_queue = [3, 7, 2]  (head first)`, the first 24 entries and the tail of a longer queue.
  static func queueText(_ queue: LRUList) -> String {
    var shown: [Int] = []
    var cursor = queue.head
    while cursor >= 0 && shown.count < 24 {
      shown.append(Int(cursor))
      cursor = queue.next(after: Int(cursor))
    }
    let items = shown.map(String.init).joined(separator: ", ")
    if shown.count == queue.count { return "free_queue = [\(items)]  (head first)" }
    return "free_queue = [\(items), ..., \(queue.tail)]  (head first, \(grouped(queue.count)) in all)"
  }

  /// `12,031`.
  static func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var result = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { result += "," }
      result.append(c)
    }
    return value < 0 ? "-" + result : result
  }
}
