import KVText
import KVView

/// A minimal SVG 1.1 document: elements in drawing order, every text and attribute value escaped, every
/// coordinate an integer, so the same picture always gives the same bytes.
public struct SVGDocument: Sendable {
  /// A text's horizontal anchor.
  public enum Anchor: String, Sendable {
    case start, middle, end
  }

  /// A text's font family.
  public enum Font: String, Sendable {
    case sans = "DejaVu Sans, Arial, Helvetica, sans-serif"
    case mono = "DejaVu Sans Mono, Menlo, Consolas, monospace"
  }

  public let width: Int
  public let height: Int
  private var definitions: [String] = []
  private var elements: [String] = []

  public init(width: Int, height: Int) {
    self.width = max(1, width)
    self.height = max(1, height)
  }

  /// Defines an arrow head (an SVG marker) of `color`, referred to as `url(#id)`.
  public mutating func arrowMarker(id: String, color: String) {
    definitions.append(
      "<marker id=\"\(Self.escape(id))\" markerWidth=\"8\" markerHeight=\"6\" refX=\"8\" refY=\"3\""
        + " orient=\"auto\" markerUnits=\"userSpaceOnUse\"><path d=\"M0,0 L8,3 L0,6 Z\" fill=\"\(color)\"/></marker>"
    )
  }

  /// A rectangle; `dash` gives a dashed outline, `rx` rounded corners.
  public mutating func rect(
    x: Int, y: Int, width: Int, height: Int, fill: String, stroke: String? = nil, strokeWidth: Int = 1,
    rx: Int = 0, dash: Bool = false
  ) {
    var element = "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(max(0, width))\" height=\"\(max(0, height))\""
    if rx > 0 { element += " rx=\"\(rx)\"" }
    element += " fill=\"\(fill)\""
    if let stroke {
      element += " stroke=\"\(stroke)\" stroke-width=\"\(strokeWidth)\""
      if dash { element += " stroke-dasharray=\"4,3\"" }
    }
    elements.append(element + "/>")
  }

  /// A straight line.
  public mutating func line(x1: Int, y1: Int, x2: Int, y2: Int, stroke: String, strokeWidth: Int = 1) {
    elements.append(
      "<line x1=\"\(x1)\" y1=\"\(y1)\" x2=\"\(x2)\" y2=\"\(y2)\" stroke=\"\(stroke)\" stroke-width=\"\(strokeWidth)\"/>"
    )
  }

  /// A cubic curve from `from` to `to` leaving and entering horizontally, ending in the marker `marker`.
  public mutating func arrow(from: (x: Int, y: Int), to: (x: Int, y: Int), color: String, marker: String) {
    let bend = max(20, (to.x - from.x) / 2)
    let d =
      "M\(from.x),\(from.y) C\(from.x + bend),\(from.y) \(to.x - bend),\(to.y) \(to.x),\(to.y)"
    elements.append(
      "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-opacity=\"0.85\""
        + " marker-end=\"url(#\(Self.escape(marker)))\"/>")
  }

  /// A line of text at baseline `y`.
  public mutating func text(
    _ text: String, x: Int, y: Int, size: Int, color: String = "#333333", font: Font = .sans,
    anchor: Anchor = .start, bold: Bool = false
  ) {
    var element =
      "<text x=\"\(x)\" y=\"\(y)\" font-family=\"\(font.rawValue)\" font-size=\"\(size)\" fill=\"\(color)\""
    if anchor != .start { element += " text-anchor=\"\(anchor.rawValue)\"" }
    if bold { element += " font-weight=\"bold\"" }
    if font == .mono { element += " xml:space=\"preserve\"" }
    elements.append(element + ">" + Self.escape(text) + "</text>")
  }

  /// A comment naming the part of the picture that follows (for a reader of the file).
  public mutating func comment(_ text: String) {
    elements.append("<!-- " + Self.escape(text).replacingOccurrences("--", "- -") + " -->")
  }

  /// The document as XML text, ending with a newline.
  public var xml: String {
    var lines = [
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(width)\" height=\"\(height)\""
        + " viewBox=\"0 0 \(width) \(height)\">",
    ]
    if !definitions.isEmpty {
      lines.append("<defs>")
      lines += definitions
      lines.append("</defs>")
    }
    lines.append("<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>")
    lines += elements
    lines.append("</svg>")
    return lines.joined(separator: "\n") + "\n"
  }

  /// `text` fit for XML character data or an attribute value: markup characters as entities, control
  /// characters (not allowed in XML 1.0) as `?`.
  public static func escape(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for scalar in TerminalText.safe(text).unicodeScalars {
      switch scalar {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      case "'": result += "&apos;"
      case "\u{FFFE}", "\u{FFFF}": result += "?"
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result
  }
}
