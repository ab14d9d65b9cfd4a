import PropertyBased
import Testing

@testable import KVEngine

/// The prefix index behaves like a dictionary under any mix of inserts, overwrites and removals,
/// including keys that collide in their low bits.
struct KeyIndexTests {
  @Test func matchesADictionary() async {
    await propertyCheck(count: 300, input: Gen.int(in: 0...3).array(of: 1...400), Gen.int(in: 1...64)) {
      ops, spread in
      var index = KeyIndex()
      var model: [UInt64: Int32] = [:]
      var value: Int32 = 0
      for (n, op) in ops.enumerated() {
        // Keys share low bits often (multiples of 1024 plus a small spread), to exercise probing.
        let key = UInt64((n * 7919) % spread + 1) << 10 | UInt64(n % 3 + 1)
        value += 1
        switch op {
        case 0, 1:
          index[key] = value
          model[key] = value
        case 2:
          let victim = model.keys.sorted().first ?? key
          index[victim] = nil
          model[victim] = nil
        default:
          #expect(index[key] == model[key])
        }
        #expect(index.count == model.count)
      }
      for (key, frame) in model { #expect(index[key] == frame) }
      #expect(Dictionary(uniqueKeysWithValues: index.map { ($0.key, $0.value) }) == model)
    }
  }

  @Test func missingAndZeroKeys() {
    var index = KeyIndex()
    #expect(index[5] == nil && index.isEmpty)
    index[5] = 1
    #expect(index[0] == nil)
    #expect(index[5] == 1)
    index[5] = nil
    #expect(index[5] == nil && index.isEmpty)
  }
}
