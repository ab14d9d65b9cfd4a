import CPrefetch

// Cache-line prefetch hints for the engine's large tables, read at frames and keys that look random
// to the processor: asking a few steps ahead lets several of those reads wait on memory at once.
// A hint changes no value and never traps.

extension Array {
  /// Asks the processor to bring element `index` into its cache (nothing for an index outside).
  @inline(__always)
  func prefetch(_ index: Int) {
    guard index >= 0 && index < count else { return }
    withUnsafeBufferPointer { kv_prefetch($0.baseAddress! + index) }
  }
}
