import KVEngine

/// Who holds each frame, computed once per render from the page tables: O(total pages), never
/// O(frames x requests).
struct Ownership {
  /// The first request (index) whose table holds the frame, or -1.
  var owner: [Int32]
  /// The logical page of the frame in that request's table.
  var logical: [Int32]
  /// How many page tables hold the frame (capped at 255).
  var holders: [UInt8]

  init(_ state: EngineState) {
    let n = state.pool.count
    owner = [Int32](repeating: -1, count: n)
    // Logical pages are only drawn for pools small enough to show frame by frame.
    let withLogical = n <= 65_536
    logical = withLogical ? [Int32](repeating: -1, count: n) : []
    holders = [UInt8](repeating: 0, count: n)
    owner.withUnsafeMutableBufferPointer { owner in
      holders.withUnsafeMutableBufferPointer { holders in
        for r in state.requests.indices {
          let table = state.requests[r].pageTable
          let r32 = Int32(r)
          for (page, frame) in table.enumerated() where frame >= 0 && frame < n {
            if owner[frame] < 0 {
              owner[frame] = r32
              if withLogical { logical[frame] = Int32(page) }
            }
            if holders[frame] < 255 { holders[frame] += 1 }
          }
        }
      }
    }
  }
}
