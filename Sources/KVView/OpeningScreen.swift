import KVEngine

/// How far the run of a file being opened has been built.
public struct BuildProgress: Equatable, Sendable {
  /// Steps run so far.
  public var steps: Int
  public var iteration: Int
  /// Requests finished, aborted or lost so far, of `requests` (0 for an allocator-only scenario).
  public var requestsDone: Int
  public var requests: Int

  public init(steps: Int, iteration: Int, requestsDone: Int, requests: Int) {
    self.steps = steps
    self.iteration = iteration
    self.requestsDone = requestsDone
    self.requests = requests
  }

  /// The progress of a run that has reached `state`.
  /// - Complexity: O(requests).
  public init(_ state: EngineState) {
    self.init(
      steps: state.step, iteration: state.iteration,
      requestsDone: state.requests.reduce(0) { $0 + ($1.isTerminal ? 1 : 0) }, requests: state.requests.count)
  }
}

/// The screen shown while a view opens a file: what is opened, how far reading it and building its run
/// have come, and that `q` quits.
public struct OpeningScreen: Sendable {
  /// The file or scenario being opened.
  public let title: String
  /// Nil while the file is read; then how far the run is built.
  public let progress: BuildProgress?

  public init(title: String, progress: BuildProgress?) {
    self.title = title
    self.progress = progress
  }

  /// The line that says how far opening has come.
  public var progressLine: String {
    guard let progress else { return "reading the file..." }
    var line = "building the run: \(Fmt.grouped(progress.steps)) steps"
    line += ", iteration \(Fmt.grouped(progress.iteration))"
    if progress.requests > 0 {
      line += ", \(Fmt.grouped(progress.requestsDone)) of \(Fmt.grouped(progress.requests)) requests done"
    }
    return line
  }

  /// The screen at `width` x `height`: the lines centred, the title cut and the rest wrapped to the width.
  public func render(width: Int, height: Int) -> Grid {
    var grid = Grid(width: width, height: height)
    guard width > 0, height > 0 else { return grid }
    let lines: [(String, TextStyle)] = [
      (Fmt.clip("opening \(title)", width, ellipsis: "..."), TextStyle(.title, bold: true)),
      (progressLine, TextStyle(.accent)),
      ("q quits", TextStyle(.hint)),
    ]
    var wrapped: [(String, TextStyle)] = []
    for (line, style) in lines { wrapped += Fmt.wrap(line, width: width).map { ($0, style) } }
    let top = max(0, (height - wrapped.count) / 2)
    for (i, (line, style)) in wrapped.enumerated() where top + i < height {
      grid.put(line, x: max(0, (width - line.count) / 2), y: top + i, style: style)
    }
    return grid
  }
}
