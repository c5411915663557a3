import Foundation

/// The paths one route answers, written as in docs/api.md: literal segments, `{name}` for one
/// segment (percent-decoded) and at most one `{name...}` for one or more segments joined with
/// `/` (a stream name). Besides those, a route may answer any path, or the paths of the web
/// app's files.
struct HTTPRoutePattern: Sendable, Equatable, CustomStringConvertible {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        case remainder(String)
    }

    private enum Kind: Sendable {
        case segments([Segment])
        case anyPath
        case staticFile(StaticFiles)
    }

    private let kind: Kind
    let description: String

    /// Parses `/api/workspaces/{workspace}/members/{user}` and the like.
    init(_ text: String) {
        let segments = text.split(separator: "/").map { part -> Segment in
            guard part.hasPrefix("{"), part.hasSuffix("}") else { return .literal(String(part)) }
            let name = part.dropFirst().dropLast()
            return name.hasSuffix("...") ? .remainder(String(name.dropLast(3))) : .parameter(String(name))
        }
        kind = .segments(segments)
        description = text
    }

    private init(kind: Kind, description: String) {
        self.kind = kind
        self.description = description
    }

    static let anyPath = HTTPRoutePattern(kind: .anyPath, description: "any path")

    /// The paths `files` has a file for (`/` and folders mean their `index.html`).
    static func staticFile(in files: StaticFiles) -> HTTPRoutePattern {
        HTTPRoutePattern(kind: .staticFile(files), description: "a file of the web app")
    }

    /// Two patterns are the same when written the same (what decides which routes share a path).
    static func == (a: HTTPRoutePattern, b: HTTPRoutePattern) -> Bool { a.description == b.description }

    /// The parameters when `path` matches; `segments` is `Self.segments(of: path)`, passed in
    /// so a table splits each path once.
    func match(path: String, segments: [String]?) -> [String: String]? {
        switch kind {
        case .anyPath:
            return [:]
        case .staticFile(let files):
            return files.file(for: path) == nil ? nil : [:]
        case .segments(let pattern):
            guard let segments else { return nil }
            return Self.match(pattern[...], segments[...])
        }
    }

    private static func match(_ pattern: ArraySlice<Segment>, _ path: ArraySlice<String>) -> [String: String]? {
        var parameters: [String: String] = [:]
        var pattern = pattern
        var path = path
        while let segment = pattern.popFirst() {
            switch segment {
            case .literal(let literal):
                guard path.popFirst() == literal else { return nil }
            case .parameter(let name):
                guard let value = path.popFirst() else { return nil }
                parameters[name] = value
            case .remainder(let name):
                // Whatever the segments after it leave over, one segment at least.
                guard path.count > pattern.count, let rest = match(pattern, path.suffix(pattern.count)) else { return nil }
                parameters[name] = path.dropLast(pattern.count).joined(separator: "/")
                return parameters.merging(rest) { first, _ in first }
            }
        }
        return path.isEmpty ? parameters : nil
    }

    /// The path split at `/`, every segment percent-decoded; nil for an empty segment
    /// (`//`, a trailing slash, `/` itself) or bad percent-encoding.
    static func segments(of path: String) -> [String]? {
        guard path.hasPrefix("/") else { return nil }
        var out: [String] = []
        for raw in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard !raw.isEmpty, let decoded = raw.removingPercentEncoding, !decoded.isEmpty, !decoded.contains("/") else { return nil }
            out.append(decoded)
        }
        return out
    }
}
