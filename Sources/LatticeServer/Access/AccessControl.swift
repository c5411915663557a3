public import Foundation
public import LatticeAuth
public import LatticeProtocol
import NIOCore
import Synchronization

/// Authentication and live access for the whole server: turns a credential into a `Principal`,
/// knows every live session by user and token, and applies membership changes and revocations
/// to them at once (docs/security.md).
public final class AccessControl: Sendable {
    public let store: any IdentityStore
    /// Which workspace `run/…` and `doc/…` streams belong to.
    public let resources: ResourceDirectory
    /// The shared principal of every token with live sessions, and how many use it.
    private let principals = Mutex<[String: (principal: SharedPrincipal, sessions: Int)]>([:])
    /// Where live changes go: one sink per event loop of the server (each loop keeps its own
    /// sessions by token, without locks: `SessionLoop`).
    private let sinks = Mutex<[@Sendable (LiveChange) -> Void]>([])

    /// A change live sessions must apply at once.
    enum LiveChange: Sendable {
        case rolesChanged(userID: String)
        /// The token no longer authenticates (revoked, deleted, expired, its user disabled or deleted):
        /// its sessions close with 4003 and `reason`.
        case tokenEnded(tokenID: String, reason: String)
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
        case disabled = "disabled user"
        case storeFailed = "store unavailable"
        case signInLinkOnly = "sign-in link used outside /signin"
    }

    /// The principal behind `credential` at `now`: the token exists, its secret matches, it is
    /// neither expired nor revoked, and its user exists and is not disabled; roles loaded fresh
    /// from the store. A sign-in link's token authenticates only `forSignIn` (the `/signin`
    /// page, which uses it up).
    public func authenticate(_ credential: String?, now: Date = Date(), forSignIn: Bool = false) async -> Result<Principal, Refusal> {
        guard let credential, !credential.isEmpty else { return .failure(.missing) }
        guard let parsed = TokenString(parsing: credential), parsed.id.hasPrefix("t_") else { return .failure(.malformed) }
        do {
            guard let token = try await store.token(id: parsed.id) else { return .failure(.unknown) }
            guard parsed.matches(token.secretHash) else { return .failure(.wrongSecret) }
            if token.revokedAt != nil { return .failure(.revoked) }
            guard token.isActive(at: now) else { return .failure(.expired) }
            if token.kind == .signin && !forSignIn { return .failure(.signInLinkOnly) }
            guard let user = try await store.user(id: token.userID) else { return .failure(.noUser) }
            if user.isDisabled { return .failure(.disabled) }
            let roles = try await store.memberships(of: user.id)
            return .success(Principal(user: user, tokenID: token.id, scopes: token.scopes,
                                      tokenWorkspace: token.workspaceID, roles: roles, tokenExpiresAt: token.expiresAt,
                                      tokenCapabilities: token.capabilities))
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

    /// Adds the sink of one event loop (the hub, once per loop at start).
    func addSink(_ sink: @escaping @Sendable (LiveChange) -> Void) {
        sinks.withLock { $0.append(sink) }
    }

    /// The principal a new live session shares with the other live sessions of its token,
    /// with the roles just loaded (the freshest).
    func intern(_ principal: Principal) -> SharedPrincipal {
        principals.withLock { table in
            if let entry = table[principal.tokenID] {
                entry.principal.setRoles(principal.roles)
                table[principal.tokenID] = (entry.principal, entry.sessions + 1)
                return entry.principal
            }
            let shared = SharedPrincipal(principal)
            table[principal.tokenID] = (shared, 1)
            return shared
        }
    }

    /// WebSocket sessions open now.
    public var liveSessionCount: Int {
        principals.withLock { table in table.values.reduce(0) { $0 + $1.sessions } }
    }

    /// A live session of `tokenID` ended.
    func release(tokenID: String) {
        principals.withLock { table in
            guard let entry = table[tokenID] else { return }
            table[tokenID] = entry.sessions > 1 ? (entry.principal, entry.sessions - 1) : nil
        }
    }

    /// `userID`'s memberships or user record changed: reload both, set them on its tokens'
    /// shared principals, and have every live session of the user end the subscriptions it may
    /// no longer read (docs/security.md). A disabled or deleted user's sessions close (4003
    /// `user disabled`, `user deleted`).
    public func membershipsChanged(of userID: String) async {
        let affected = principals.withLock { table in table.values.filter { $0.principal.userID == userID }.map(\.principal) }
        guard !affected.isEmpty else { return }
        let user: User?, roles: [String: Role]
        do {
            user = try await store.user(id: userID)
            roles = try await store.memberships(of: userID)
        } catch {
            return  // the store failed: sessions keep what they have; the next change reloads
        }
        guard let user else {
            for shared in affected { publish(.tokenEnded(tokenID: shared.tokenID, reason: "user deleted")) }
            return
        }
        if user.isDisabled {
            for shared in affected { publish(.tokenEnded(tokenID: shared.tokenID, reason: "user disabled")) }
            return
        }
        for shared in affected { shared.update(user: user, roles: roles) }
        publish(.rolesChanged(userID: userID))
    }

    /// A token was revoked: close every session that authenticated with it (close code 4003).
    public func tokenRevoked(_ tokenID: String) {
        guard principals.withLock({ $0[tokenID] != nil }) else { return }
        publish(.tokenEnded(tokenID: tokenID, reason: "token revoked"))
    }

    /// A token's record changed somewhere (revoked, deleted, new expiry): if it has live
    /// sessions, reload it and close them if it no longer authenticates.
    func tokenChanged(_ tokenID: String, now: Date = Date()) async {
        guard let shared = principals.withLock({ $0[tokenID]?.principal }) else { return }
        let token: TokenRecord?
        do { token = try await store.token(id: tokenID) } catch { return }
        guard let token else {
            // Deleting a user deletes its tokens too, and the store may record those first:
            // the reason is the user's deletion then.
            let user: User?
            do { user = try await store.user(id: shared.userID) } catch { return }
            return publish(.tokenEnded(tokenID: tokenID, reason: user == nil ? "user deleted" : "token deleted"))
        }
        if token.revokedAt != nil { return publish(.tokenEnded(tokenID: tokenID, reason: "token revoked")) }
        shared.setExpiry(token.expiresAt)
        if !token.isActive(at: now) { publish(.tokenEnded(tokenID: tokenID, reason: "token expired")) }
    }

    /// Closes the live sessions of every token that has expired by `now` (the identity watcher
    /// calls this about once a second).
    func endExpiredSessions(now: Date = Date()) {
        let expired = principals.withLock { table in
            table.values.compactMap { entry in entry.principal.expiresAt.map { $0 <= now } == true ? entry.principal.tokenID : nil }
        }
        for tokenID in expired { publish(.tokenEnded(tokenID: tokenID, reason: "token expired")) }
    }

    /// Applies one change recorded by the store.
    func apply(_ change: IdentityChange) async {
        switch change.subject {
        case .user(let userID): await membershipsChanged(of: userID)
        case .token(let tokenID): await tokenChanged(tokenID)
        }
    }

    private func publish(_ change: LiveChange) {
        for sink in sinks.withLock({ $0 }) { sink(change) }
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
