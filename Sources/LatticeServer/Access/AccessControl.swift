import Foundation
import LatticeAuth
import LatticeProtocol
import NIOCore
import Synchronization

/// Authentication and live access for the whole server: turns a credential into a `Principal`,
/// knows every live session by user and token, and applies membership changes and revocations
/// to them at once (docs/security.md).
public final class AccessControl: Sendable {
    public let store: any IdentityStore
    /// Which workspace `run/…` and `doc/…` streams belong to.
    public let resources: ResourceDirectory
    private let live = Mutex<[UInt64: LiveSession]>([:])

    /// A session as access control reaches it: on its own loop.
    struct LiveSession: Sendable {
        let userID: String
        let tokenID: String
        let handler: NIOLoopBound<SessionHandler>
        let loop: any EventLoop
    }

    public init(store: any IdentityStore, resources: ResourceDirectory = ResourceDirectory()) {
        self.store = store
        self.resources = resources
    }

    /// Why a credential was refused (the handshake answers 401 for all of them alike; the audit
    /// log keeps the reason).
    public enum Refusal: String, Sendable, Error {
        case missing = "no credential"
        case malformed = "malformed credential"
        case unknown = "unknown token"
        case wrongSecret = "wrong secret"
        case expired = "expired token"
        case revoked = "revoked token"
        case noUser = "token without user"
        case storeFailed = "store unavailable"
    }

    /// The principal behind `credential` at `now`: the token exists, its secret matches, it is
    /// neither expired nor revoked, and its user exists; roles loaded fresh from the store.
    public func authenticate(_ credential: String?, now: Date = Date()) async -> Result<Principal, Refusal> {
        guard let credential, !credential.isEmpty else { return .failure(.missing) }
        guard let parsed = TokenString(parsing: credential), parsed.id.hasPrefix("t_") else { return .failure(.malformed) }
        do {
            guard let token = try await store.token(id: parsed.id) else { return .failure(.unknown) }
            guard parsed.matches(token.secretHash) else { return .failure(.wrongSecret) }
            if token.revokedAt != nil { return .failure(.revoked) }
            guard token.isActive(at: now) else { return .failure(.expired) }
            guard let user = try await store.user(id: token.userID) else { return .failure(.noUser) }
            let roles = try await store.memberships(of: user.id)
            return .success(Principal(user: user, tokenID: token.id, scopes: token.scopes,
                                      tokenWorkspace: token.workspaceID, roles: roles))
        } catch {
            return .failure(.storeFailed)
        }
    }

    /// Appends to the audit log without making the caller wait; a failed write is reported on
    /// standard error (the action itself already happened).
    public func audit(_ action: String, actor: String?, workspace: String? = nil, target: String? = nil,
                      detail: String = "", address: String? = nil) {
        let entry = AuditEntry(at: Date(), actorID: actor, action: action, workspaceID: workspace,
                               target: target, detail: detail, address: address)
        let store = self.store
        Task {
            do { try await store.appendAudit(entry) } catch {
                FileHandle.standardError.write(Data("audit write failed (\(action)): \(error)\n".utf8))
            }
        }
    }

    // MARK: live sessions

    func register(sessionID: UInt64, principal: Principal, handler: NIOLoopBound<SessionHandler>, loop: any EventLoop) {
        live.withLock { $0[sessionID] = LiveSession(userID: principal.user.id, tokenID: principal.tokenID, handler: handler, loop: loop) }
    }

    func unregister(sessionID: UInt64) {
        _ = live.withLock { $0.removeValue(forKey: sessionID) }
    }

    /// Live sessions (metrics, tests).
    public var liveSessionCount: Int { live.withLock { $0.count } }

    /// `userID`'s memberships changed: reload them and hand them to each of its live sessions,
    /// which end the subscriptions they may no longer read (docs/security.md).
    public func membershipsChanged(of userID: String) async {
        guard let roles = try? await store.memberships(of: userID) else { return }
        for session in live.withLock({ $0.values.filter { $0.userID == userID } }) {
            let handler = session.handler
            session.loop.execute { handler.value.rolesChanged(roles) }
        }
    }

    /// A token was revoked: close every session that authenticated with it (close code 4003).
    public func tokenRevoked(_ tokenID: String) {
        for session in live.withLock({ $0.values.filter { $0.tokenID == tokenID } }) {
            let handler = session.handler
            session.loop.execute { handler.value.credentialRevoked() }
        }
    }

    /// The workspace a stream belongs to: in its name, or from the resource directory for runs
    /// and documents (nil: no such resource).
    func workspace(of stream: StreamName) -> String? {
        if let workspace = stream.workspace { return String(workspace) }
        guard let resource = stream.resource else { return nil }
        return resources.workspace(of: stream.kind, id: String(resource))
    }
}

/// Which workspace each run and document belongs to. Run and document streams carry only their
/// resource id; the issues that create runs and documents register them here. Looked up on
/// event loops, so it is an in-memory table under a lock.
public final class ResourceDirectory: Sendable {
    private let table = Mutex<[String: String]>([:])

    public init() {}

    public func register(_ kind: StreamName.Kind, id: String, workspace: String) {
        table.withLock { $0["\(kind.rawValue)/\(id)"] = workspace }
    }

    public func workspace(of kind: StreamName.Kind, id: String) -> String? {
        table.withLock { $0["\(kind.rawValue)/\(id)"] }
    }
}
