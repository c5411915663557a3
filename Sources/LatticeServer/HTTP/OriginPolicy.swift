import Foundation
/// The one rule for a browser's `Origin` header, used by the WebSocket upgrade (`/ws` of
/// `lattice serve`, every path of `lattice echo`) and by cookie-authenticated REST changes:
/// with an allow-list (`--allowed-origins`) the origin must be on it; without one it must be
/// the server's own (the request's `Host`) unless any origin is allowed (`--any-origin`).
///
/// Origins compare lowercased with the scheme's default port made explicit, so `http://h`,
/// `http://h:80` and `Host: h:80` all name the same origin. Where the rule applies (which
/// requests carry an `Origin` worth checking) is the caller's business.
public struct OriginPolicy: Sendable, Equatable {
    /// The allowed origins (`scheme://host[:port]`); empty: see `sameOriginOnly`.
    public var allowedOrigins: [String]
    /// With no allow-list: true accepts only the server's own origin, false any origin.
    public var sameOriginOnly: Bool

    public init(allowedOrigins: [String] = [], sameOriginOnly: Bool = true) {
        self.allowedOrigins = allowedOrigins
        self.sameOriginOnly = sameOriginOnly
    }

    /// Whether a request with `Origin: origin`, sent to `Host: host`, may proceed.
    public func allows(_ origin: String, host: String?) -> Bool {
        if !allowedOrigins.isEmpty {
            let wanted = Self.normalized(origin)
            return allowedOrigins.contains { Self.normalized($0) == wanted }
        }
        guard sameOriginOnly else { return true }
        guard let host, let origin = Self.split(origin) else { return false }
        return Self.withPort(origin.authority, scheme: origin.scheme) == Self.withPort(Substring(host), scheme: origin.scheme)
    }

    /// The reason given (and audited) when `allows` said no.
    public static func refusal(_ origin: String) -> String { "origin \(origin) is not allowed" }

    /// `scheme://authority` lowercased with the default port made explicit; anything that is
    /// not of that form (`null`) lowercased as it is.
    static func normalized(_ origin: String) -> String {
        guard let parts = split(origin) else { return origin.lowercased() }
        return parts.scheme + "://" + withPort(parts.authority, scheme: parts.scheme)
    }

    /// Scheme (lowercased) and authority of `scheme://authority`; nil for anything else.
    private static func split(_ origin: String) -> (scheme: String, authority: Substring)? {
        guard let separator = origin.range(of: "://") else { return nil }
        let authority = origin[separator.upperBound...]
        guard !authority.isEmpty, !authority.contains("/") else { return nil }
        return (origin[..<separator.lowerBound].lowercased(), authority)
    }

    /// `host[:port]` lowercased, with the scheme's default port when it names none
    /// (an IPv6 literal `[::1]` has a port only after its `]`).
    private static func withPort(_ authority: Substring, scheme: String) -> String {
        let lower = authority.lowercased()
        let hasPort = lower.hasPrefix("[") ? lower.contains("]:") : lower.contains(":")
        return hasPort ? lower : lower + (scheme == "https" ? ":443" : ":80")
    }
}
