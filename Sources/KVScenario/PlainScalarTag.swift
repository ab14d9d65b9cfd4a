import Yams

/// The tag YAML 1.1 gives a plain scalar without an explicit tag, decided by hand from its bytes.
///
/// It gives exactly the tag of Yams' default resolver (the same rules in the same order: bool, int,
/// float, merge, null, timestamp, value, else str) without running its regular expressions, which cost
/// tens of thousands of instructions per scalar. Complexity: O(length of the scalar).
enum PlainScalarTag {
  /// The resolved tag of the plain scalar `text`.
  static func of(_ text: String) -> Tag.Name {
    var text = text
    return text.withUTF8 { bytes in
      // The common case first: a decimal integer without sign, separators or leading zero.
      if let first = bytes.first, (49...57).contains(first) || bytes.count == 1 && first == 48,
        bytes.allSatisfy(Cursor.isDigit)
      {
        return .int
      }
      var scalar = Cursor(bytes)
      if isBool(bytes) { return .bool }
      if scalar.matchesInt() { return .int }
      scalar.position = 0
      if scalar.matchesFloat() { return .float }
      if bytes.elementsEqual("<<".utf8) { return .merge }
      if isNull(bytes) { return .null }
      scalar.position = 0
      if scalar.matchesTimestamp() { return .timestamp }
      if bytes.elementsEqual("=".utf8) { return .value }
      return .str
    }
  }

  private static let bools: [String] = [
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF",
  ]

  private static func isBool(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let first = bytes.first, bytes.count <= 5, "yYnNtTfFoO".utf8.contains(first) else { return false }
    return bools.contains { bytes.elementsEqual($0.utf8) }
  }

  private static func isNull(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    bytes.isEmpty || ["~", "null", "Null", "NULL"].contains { bytes.elementsEqual($0.utf8) }
  }

  /// A position in the scalar's bytes with the small matchers the rules are made of. Each `matches`
  /// function tries the alternatives of one rule from the start and is true when one spans the whole
  /// scalar. The greedy loops never need to backtrack: in every rule a repeated class is followed by a
  /// byte outside it or by the end.
  private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { position == bytes.count }
    var next: UInt8? { position < bytes.count ? bytes[position] : nil }

    /// Consumes one byte in `range`.
    mutating func take(_ range: ClosedRange<UInt8>) -> Bool {
      guard let byte = next, range.contains(byte) else { return false }
      position += 1
      return true
    }

    /// Consumes `byte` if it comes next.
    mutating func take(_ byte: UInt8) -> Bool {
      guard next == byte else { return false }
      position += 1
      return true
    }

    /// Consumes bytes while `accept` holds; returns how many.
    @discardableResult
    mutating func takeWhile(_ accept: (UInt8) -> Bool) -> Int {
      let start = position
      while let byte = next, accept(byte) { position += 1 }
      return position - start
    }

    mutating func takeSign() { _ = take(UInt8(ascii: "-")) || take(UInt8(ascii: "+")) }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
    static func isDigitOrUnderscore(_ byte: UInt8) -> Bool { isDigit(byte) || byte == 95 }

    /// `(?::[0-5]?[0-9])+`: one or more sexagesimal groups.
    mutating func takeSexagesimal() -> Bool {
      var groups = 0
      while take(UInt8(ascii: ":")) {
        if let first = next, (48...53).contains(first), position + 1 < bytes.count,
          Cursor.isDigit(bytes[position + 1])
        {
          position += 2
        } else if !take(48...57) {
          return false
        }
        groups += 1
      }
      return groups > 0
    }

    /// `[-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ |
    /// [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`
    mutating func matchesInt() -> Bool {
      takeSign()
      let start = position
      if take(UInt8(ascii: "0")) {
        if atEnd { return true }
        let afterZero = position
        if take(UInt8(ascii: "b")) {
          return takeWhile { $0 == 48 || $0 == 49 || $0 == 95 } > 0 && atEnd
        }
        if take(UInt8(ascii: "x")) {
          return takeWhile {
            Cursor.isDigitOrUnderscore($0) || (65...70).contains($0) || (97...102).contains($0)
          }
            > 0 && atEnd
        }
        _ = take(UInt8(ascii: "o"))
        if takeWhile({ (48...55).contains($0) || $0 == 95 }) > 0 && atEnd { return true }
        position = afterZero
        return false
      }
      position = start
      guard take(49...57) else { return false }
      takeWhile(Cursor.isDigitOrUnderscore)
      if atEnd { return true }
      return takeSexagesimal() && atEnd
    }

    /// `[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)? | \.[0-9_]+(?:[eE][-+][0-9]+)? |
    /// [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)`
    mutating func matchesFloat() -> Bool {
      // \.[0-9_]+(?:[eE][-+][0-9]+)? and \.(?:nan|NaN|NAN), without a sign.
      if next == UInt8(ascii: ".") {
        if matchesDotForm() { return true }
        position = 0
      }
      takeSign()
      if take(UInt8(ascii: ".")) {
        return ["inf", "Inf", "INF"].contains { word in
          bytes.count - position == 3 && bytes[position...].elementsEqual(word.utf8)
        }
      }
      guard take(48...57) else { return false }
      takeWhile(Cursor.isDigitOrUnderscore)
      let afterInteger = position
      // The decimal form.
      if take(UInt8(ascii: ".")) { takeWhile(Cursor.isDigitOrUnderscore) }
      if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
        takeSign()
        if takeWhile(Cursor.isDigit) > 0 && atEnd { return true }
      } else if atEnd {
        return true
      }
      // The sexagesimal form.
      position = afterInteger
      guard takeSexagesimal(), take(UInt8(ascii: ".")) else { return false }
      takeWhile(Cursor.isDigitOrUnderscore)
      return atEnd
    }

    /// `\.[0-9_]+(?:[eE][-+][0-9]+)?` or `\.(?:nan|NaN|NAN)`, from a leading dot.
    private mutating func matchesDotForm() -> Bool {
      let start = position
      _ = take(UInt8(ascii: "."))
      if ["nan", "NaN", "NAN"].contains(where: { word in
        bytes.count - position == 3 && bytes[position...].elementsEqual(word.utf8)
      }) {
        return true
      }
      guard takeWhile(Cursor.isDigitOrUnderscore) > 0 else {
        position = start
        return false
      }
      if atEnd { return true }
      guard take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) else { return false }
      guard take(UInt8(ascii: "-")) || take(UInt8(ascii: "+")) else { return false }
      return takeWhile(Cursor.isDigit) > 0 && atEnd
    }

    /// `[0-9]{4}-[0-9]{2}-[0-9]{2} | [0-9]{4}-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9]{2}:
    /// [0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?`
    mutating func matchesTimestamp() -> Bool {
      guard takeDigits(4), take(UInt8(ascii: "-")), takeDigits(1) else { return false }
      let monthTwo = take(48...57)
      guard take(UInt8(ascii: "-")), takeDigits(1) else { return false }
      let dayTwo = take(48...57)
      if atEnd { return monthTwo && dayTwo }
      if !take(UInt8(ascii: "T")) && !take(UInt8(ascii: "t")) {
        guard takeWhile({ $0 == 32 || $0 == 9 }) > 0 else { return false }
      }
      guard takeDigits(1) else { return false }
      _ = take(48...57)
      guard take(UInt8(ascii: ":")), takeDigits(2), take(UInt8(ascii: ":")), takeDigits(2) else {
        return false
      }
      if take(UInt8(ascii: ".")) { takeWhile(Cursor.isDigit) }
      if atEnd { return true }
      takeWhile { $0 == 32 || $0 == 9 }
      if take(UInt8(ascii: "Z")) { return atEnd }
      guard take(UInt8(ascii: "-")) || take(UInt8(ascii: "+")), takeDigits(1) else { return false }
      _ = take(48...57)
      if take(UInt8(ascii: ":")) { guard takeDigits(2) else { return false } }
      return atEnd
    }

    /// Consumes exactly `count` digits.
    mutating func takeDigits(_ count: Int) -> Bool {
      for _ in 0..<count where !take(48...57) { return false }
      return true
    }
  }
}
