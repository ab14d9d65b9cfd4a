import KVEngine

/// The characters that stand for owners in the compact frames layout: each owner's first character
/// when those on screen all differ (`A`, `B`, `C` in a lesson); otherwise a letter per owner, the
/// selected request and then the owners with the most frames on screen first, with a key that names
/// them (`a r669 120`), so that the owners of a large pool can be told apart.
struct OwnerKey {
  /// Owners named by a letter, in the key's order; empty when first characters are used.
  let named: [(request: Int, glyph: Character, frames: Int)]
  /// Owners on screen beyond the letters, drawn as `other`.
  let unnamed: Int
  private let glyphs: [Int: Character]

  static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
  static let other: Character = "#"

  /// The key for the frames of `range` held by one page table each. O(frames in range).
  init(state: EngineState, own: Ownership, range: Range<Int>, selected: Int?) {
    var frames: [Int: Int] = [:]
    for f in range where own.holders[f] == 1 { frames[Int(own.owner[f]), default: 0] += 1 }
    let firsts = frames.keys.map { state.requests[$0].id.first ?? "?" }
    if Set(firsts).count == firsts.count {
      glyphs = Dictionary(uniqueKeysWithValues: zip(frames.keys, firsts))
      named = []
      unnamed = 0
      return
    }
    let order = frames.keys.sorted {
      ($0 == selected ? 0 : 1, -frames[$0]!, $0) < ($1 == selected ? 0 : 1, -frames[$1]!, $1)
    }
    let lettered = order.prefix(Self.letters.count)
    named = lettered.enumerated().map { ($0.element, Self.letters[$0.offset], frames[$0.element]!) }
    glyphs = Dictionary(uniqueKeysWithValues: named.map { ($0.request, $0.glyph) })
    unnamed = order.count - lettered.count
  }

  /// The character for request `r`'s frames.
  func glyph(_ r: Int) -> Character { glyphs[r] ?? Self.other }
}
