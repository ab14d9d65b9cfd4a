import Foundation
import KVEngine
import KVText

/// Writes a scenario as YAML that ``ScenarioLoader`` reads back to the same scenario: block style at the
/// top, one flow-style line per request, event and operation, so that big generated scenarios stay
/// compact and quick to load.
public enum ScenarioYAML {
  /// The YAML text; `comments` become `#` lines at the top.
  public static func text(_ scenario: Scenario, comments: [String] = []) -> String {
    var out = ""
    out.reserveCapacity(256 + scenario.requests.count * 160)
    for comment in comments {
      for line in comment.split(separator: "\n", omittingEmptySubsequences: false) {
        out += line.isEmpty ? "#\n" : "# \(line)\n"
      }
    }
    out += "name: \(quoted(scenario.name))\n"
    if !scenario.description.isEmpty { out += "description: \(quoted(scenario.description))\n" }
    out += "cache: {pages: \(scenario.cache.pages), page_size: \(scenario.cache.pageSize)}\n"
    let config = scenario.scheduler
    if scenario.isAllocatorOnly {
      out += "scheduler: {policy: \(config.policy.rawValue)}\n"
    } else {
      var keys = ["policy: \(config.policy.rawValue)"]
      for key in config.policyType.keys {
        switch key {
        case .maxBatch: keys.append("max_batch: \(config.maxBatch)")
        case .prefixCache: keys.append("prefix_cache: \(config.prefixCache)")
        case .onOOM: keys.append("on_oom: \(config.onOOM.rawValue)")
        case .decode: keys.append("decode: \(config.decode.rawValue)")
        case .maxBatchedTokens: keys.append("max_batched_tokens: \(config.maxBatchedTokens)")
        }
      }
      out += "scheduler: {\(keys.joined(separator: ", "))}\n"
    }
    if scenario.maxIterations != Scenario.defaultMaxIterations {
      out += "max_iterations: \(scenario.maxIterations)\n"
    }
    if let ops = scenario.ops {
      out += ops.isEmpty ? "ops: []\n" : "ops:\n"
      for op in ops {
        switch op {
        case .alloc: out += "  - alloc\n"
        case .free(let i): out += "  - {free: \(i)}\n"
        case .allocN(let n): out += "  - {alloc_n: \(n)}\n"
        case .incRef(let i): out += "  - {inc_ref: \(i)}\n"
        }
      }
      return out + notes(scenario.notes)
    }
    out += scenario.requests.isEmpty ? "requests: []\n" : "requests:\n"
    for request in scenario.requests {
      out +=
        "  - {id: \(quoted(request.id)), arrive: \(request.arrive), prompt: \(prompt(request.prompt)), output: \(request.output)}\n"
    }
    if !scenario.events.isEmpty {
      out += "events:\n"
      for event in scenario.events {
        switch event.action {
        case .abort(let id): out += "  - {at: \(event.at), abort: \(quoted(id))}\n"
        }
      }
    }
    return out + notes(scenario.notes)
  }

  static func prompt(_ prompt: Prompt) -> String {
    switch prompt {
    case .length(let n): return "\(n)"
    case .tokens(let tokens): return "[\(tokens.map(String.init).joined(separator: ", "))]"
    case .blocks(let ids, let blockSize, let length):
      return
        "{blocks: [\(ids.map(String.init).joined(separator: ", "))], block_size: \(blockSize), length: \(length)}"
    }
  }

  private static let reserved: Set<String> = [
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
  ]

  /// Text as a plain scalar when that reads back as the same string, else double-quoted (JSON escapes
  /// are valid YAML escapes).
  static func quoted(_ text: String) -> String {
    let plain =
      !text.isEmpty && text.unicodeScalars.first!.properties.isAlphabetic
      && text.unicodeScalars.allSatisfy {
        ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" || $0 == "-"
      }
      && !reserved.contains(text.lowercased())
    return plain ? text : JSONText.line(text)
  }
}
