/// A small PNG reader for the render test: 8-bit RGB or RGBA, not interlaced (what rsvg-convert
/// writes), with its own inflate (RFC 1951) so the test needs no zlib binding.
struct PNG {
  var width: Int
  var height: Int
  /// Red, green, blue of each pixel, row by row.
  var pixels: [(UInt8, UInt8, UInt8)]

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  init(_ bytes: [UInt8]) throws {
    let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]
    guard bytes.count > 8, Array(bytes[0..<8]) == signature else { throw Failure(description: "not a PNG") }
    var offset = 8
    var header: [UInt8] = []
    var compressed: [UInt8] = []
    func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
    while offset + 8 <= bytes.count {
      let length = be32(offset)
      let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
      let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
      if type == "IHDR" { header = data }
      if type == "IDAT" { compressed += data }
      if type == "IEND" { break }
      offset += 12 + length
    }
    guard header.count == 13 else { throw Failure(description: "no IHDR") }
    width = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
    height = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
    let channels: Int
    switch (header[8], header[9], header[12]) {
    case (8, 2, 0): channels = 3
    case (8, 6, 0): channels = 4
    default: throw Failure(description: "unsupported PNG: depth \(header[8]), colour type \(header[9])")
    }
    // zlib: a two-byte header, the deflate stream, a checksum.
    var inflater = Inflater(Array(compressed.dropFirst(2)))
    let raw = try inflater.inflate()
    let stride = width * channels
    guard raw.count >= height * (stride + 1) else { throw Failure(description: "short image data") }
    var previous = [UInt8](repeating: 0, count: stride)
    var pixels: [(UInt8, UInt8, UInt8)] = []
    pixels.reserveCapacity(width * height)
    for y in 0..<height {
      let start = y * (stride + 1)
      let filter = raw[start]
      var row = Array(raw[(start + 1)..<(start + 1 + stride)])
      for i in 0..<stride {
        let a = i >= channels ? Int(row[i - channels]) : 0
        let b = Int(previous[i])
        let c = i >= channels ? Int(previous[i - channels]) : 0
        let predictor: Int
        switch filter {
        case 0: predictor = 0
        case 1: predictor = a
        case 2: predictor = b
        case 3: predictor = (a + b) / 2
        case 4:
          let p = a + b - c
          let (pa, pb, pc) = ((p - a).magnitude, (p - b).magnitude, (p - c).magnitude)
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
        default: throw Failure(description: "bad filter \(filter) in row \(y)")
        }
        row[i] = UInt8((Int(row[i]) + predictor) & 0xFF)
      }
      for x in 0..<width {
        pixels.append((row[x * channels], row[x * channels + 1], row[x * channels + 2]))
      }
      previous = row
    }
    self.pixels = pixels
  }

  /// How many pixels have the colour `#rrggbb`.
  func count(_ hex: String) -> Int {
    let value = Int(hex.dropFirst(), radix: 16) ?? -1
    let (r, g, b) = (UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
    return pixels.reduce(0) { $0 + ($1.0 == r && $1.1 == g && $1.2 == b ? 1 : 0) }
  }
}

/// A deflate decoder: stored, fixed and dynamic Huffman blocks.
struct Inflater {
  private let input: [UInt8]
  private var position = 0
  private var bitBuffer = 0
  private var bitCount = 0
  private var output: [UInt8] = []

  init(_ input: [UInt8]) { self.input = input }

  /// A canonical Huffman code: how many codes of each length, and the symbols in code order.
  private struct Code {
    var counts = [Int](repeating: 0, count: 16)
    var symbols: [Int] = []

    init(lengths: [Int]) {
      for length in lengths { counts[length] += 1 }
      counts[0] = 0
      var offsets = [Int](repeating: 0, count: 16)
      for length in 1..<16 { offsets[length] = offsets[length - 1] + counts[length - 1] }
      symbols = [Int](repeating: 0, count: lengths.count)
      for (symbol, length) in lengths.enumerated() where length > 0 {
        symbols[offsets[length]] = symbol
        offsets[length] += 1
      }
    }
  }

  private static let lengthBase = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
    227,
    258,
  ]
  private static let lengthExtra = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  private static let distanceBase = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
    4097,
    6145, 8193, 12289, 16385, 24577,
  ]
  private static let distanceExtra = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]
  private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

  mutating func inflate() throws -> [UInt8] {
    var last = false
    while !last {
      last = try bits(1) == 1
      switch try bits(2) {
      case 0: try stored()
      case 1:
        let literal = Code(
          lengths: Array(repeating: 8, count: 144) + Array(repeating: 9, count: 112)
            + Array(repeating: 7, count: 24) + Array(repeating: 8, count: 8))
        try codes(literal, Code(lengths: Array(repeating: 5, count: 30)))
      case 2:
        let (literal, distance) = try dynamicCodes()
        try codes(literal, distance)
      default: throw PNG.Failure(description: "bad deflate block type")
      }
    }
    return output
  }

  private mutating func bits(_ n: Int) throws -> Int {
    while bitCount < n {
      guard position < input.count else { throw PNG.Failure(description: "deflate data ends early") }
      bitBuffer |= Int(input[position]) << bitCount
      position += 1
      bitCount += 8
    }
    let value = bitBuffer & ((1 << n) - 1)
    bitBuffer >>= n
    bitCount -= n
    return value
  }

  private mutating func stored() throws {
    bitBuffer = 0
    bitCount = 0
    guard position + 4 <= input.count else { throw PNG.Failure(description: "short stored block") }
    let length = Int(input[position]) | Int(input[position + 1]) << 8
    position += 4
    guard position + length <= input.count else { throw PNG.Failure(description: "short stored block") }
    output += input[position..<(position + length)]
    position += length
  }

  /// Reads one symbol, a bit at a time, walking the code lengths.
  private mutating func decode(_ code: Code) throws -> Int {
    var value = 0
    var first = 0
    var index = 0
    for length in 1..<16 {
      value |= try bits(1)
      let count = code.counts[length]
      if value - first < count { return code.symbols[index + value - first] }
      index += count
      first = (first + count) << 1
      value <<= 1
    }
    throw PNG.Failure(description: "bad Huffman code")
  }

  private mutating func dynamicCodes() throws -> (Code, Code) {
    let literals = try bits(5) + 257
    let distances = try bits(5) + 1
    let codeLengths = try bits(4) + 4
    var lengthsOfLengths = [Int](repeating: 0, count: 19)
    for i in 0..<codeLengths { lengthsOfLengths[Self.codeLengthOrder[i]] = try bits(3) }
    let lengthCode = Code(lengths: lengthsOfLengths)
    var lengths: [Int] = []
    while lengths.count < literals + distances {
      let symbol = try decode(lengthCode)
      switch symbol {
      case 0..<16: lengths.append(symbol)
      case 16:
        guard let previous = lengths.last else { throw PNG.Failure(description: "repeat with no length") }
        lengths += Array(repeating: previous, count: 3 + (try bits(2)))
      case 17: lengths += Array(repeating: 0, count: 3 + (try bits(3)))
      default: lengths += Array(repeating: 0, count: 11 + (try bits(7)))
      }
    }
    return (
      Code(lengths: Array(lengths[0..<literals])),
      Code(lengths: Array(lengths[literals..<(literals + distances)]))
    )
  }

  private mutating func codes(_ literal: Code, _ distance: Code) throws {
    while true {
      let symbol = try decode(literal)
      if symbol < 256 {
        output.append(UInt8(symbol))
      } else if symbol == 256 {
        return
      } else {
        let l = symbol - 257
        guard l < Self.lengthBase.count else { throw PNG.Failure(description: "bad length symbol") }
        let length = Self.lengthBase[l] + (try bits(Self.lengthExtra[l]))
        let d = try decode(distance)
        guard d < Self.distanceBase.count else { throw PNG.Failure(description: "bad distance symbol") }
        let back = Self.distanceBase[d] + (try bits(Self.distanceExtra[d]))
        guard back <= output.count else { throw PNG.Failure(description: "distance too far back") }
        let start = output.count - back
        for i in 0..<length { output.append(output[start + i]) }
      }
    }
  }
}
