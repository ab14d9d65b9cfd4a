/// A JSON value read from one line of a JSON Lines file, with the column where it starts, so that a
/// message about it can point at it. Numbers keep their text (block hashes exceed 64-bit signed
/// integers, and their text is what streams are compared by).
struct LineJSON: Sendable {
  enum Kind: Sendable {
    case object([(key: String, value: LineJSON)])
    case array([LineJSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null
  }

  var kind: Kind
  /// The 1-based column (in Unicode scalars) of the value's first character.
  var column: Int

  /// The member `key` of an object (nil when absent or when this is not an object).
  subscript(key: String) -> LineJSON? {
    guard case .object(let members) = kind else { return nil }
    return members.last { $0.key == key }?.value
  }

  var isObject: Bool { if case .object = kind { true } else { false } }
  var isNull: Bool { if case .null = kind { true } else { false } }

  var array: [LineJSON]? { if case .array(let items) = kind { items } else { nil } }
  var string: String? { if case .string(let text) = kind { text } else { nil } }

  /// The value as an integer, when it is a number without fraction or exponent that fits.
  var int: Int? { if case .number(let text) = kind { Int(text) } else { nil } }

  /// The value as a block hash: an integer's digits or a string as written.
  var hash: String? {
    switch kind {
    case .number(let text) where !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }): text
    case .string(let text): text
    default: nil
    }
  }

  /// What the value is, for messages: `an object`, `a list`, `the string "x"`, `the number 3`.
  var described: String {
    switch kind {
    case .object: "an object"
    case .array: "a list"
    case .string(let text): "the string \"\(text.prefix(30))\""
    case .number(let text): "the number \(text.prefix(30))"
    case .bool(let value): "\(value)"
    case .null: "null"
    }
  }
}

/// Why a line is not JSON, and where.
struct LineJSONError: Error, Sendable {
  var column: Int
  var message: String
}

/// Parses one line of JSON (RFC 8259), tracking columns; nesting deeper than 64 levels is refused.
struct LineJSONParser {
  private let scalars: [Unicode.Scalar]
  private var index = 0
  private static let maximumDepth = 64

  /// The value `text` holds, which must be all of it but white space.
  static func parse(_ text: Substring) throws(LineJSONError) -> LineJSON {
    var parser = LineJSONParser(scalars: Array(text.unicodeScalars))
    parser.skipSpace()
    let value = try parser.value(depth: 0)
    parser.skipSpace()
    if parser.index < parser.scalars.count {
      throw parser.error("unexpected `\(parser.scalars[parser.index])` after the value")
    }
    return value
  }

  private init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

  private var column: Int { index + 1 }

  private func error(_ message: String, at column: Int? = nil) -> LineJSONError {
    LineJSONError(column: column ?? self.column, message: message)
  }

  private mutating func skipSpace() {
    while index < scalars.count, [" ", "\t", "\r", "\n"].contains(scalars[index]) { index += 1 }
  }

  private mutating func value(depth: Int) throws(LineJSONError) -> LineJSON {
    guard depth < Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
    guard index < scalars.count else { throw error("the line ends where a value should be") }
    let start = column
    switch scalars[index] {
    case "{": return LineJSON(kind: .object(try members(depth: depth)), column: start)
    case "[": return LineJSON(kind: .array(try items(depth: depth)), column: start)
    case "\"": return LineJSON(kind: .string(try string()), column: start)
    case "t":
      try literal("true")
      return LineJSON(kind: .bool(true), column: start)
    case "f":
      try literal("false")
      return LineJSON(kind: .bool(false), column: start)
    case "n":
      try literal("null")
      return LineJSON(kind: .null, column: start)
    case "-", "0"..."9": return LineJSON(kind: .number(try number()), column: start)
    default: throw error("unexpected `\(scalars[index])`; expected a JSON value")
    }
  }

  private mutating func literal(_ word: String) throws(LineJSONError) {
    let expected = Array(word.unicodeScalars)
    guard index + expected.count <= scalars.count,
      Array(scalars[index..<(index + expected.count)]) == expected
    else { throw error("unexpected `\(scalars[index])`; expected a JSON value") }
    index += expected.count
  }

  private mutating func members(depth: Int) throws(LineJSONError) -> [(key: String, value: LineJSON)] {
    index += 1
    var members: [(key: String, value: LineJSON)] = []
    skipSpace()
    if index < scalars.count, scalars[index] == "}" {
      index += 1
      return members
    }
    while true {
      skipSpace()
      guard index < scalars.count, scalars[index] == "\"" else { throw error("expected a key in quotes") }
      let key = try string()
      skipSpace()
      guard index < scalars.count, scalars[index] == ":" else { throw error("expected `:` after the key") }
      index += 1
      skipSpace()
      members.append((key, try value(depth: depth + 1)))
      skipSpace()
      guard index < scalars.count else { throw error("the line ends inside an object; expected `}`") }
      if scalars[index] == "}" {
        index += 1
        return members
      }
      guard scalars[index] == "," else { throw error("expected `,` or `}`") }
      index += 1
    }
  }

  private mutating func items(depth: Int) throws(LineJSONError) -> [LineJSON] {
    index += 1
    var items: [LineJSON] = []
    skipSpace()
    if index < scalars.count, scalars[index] == "]" {
      index += 1
      return items
    }
    while true {
      skipSpace()
      items.append(try value(depth: depth + 1))
      skipSpace()
      guard index < scalars.count else { throw error("the line ends inside a list; expected `]`") }
      if scalars[index] == "]" {
        index += 1
        return items
      }
      guard scalars[index] == "," else { throw error("expected `,` or `]`") }
      index += 1
    }
  }

  private mutating func string() throws(LineJSONError) -> String {
    let start = column
    index += 1
    var text = String.UnicodeScalarView()
    while index < scalars.count {
      let c = scalars[index]
      index += 1
      switch c {
      case "\"": return String(text)
      case "\\":
        guard index < scalars.count else { break }
        let escape = scalars[index]
        index += 1
        switch escape {
        case "\"", "\\", "/": text.append(escape)
        case "b": text.append("\u{8}")
        case "f": text.append("\u{C}")
        case "n": text.append("\n")
        case "r": text.append("\r")
        case "t": text.append("\t")
        case "u":
          var code = try hex4()
          if (0xD800..<0xDC00).contains(code), index + 1 < scalars.count, scalars[index] == "\\",
            scalars[index + 1] == "u"
          {
            index += 2
            let low = try hex4()
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          }
          text.append(Unicode.Scalar(code) ?? "\u{FFFD}")
        default: throw error("unknown escape `\\\(escape)`", at: column - 2)
        }
      default:
        guard c.value >= 0x20 else { throw error("a control character inside a string", at: column - 1) }
        text.append(c)
      }
    }
    throw error("the string that starts here is not closed", at: start)
  }

  private mutating func hex4() throws(LineJSONError) -> UInt32 {
    guard index + 4 <= scalars.count else { throw error("expected 4 hex digits after \\u") }
    var code: UInt32 = 0
    for scalar in scalars[index..<(index + 4)] {
      guard let digit = Character(scalar).hexDigitValue else {
        throw error("expected 4 hex digits after \\u")
      }
      code = code << 4 | UInt32(digit)
    }
    index += 4
    return code
  }

  private mutating func number() throws(LineJSONError) -> String {
    let start = index
    func digits() -> Int {
      let from = index
      while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
      return index - from
    }
    if scalars[index] == "-" { index += 1 }
    guard digits() > 0 else { throw error("expected digits") }
    if index < scalars.count, scalars[index] == "." {
      index += 1
      guard digits() > 0 else { throw error("expected digits after `.`") }
    }
    if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
      index += 1
      if index < scalars.count, scalars[index] == "+" || scalars[index] == "-" { index += 1 }
      guard digits() > 0 else { throw error("expected digits in the exponent") }
    }
    var text = String.UnicodeScalarView()
    text.append(contentsOf: scalars[start..<index])
    return String(text)
  }
}
