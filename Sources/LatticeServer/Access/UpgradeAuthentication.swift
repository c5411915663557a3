import LatticeAuth
import LatticeWebSocket
import NIOCore
import NIOHTTP1

/// The checks `/ws` makes before the 101, beyond the engine's own handshake validation:
/// the path, the origin (`OriginPolicy`, the same rule as the REST API's), and the credential
/// (401 without a valid one).
struct UpgradeAuthentication: Sendable {
    let webSocketPath: String
    let access: AccessControl
    let origins: OriginPolicy

    func decide(_ head: HTTPRequestHead, channel: any Channel) -> EventLoopFuture<WebSocketUpgradeDecision> {
        let loop = channel.eventLoop
        let path = String(head.uri.prefix { $0 != "?" })
        guard path == webSocketPath else {
            return loop.makeSucceededFuture(.reject(.init(status: .notFound, reason: "no WebSocket endpoint at \(path); use \(webSocketPath)")))
        }
        let address = channel.remoteAddress?.ipAddress
        if let origin = head.headers.first(name: "Origin"), !origins.allows(origin, host: head.headers.first(name: "Host")) {
            access.audit("access.refused", actor: nil, target: webSocketPath, detail: OriginPolicy.refusal(origin), address: address)
            return loop.makeSucceededFuture(.reject(.init(status: .forbidden, reason: OriginPolicy.refusal(origin))))
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
                // Every refusal answers alike (the reason is in the audit log only): a caller
                // learns nothing about which tokens or users exist, or are disabled.
                promise.succeed(.reject(.init(status: .unauthorized, reason: "a valid token is required",
                                              headers: ["WWW-Authenticate": "Bearer realm=\"lattice\""])))
            }
        }
        return promise.futureResult
    }
}
