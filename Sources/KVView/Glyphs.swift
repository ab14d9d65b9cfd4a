/// The characters the renderer draws with: Unicode box drawing and blocks, or pure ASCII.
struct Glyphs: Sendable {
  let unicode: Bool
  // Light box.
  let h, v, tl, tr, bl, br: Character
  // Heavy (double) box for frames the last step touched.
  let hh, vv, ttl, ttr, tbl, tbr: Character
  /// Overview shades, from a few frames in use to all of them.
  let shades: [Character]
  /// A free cell of the overview and a free frame in the compact strip.
  let emptyCell: Character
  let cachedCell: Character
  let sharedCell: Character
  let marker: String
  let arrow: String
  let separator: String
  let left, right, up, down: String
  let ellipsis: String
  let cursor: Character
  let dash: String

  init(unicode: Bool) {
    self.unicode = unicode
    if unicode {
      (h, v, tl, tr, bl, br) = ("─", "│", "┌", "┐", "└", "┘")
      (hh, vv, ttl, ttr, tbl, tbr) = ("═", "║", "╔", "╗", "╚", "╝")
      shades = ["░", "▒", "▓", "█"]
      emptyCell = "·"
      cachedCell = "○"
      sharedCell = "◆"
      marker = "▶"
      arrow = "→"
      separator = " │ "
      (left, right, up, down) = ("←", "→", "↑", "↓")
      ellipsis = "…"
      cursor = "█"
      dash = "—"
    } else {
      (h, v, tl, tr, bl, br) = ("-", "|", "+", "+", "+", "+")
      (hh, vv, ttl, ttr, tbl, tbr) = ("=", "#", "#", "#", "#", "#")
      shades = [".", ":", "#", "#"]
      emptyCell = " "
      cachedCell = "o"
      sharedCell = "*"
      marker = ">"
      arrow = "->"
      separator = " | "
      (left, right, up, down) = ("<-", "->", "Up", "Dn")
      ellipsis = "~"
      cursor = "_"
      dash = "-"
    }
  }

  /// The shade for `used` of `total` frames (0 < used).
  func shade(_ used: Int, of total: Int) -> Character {
    guard total > 0, used > 0 else { return emptyCell }
    if used >= total { return shades[3] }
    let level = min(2, (used * 3) / total)
    return shades[level]
  }
}
