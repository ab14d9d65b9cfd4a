/// The allocator's routines, as the listings show them: the seed's unchecked pool and the fixed,
/// checked pool with its LRU list of cached frames. The anchors are the lines whose live values the
/// code panel fills in from a step's facts.
extension Anchor {
  public static let allocMaskTest = Anchor("alloc.mask-test")
  public static let allocLSB = Anchor("alloc.lsb")
  public static let allocIndex = Anchor("alloc.idx")
  public static let allocClear = Anchor("alloc.clear")
  public static let allocLRUTest = Anchor("alloc.lru-test")
  public static let allocEvict = Anchor("alloc.evict")
  public static let allocUnindex = Anchor("alloc.unindex")
  public static let allocFail = Anchor("alloc.fail")
  public static let allocReturn = Anchor("alloc.return")
  public static let freeEntry = Anchor("free.entry")
  public static let freeReject = Anchor("free.reject")
  public static let freeDecrement = Anchor("free.dec")
  public static let freeIfZero = Anchor("free.if-zero")
  public static let freeToLRU = Anchor("free.to-lru")
  public static let freeMaskSet = Anchor("free.mask-set")
  public static let incRefEntry = Anchor("inc-ref.entry")
  public static let incRefReject = Anchor("inc-ref.reject")
  public static let incRefLeaveLRU = Anchor("inc-ref.leave-lru")
  public static let incRefIncrement = Anchor("inc-ref.inc")
  public static let allocNEntry = Anchor("alloc-n.entry")
  public static let allocNFail = Anchor("alloc-n.fail")
  public static let allocNReturn = Anchor("alloc-n.return")
}

public enum AllocatorListing {
  /// The seed's pool: no checks, no cache.
  public static let unchecked: [Routine] = [
    Routine(
      "alloc()", allocator: .alloc,
      [
        ("def alloc():", nil),
        ("    lsb = free_mask & -free_mask", .allocLSB),
        ("    if lsb == 0: return -1", .allocFail),
        ("    idx = lsb.bit_length() - 1", .allocIndex),
        ("    free_mask ^= lsb", .allocClear),
        ("    refs[idx] = 1", nil),
        ("    return idx", .allocReturn),
      ]),
    Routine(
      "free(idx)", allocator: .free,
      [
        ("def free(idx):", .freeEntry),
        ("    refs[idx] -= 1", .freeDecrement),
        ("    if refs[idx] == 0:", .freeIfZero),
        ("        free_mask |= 1 << idx", .freeMaskSet),
      ]),
    Routine(
      "inc_ref(idx)", allocator: .incRef,
      [
        ("def inc_ref(idx):", .incRefEntry),
        ("    refs[idx] += 1", .incRefIncrement),
      ]),
    allocN,
  ]

  /// The fixed pool: rejects misuse, keeps freed cached frames in an LRU list and evicts its head.
  public static let checked: [Routine] = [
    Routine(
      "alloc()", allocator: .alloc,
      [
        ("def alloc():", nil),
        ("    if free_mask:", .allocMaskTest),
        ("        lsb = free_mask & -free_mask", .allocLSB),
        ("        idx = lsb.bit_length() - 1", .allocIndex),
        ("        free_mask ^= lsb", .allocClear),
        ("    elif lru:", .allocLRUTest),
        ("        idx = lru.pop_head()", .allocEvict),
        ("        del index[key[idx]]", .allocUnindex),
        ("    else: return -1", .allocFail),
        ("    refs[idx] = 1", nil),
        ("    return idx", .allocReturn),
      ]),
    Routine(
      "free(idx)", allocator: .free,
      [
        ("def free(idx):", .freeEntry),
        ("    if refs[idx] <= 0: raise DoubleFree", .freeReject),
        ("    refs[idx] -= 1", .freeDecrement),
        ("    if refs[idx] == 0:", .freeIfZero),
        ("        if idx in index: lru.append(idx)", .freeToLRU),
        ("        else: free_mask |= 1 << idx", .freeMaskSet),
      ]),
    Routine(
      "inc_ref(idx)", allocator: .incRef,
      [
        ("def inc_ref(idx):", .incRefEntry),
        ("    if free_mask >> idx & 1: raise FreeFrame", .incRefReject),
        ("    if idx in lru: lru.remove(idx)", .incRefLeaveLRU),
        ("    refs[idx] += 1", .incRefIncrement),
      ]),
    allocN,
  ]

  static let allocN = Routine(
    "alloc_n(n)", allocator: .allocN,
    [
      ("def alloc_n(n):", .allocNEntry),
      ("    pages = []", nil),
      ("    for _ in range(n):", nil),
      ("        p = alloc()", nil),
      ("        if p < 0:", nil),
      ("            for q in pages: free(q)", nil),
      ("            return []", .allocNFail),
      ("        pages.append(p)", nil),
      ("    return pages", .allocNReturn),
    ])
}
