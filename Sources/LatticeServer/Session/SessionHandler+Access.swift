import LatticeAuth
import LatticeProtocol
import LatticeWebSocket
import NIOCore

/// Access checks and live access changes (docs/security.md).
extension SessionHandler {
    /// Why `action` on `stream` is refused, or nil when allowed: the stream's workspace must be
    /// known (`not_found` for an unknown run or document) and the policy must allow it.
    func refusal(_ action: StreamAction, _ stream: StreamName, id: RequestID?) -> ProtocolError? {
        let principal = self.principal
        guard let workspace = access.workspace(of: stream) else {
            return ProtocolError(.notFound, "no \(stream.kind.rawValue) '\(stream.resource ?? "")' exists", id: id, stream: stream)
        }
        guard Policy.can(principal, action.permission, in: workspace) else {
            return forbidden("\(action.rawValue) on '\(stream)'", in: workspace, target: stream.name,
                             detail: "\(action.rawValue) refused", id: id, stream: stream)
        }
        return nil
    }

    /// The `forbidden` answer to what the principal may not do in `workspace` (its role named),
    /// audited as `access.refused`.
    func forbidden(_ what: String, in workspace: String, target: String? = nil, detail: String? = nil,
                   id: RequestID?, stream: StreamName? = nil) -> ProtocolError {
        let principal = self.principal
        access.audit("access.refused", actor: principal.user.id, workspace: workspace, target: target, detail: detail ?? what)
        let role = principal.role(in: workspace).map { "a \($0.rawValue)" } ?? "not a member"
        return ProtocolError(.forbidden, "'\(principal.user.name)' (\(role) of '\(workspace)') may not \(what)", id: id, stream: stream)
    }

    /// The user's memberships changed (the shared principal has the new roles): end every
    /// subscription it may no longer read with an `unsubscribed` message (a downgraded editor
    /// keeps reading, and its next publish is refused by the normal check).
    func rolesChanged() {
        guard isOpen, let ref else { return }
        let principal = self.principal
        for (name, subscription) in subscriptions {
            guard let workspace = access.workspace(of: name), !Policy.can(principal, .read, in: workspace) else { continue }
            subscriptions.removeValue(forKey: name)
            hub.unsubscribe(name, sub: subscription.id, ref: ref, requestID: nil, seq: nil)
            answerNow(ServerFrames.unsubscribed(stream: name, code: .forbidden,
                                          message: "'\(principal.user.name)' is no longer a member of '\(workspace)'"))
        }
        markDirty()
    }

    /// The token this session authenticated with no longer authenticates (revoked, deleted,
    /// expired, its user deleted): close now with 4003 and the reason.
    func credentialEnded(reason: String) {
        closeSession(WebSocketCloseCode(LatticeCloseCode.tokenRevoked), reason: reason)
    }
}
