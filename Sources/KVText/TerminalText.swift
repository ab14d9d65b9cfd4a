/// Text bound for a terminal: no control characters (which could move the cursor, clear the screen or
/// switch screens) and, in a fixed-width cell, no character wider than one column.
public enum TerminalText {
  /// True for a C0 control (U+0000-U+001F), DEL (U+007F) or a C1 control (U+0080-U+009F).
  public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
  }

  /// The first control character of `text`, if any.
  public static func firstControl(in text: String) -> Unicode.Scalar? {
    text.unicodeScalars.first(where: isControl)
  }

  /// How a control character is named in messages: `U+001B`.
  public static func name(_ scalar: Unicode.Scalar) -> String {
    let hex = String(scalar.value, radix: 16, uppercase: true)
    return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
  }

  /// `text` with each control character replaced by `?`; newlines are kept when `keepNewlines`.
  public static func safe(_ text: String, keepNewlines: Bool = false) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var result = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      if isControl(scalar) && !(keepNewlines && scalar == "\n") {
        result.append("?")
      } else {
        result.append(scalar)
      }
    }
    return String(result)
  }

  /// True when `character` takes two terminal columns: East Asian wide and fullwidth characters, and
  /// emoji shown as pictures.
  public static func isWide(_ character: Character) -> Bool {
    let scalars = character.unicodeScalars
    guard let first = scalars.first, first.value >= 0x1100 else { return false }
    if scalars.contains(where: { $0.value == 0xFE0F }) { return true }
    if first.properties.isEmojiPresentation { return true }
    switch first.value {
    case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
      0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
      0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
      0x20000...0x2FFFD, 0x30000...0x3FFFD:
      return true
    default:
      return false
    }
  }

  /// True when `character` takes no column of its own: it begins with a combining mark, a format
  /// character (zero-width space, joiner, byte order mark) or a code point with no character.
  public static func isZeroWidth(_ character: Character) -> Bool {
    guard let first = character.unicodeScalars.first, !first.isASCII else { return false }
    switch first.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format, .unassigned, .surrogate: return true
    default: return false
    }
  }

  /// One grid cell made safe: a control character, a wide one and a zero-width one become `?`, so that
  /// a row of `width` cells is `width` columns on any terminal.
  public static func cell(_ character: Character) -> Character {
    if let ascii = character.asciiValue { return ascii < 0x20 || ascii == 0x7F ? "?" : character }
    if character.unicodeScalars.contains(where: isControl) || isWide(character) || isZeroWidth(character) {
      return "?"
    }
    return character
  }
}
