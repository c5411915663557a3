import Foundation

/// Stored-history retention per stream kind, as `lattice serve --retention` takes it:
/// `KIND=EVENTS/AGE`, where KIND is `workspace`, `run`, `doc`, `graph`, `channel` or `all`,
/// EVENTS a count or `none`, and AGE a number with `s`, `m`, `h` or `d`, or `none`
/// (e.g. `run=1000000/30d`, `channel=10000/7d`, `all=none/90d`). Later rules override earlier
/// ones; a kind without a rule takes `all`'s, else `StreamRetention.standard`.
public struct RetentionRules: Sendable, Equatable {
    public static let kinds: Set<String> = ["workspace", "run", "doc", "graph", "channel"]

    public var fallback: StreamRetention
    public var byKind: [String: StreamRetention]

    public init(fallback: StreamRetention = .standard, byKind: [String: StreamRetention] = [:]) {
        self.fallback = fallback
        self.byKind = byKind
    }

    /// The rules in `specs`; throws a message naming the first bad one.
    public init(parsing specs: [String]) throws(RetentionRuleError) {
        self.init()
        for spec in specs {
            let (kind, retention) = try Self.parse(spec)
            if kind == "all" {
                fallback = retention
                byKind.removeAll()
            } else {
                byKind[kind] = retention
            }
        }
    }

    /// The retention of the stream named `stream` (its kind is the part before the first `/`).
    public func retention(for stream: String) -> StreamRetention {
        let kind = stream.prefix { $0 != "/" }
        return byKind[String(kind)] ?? fallback
    }

    static func parse(_ spec: String) throws(RetentionRuleError) -> (String, StreamRetention) {
        let parts = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw RetentionRuleError(spec, "expected KIND=EVENTS/AGE") }
        let kind = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
        guard kind == "all" || kinds.contains(kind) else {
            throw RetentionRuleError(spec, "unknown stream kind '\(kind)' (workspace, run, doc, graph, channel or all)")
        }
        let limits = parts[1].split(separator: "/", omittingEmptySubsequences: false)
        guard limits.count == 2 else { throw RetentionRuleError(spec, "expected EVENTS/AGE after '='") }
        let eventsText = limits[0].trimmingCharacters(in: .whitespaces).lowercased()
        let ageText = limits[1].trimmingCharacters(in: .whitespaces).lowercased()
        var events: Int?
        if eventsText != "none" {
            guard let count = Int(eventsText), count >= 1 else {
                throw RetentionRuleError(spec, "EVENTS must be a count of at least 1, or none")
            }
            events = count
        }
        var age: Duration?
        if ageText != "none" {
            let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
            guard let unit = ageText.last, let seconds = units[unit], let amount = Int64(ageText.dropLast()), amount >= 1,
                  amount <= Int64.max / seconds else {
                throw RetentionRuleError(spec, "AGE must be a whole number with s, m, h or d (e.g. 30d), or none")
            }
            age = .seconds(amount * seconds)
        }
        return (kind, StreamRetention(maxEvents: events, maxAge: age))
    }
}

/// A `--retention` rule that does not parse.
public struct RetentionRuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var spec: String
    public var problem: String

    init(_ spec: String, _ problem: String) {
        self.spec = spec
        self.problem = problem
    }

    public var description: String { "retention rule '\(spec)': \(problem)" }
}
