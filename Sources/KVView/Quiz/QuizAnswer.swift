/// What a student predicts, or what the step did: the four shapes a quiz answer takes.
public enum QuizAnswer: Sendable, Equatable {
  /// A frame (block) number; -1 when the operation gets none.
  case frame(Int)
  /// The free mask in binary, most significant frame first (frame 0 is the last character).
  case mask(String)
  /// Yes or no.
  case decision(Bool)
  /// A request id.
  case request(String)

  /// The answer as the view writes it.
  public var text: String {
    switch self {
    case .frame(let frame): "\(frame)"
    case .mask(let bits): bits
    case .decision(let yes): yes ? "yes" : "no"
    case .request(let id): id
    }
  }
}
