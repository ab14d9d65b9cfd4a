/// A scheduling policy: the scheduler and block manager of one engine, in one file under `Policies/`.
///
/// A policy's code is straight-line: it reads the state and changes it only through the primitives of
/// `EngineState` (alloc, free, hit, admit, write, preempt, plan, ...), each of which records one step
/// with its facts. The engine runs a phase of the policy eagerly; stepping forward and back replays
/// the phase from its start up to the step asked for.
public protocol SchedulingPolicy: Sendable {
  /// The name a scenario writes under `scheduler.policy`.
  static var id: PolicyID { get }
  /// What the policy models, in one line.
  static var summary: String { get }
  /// Scheduler keys a scenario may set under this policy, and the defaults of all keys.
  static var keys: [SchedulerKey] { get }
  static var defaults: SchedulerDefaults { get }
  static var capabilities: PolicyCapabilities { get }
  /// How the pool hands frames out, and the frame it never hands out (vLLM's null block).
  static var freeOrder: FreeOrder { get }
  static var reservedFrame: Int? { get }
  /// What a scenario must respect to run under this policy as under the engine it models.
  static var limits: PolicyLimits { get }
  /// The pseudo-code the code panel shows, with the anchors steps point at.
  static var listing: PolicyListing { get }
  /// The phases of one iteration, in order. Each begins with a step that plans it.
  static var phases: [Phase] { get }
  /// Runs one phase of the current iteration.
  static func run(_ phase: Phase, _ engine: inout EngineState) throws(Pause)
  /// Releases all pages of request `r` in the policy's order, one step per page.
  static func release(_ r: Int, reason: ReleaseReason, _ engine: inout EngineState) throws(Pause)
}

/// The name of a registered policy. Only names that the registry knows can be made.
public struct PolicyID: Hashable, Sendable, CustomStringConvertible {
  public let rawValue: String
  init(_ name: String) { rawValue = name }

  /// The registered policy with this name, if any.
  public init?(rawValue: String) {
    guard Policies.all.contains(where: { $0.id.rawValue == rawValue }) else { return nil }
    self.rawValue = rawValue
  }

  public var description: String { rawValue }
  /// The policy's implementation.
  public var type: any SchedulingPolicy.Type { Policies.named(self) }
}

/// The registry: every policy kvscope runs. Adding a policy is one file and one line here.
public enum Policies {
  public static let all: [any SchedulingPolicy.Type] = [
    AstraiSeed.self, Paged.self, VLLMV1.self, NanoVLLM.self,
  ]

  /// The names of all policies, for messages: `astrai-seed, paged`.
  public static var names: String { all.map { $0.id.rawValue }.joined(separator: ", ") }

  static func named(_ id: PolicyID) -> any SchedulingPolicy.Type {
    all.first { $0.id == id } ?? Paged.self
  }
}

/// A key of a scenario's `scheduler` section other than `policy`.
public enum SchedulerKey: String, Sendable, CaseIterable {
  case maxBatch = "max_batch"
  case prefixCache = "prefix_cache"
  case onOOM = "on_oom"
  case decode
  case maxBatchedTokens = "max_batched_tokens"
}

/// The values a scenario gets for the scheduler keys it leaves out.
public struct SchedulerDefaults: Sendable, Equatable {
  public var maxBatch = 8
  public var prefixCache = false
  public var onOOM = OOMAction.preempt
  public var decode = DecodeOrder.all
  public var maxBatchedTokens = 2048
}

/// What a scenario must respect under a policy; the scenario loader checks these.
public struct PolicyLimits: Sendable, Equatable {
  /// The smallest page size the engine works with.
  public var minPageSize = 1
  /// The fewest tokens a request may generate.
  public var minOutput = 0
  /// Each request's prompt and output must fit in the usable frames (an engine refuses a request
  /// longer than its `max_model_len`, which its KV cache must hold).
  public var sequenceMustFit = false
  /// Why, for messages: what the engine does otherwise.
  public var reason = ""
  /// `max_batched_tokens` must be at least `max_batch` (vLLM refuses a smaller token budget).
  public var budgetCoversBatch = false
}

/// Why a request cannot run under a policy's limits.
public enum LimitViolation: Sendable, Equatable {
  /// It generates fewer tokens than the policy's engine allows.
  case outputTooSmall(minimum: Int)
  /// Its prompt and output need more pages than the pool has usable.
  case sequenceTooLong(pages: Int, usable: Int)
}

extension PolicyLimits {
  /// What keeps `request` from running in a pool of `pages` usable pages of `pageSize` tokens, if
  /// anything.
  public func violation(of request: RequestSpec, usablePages pages: Int, pageSize: Int) -> LimitViolation? {
    if request.output < minOutput { return .outputTooSmall(minimum: minOutput) }
    guard sequenceMustFit else { return nil }
    let needed = request.pagesForSequence(pageSize: pageSize)
    return needed > pages ? .sequenceTooLong(pages: needed, usable: pages) : nil
  }
}

/// What a policy can do; views and commands ask these instead of naming policies.
public struct PolicyCapabilities: OptionSet, Sendable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }

  /// The pool rejects misuse (double free, inc_ref of a free frame) instead of corrupting itself.
  public static let checkedPool = PolicyCapabilities(rawValue: 1)
  /// Full prompt pages can be shared between requests.
  public static let prefixCache = PolicyCapabilities(rawValue: 2)
  /// A running request can be preempted to free pages.
  public static let preemption = PolicyCapabilities(rawValue: 4)
  /// A prompt can be written over several iterations.
  public static let chunkedPrefill = PolicyCapabilities(rawValue: 8)
  /// A request can be aborted (scenario `events`, the `:abort` command).
  public static let aborts = PolicyCapabilities(rawValue: 16)
}

/// The step budget of a replay ran out: the phase stops before its next primitive.
public struct Pause: Error {}

// MARK: Listings

/// A line of a listing that steps can point at. Each policy declares its own anchors. The name is a
/// static string, so that a step carrying an anchor copies no reference counted storage.
public struct Anchor: Hashable, Sendable {
  public let name: StaticString
  public init(_ name: StaticString) { self.name = name }

  public static func == (a: Anchor, b: Anchor) -> Bool {
    a.name.withUTF8Buffer { x in b.name.withUTF8Buffer { y in x.elementsEqual(y) } }
  }

  public func hash(into hasher: inout Hasher) {
    name.withUTF8Buffer { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
  }
}

/// The allocator routines every listing holds, so that the code panel can show their live values.
public enum AllocatorRoutine: Sendable, Equatable {
  case alloc, free, incRef, allocN
}

/// One routine of a listing: pseudo-code in our own words, with the engine's function names.
public struct Routine: Sendable {
  public struct Line: Sendable {
    public var code: String
    public var anchor: Anchor?
  }

  public var name: String
  public var allocator: AllocatorRoutine?
  public var lines: [Line]

  /// A routine from lines written `code @anchor` or plain `code`.
  public init(_ name: String, allocator: AllocatorRoutine? = nil, _ lines: [(String, Anchor?)]) {
    self.name = name
    self.allocator = allocator
    self.lines = lines.map { Line(code: $0.0, anchor: $0.1) }
  }
}

/// A policy's whole listing.
public struct PolicyListing: Sendable {
  public var routines: [Routine]

  public init(_ routines: [Routine]) { self.routines = routines }

  /// The routine and line index an anchor marks.
  public func locate(_ anchor: Anchor) -> (routine: Routine, line: Int)? {
    for routine in routines {
      if let line = routine.lines.firstIndex(where: { $0.anchor == anchor }) { return (routine, line) }
    }
    return nil
  }

  /// The allocator routine of this listing.
  public func routine(_ kind: AllocatorRoutine) -> Routine? { routines.first { $0.allocator == kind } }
}

extension SchedulingPolicy {
  /// The frames of a pool of `pages` that requests can get: all but the reserved one.
  public static func usablePages(_ pages: Int) -> Int { pages - (reservedFrame == nil ? 0 : 1) }
}

extension PolicyLimits {
  /// A page size the policy's engine does not work with, if `pageSize` is one.
  public func violation(pageSize: Int) -> ScenarioViolation? {
    pageSize < minPageSize ? .pageSize(minimum: minPageSize) : nil
  }

  /// A token budget below the batch, where the policy's engine refuses one.
  public func violation(batch: Int, tokens: Int) -> ScenarioViolation? {
    budgetCoversBatch && tokens < batch ? .budget(tokens: tokens, batch: batch) : nil
  }
}

/// Why a scenario cannot run under its policy.
public enum ScenarioViolation: Sendable, Equatable {
  case pageSize(minimum: Int)
  /// Request `request` (an index) breaks the policy's limits.
  case request(Int, LimitViolation)
  /// The token budget is below `max_batch`.
  case budget(tokens: Int, batch: Int)
  /// The scenario aborts requests and the policy cannot.
  case aborts
}

extension Scenario {
  /// The same requests and pool under `policy`: settings the two policies share are kept, the
  /// others take `policy`'s defaults.
  public func under(_ policy: PolicyID) -> Scenario {
    var scenario = self
    let keys = policy.type.keys
    let old = scheduler
    scenario.scheduler = SchedulerConfig(
      policy: policy, maxBatch: old.maxBatch,
      prefixCache: keys.contains(.prefixCache) && old.policyType.keys.contains(.prefixCache)
        ? old.prefixCache : nil,
      onOOM: keys.contains(.onOOM) && old.policyType.keys.contains(.onOOM) ? old.onOOM : nil,
      decode: keys.contains(.decode) && old.policyType.keys.contains(.decode) ? old.decode : nil,
      maxBatchedTokens: keys.contains(.maxBatchedTokens) && old.policyType.keys.contains(.maxBatchedTokens)
        ? old.maxBatchedTokens : nil)
    return scenario
  }

  /// The first reason this scenario cannot run under its policy, if any.
  public var violation: ScenarioViolation? {
    let type = scheduler.policyType
    let limits = type.limits
    guard !isAllocatorOnly else { return nil }
    if let violation = limits.violation(pageSize: cache.pageSize) { return violation }
    if let violation = limits.violation(batch: scheduler.maxBatch, tokens: scheduler.maxBatchedTokens) {
      return violation
    }
    let usable = type.usablePages(cache.pages)
    for (index, request) in requests.enumerated() {
      if let violation = limits.violation(of: request, usablePages: usable, pageSize: cache.pageSize) {
        return .request(index, violation)
      }
    }
    if !events.isEmpty && !type.capabilities.contains(.aborts) { return .aborts }
    return nil
  }
}
