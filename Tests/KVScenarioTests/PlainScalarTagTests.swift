import Testing
import Yams

@testable import KVScenario

/// The loader resolves plain scalars by hand: the same tag as Yams' default resolver, for every shape
/// its rules tell apart and for random strings made of the characters they look at.
struct PlainScalarTagTests {
  static func expected(_ text: String) -> Yams.Tag.Name {
    Resolver.default.resolveTag(of: Node.scalar(.init(text)))
  }

  static let samples = [
    "", "~", "null", "Null", "NULL", "nULL", "yes", "Yes", "YES", "yEs", "no", "on", "OFF", "true", "False",
    "y", "n", "0", "00", "07", "08", "0_", "0o17", "0o8", "0b101", "0b2", "0b", "0x1F", "0xg", "0x", "-0",
    "+12", "1_000", "1:20", "1:20:59", "1:60", "1:5", "190:20:30", "0:30", "12", "123456789012345678901",
    "1.5", "1.", ".5", "._5", ".5e5", ".5e+5", "-.5", "1e5", "1e", "1E-5", "1.5e+", "1.5.5", "1:30.5",
    "1:30.", "+1.5", "-.inf", ".inf", ".Inf", "+.INF", ".nan", "-.nan", ".NaN", "<<", "=", "==",
    "2001-12-14", "2001-1-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
    "2001-12-14 21:59:43.10 Z", "2001-12-14T21:59:43", "2001-12-14T1:59:43", "2001-12-14 21:59:43 +05:",
    "2001-12-1", "A", "abc", "r12", "12a", "1 2", "-", "+", ".", "1_", "0b_", "0x_", "  ",
  ]

  @Test(arguments: samples)
  func sameTagAsYams(_ text: String) {
    #expect(PlainScalarTag.of(text) == Self.expected(text), "\(text)")
  }

  @Test func randomStringsOfTheRulesCharacters() {
    let alphabet = Array("0123456789_-+.:eExXbBoO aAfFinIN\tTtZz<=~")
    var state: UInt64 = 12_345
    for _ in 0..<20_000 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      var text = ""
      var bits = state
      for _ in 0..<Int(bits % 12) {
        bits = bits &* 2_862_933_555_777_941_757 &+ 3_037_000_493
        text.append(alphabet[Int(bits >> 33) % alphabet.count])
      }
      #expect(PlainScalarTag.of(text) == Self.expected(text), "\(text)")
    }
  }
}
