import LatticeAuth
import LatticeWebSocket
import NIOCore
import NIOHTTP1

/// The checks `/ws` makes before the 101, beyond the engine's own handshake validation:
/// the path, the origin (same-origin by default), and the credential (401 without a valid one).
struct UpgradeAuthentication: Sendable {
    let webSocketPath: String
    let access: AccessControl
    let sameOriginOnly: Bool
    let explicitOrigins: Bool

    func decide(_ head: HTTPRequestHead, channel: Channel) -> EventLoopFuture<WebSocketUpgradeDecision> {
        let loop = channel.eventLoop
        let path = String(head.uri.prefix { $0 != "?" })
        guard path == webSocketPath else {
            return loop.makeSucceededFuture(.reject(.init(status: .notFound, reason: "no WebSocket endpoint at \(path); use \(webSocketPath)")))
        }
        let address = channel.remoteAddress?.ipAddress
        if sameOriginOnly, !explicitOrigins, let origin = head.headers.first(name: "Origin"),
           !Self.isSameOrigin(origin, host: head.headers.first(name: "Host")) {
            access.audit("access.refused", actor: nil, target: webSocketPath, detail: "origin \(origin) is not this server's", address: address)
            return loop.makeSucceededFuture(.reject(.init(status: .forbidden, reason: "origin \(origin) is not allowed")))
        }
        let credential = Credential.find(in: head)
        let promise = loop.makePromise(of: WebSocketUpgradeDecision.self)
        let access = self.access
        Task {
            switch await access.authenticate(credential) {
            case .success(let principal):
                promise.succeed(.accept(context: principal))
            case .failure(let refusal):
                // As on the REST side: a presented credential that fails is audited; no credential
                // at all is not (a page probing before sign-in would flood the log).
                if refusal != .missing {
                    access.audit("signin.failed", actor: nil, target: webSocketPath, detail: refusal.rawValue, address: address)
                }
                promise.succeed(.reject(.init(status: .unauthorized, reason: "a valid token is required (\(refusal.rawValue))",
                                              headers: ["WWW-Authenticate": "Bearer realm=\"lattice\""])))
            }
        }
        return promise.futureResult
    }

    /// `Origin` (`scheme://host[:port]`) names the same host and port as the `Host` header.
    static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, let schemeEnd = origin.range(of: "://") else { return false }
        let authority = origin[schemeEnd.upperBound...]
        let scheme = origin[..<schemeEnd.lowerBound].lowercased()
        let defaultPort = scheme == "https" ? ":443" : ":80"
        func normalized(_ value: Substring) -> String {
            let lower = value.lowercased()
            return lower.contains(":") && !lower.hasPrefix("[") || lower.contains("]:") ? lower : lower + defaultPort
        }
        return normalized(authority) == normalized(Substring(host))
    }
}
