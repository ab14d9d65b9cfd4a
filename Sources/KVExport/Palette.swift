/// The colours of the pictures: one per owner (cycling), the first six in the live view's order (blue,
/// red, green, magenta, cyan, yellow), each with a light tint for the frames it fills.
public enum Palette {
  /// Strong colours, for text, outlines, arrows and the legend's swatches.
  public static let owners = [
    "#2f80c0", "#d0413a", "#2a9d57", "#8e44ad", "#138d90", "#c98a0b", "#a0522d", "#c2378a",
  ]

  /// The strong colour of the owner with palette index `index` (a request's index).
  public static func owner(_ index: Int) -> String {
    owners[(index % owners.count + owners.count) % owners.count]
  }

  /// The light tint of the owner's colour: a quarter of it over white.
  public static func tint(_ index: Int) -> String { mix(owner(index), white: 3, of: 4) }

  public static let text = "#333333"
  public static let muted = "#777777"
  public static let freeFill = "#ffffff"
  public static let freeStroke = "#b0b0b0"
  public static let cachedFill = "#fdf3d7"
  public static let cachedStroke = "#b7950b"
  public static let usedFill = "#d5d5d5"
  public static let nullFill = "#ececec"
  public static let grid = "#999999"

  /// `color` (`#rrggbb`) with `white` parts of white in `of` parts.
  static func mix(_ color: String, white: Int, of parts: Int) -> String {
    let digits = Array(color.utf8.dropFirst())
    var result = "#"
    for channel in 0..<3 {
      let hex = String(decoding: digits[(channel * 2)..<(channel * 2 + 2)], as: UTF8.self)
      let value = Int(hex, radix: 16) ?? 0
      let mixed = (value * (parts - white) + 255 * white + parts / 2) / parts
      result += hex2(mixed)
    }
    return result
  }

  /// Two lower-case hex digits.
  static func hex2(_ value: Int) -> String {
    let text = String(max(0, min(255, value)), radix: 16)
    return text.count == 1 ? "0" + text : text
  }
}
