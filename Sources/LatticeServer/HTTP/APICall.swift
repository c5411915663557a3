import Foundation
import LatticeAuth
import NIOHTTP1

/// One REST API request being answered: authentication, authorization with audit, and the
/// mapping of store errors to API errors. The endpoints are in the `APICall+…` files.
struct APICall: Sendable {
    let services: ServerServices
    let request: HTTPRequest
    var hub: StreamHub? = nil
    let now = Date()

    var access: AccessControl { services.access }
    var store: any IdentityStore { services.access.store }

    func respond(_ endpoint: APIEndpoint) async -> HTTPResponse {
        do {
            try checkOrigin()
            return try await route(endpoint)
        } catch let error as APIError {
            return .error(error)
        } catch let error as IdentityStoreError {
            return .error(Self.apiError(error))
        } catch {
            return .error(.internalError("\(error)"))
        }
    }

    private func route(_ endpoint: APIEndpoint) async throws -> HTTPResponse {
        let m = request.method
        switch endpoint {
        case .me: return try await me()
        case .users: return m == .POST ? try await createUser() : try await listUsers()
        case .workspaces: return m == .POST ? try await createWorkspace() : try await listWorkspaces()
        case .workspace(let ws): return try await getWorkspace(ws)
        case .members(let ws): return try await listMembers(ws)
        case .member(let ws, let user): return m == .PUT ? try await setMember(ws, user) : try await removeMember(ws, user)
        case .tokens: return m == .POST ? try await createToken() : try await listTokens()
        case .token(let id): return try await revokeToken(id)
        case .workspaceInvitations(let ws): return m == .POST ? try await createInvitation(ws) : try await listInvitations(ws)
        case .invitation(let id): return try await revokeInvitation(id)
        case .acceptInvitation: return try await acceptInvitation()
        case .workspaceAudit(let ws): return try await readAudit(workspace: ws)
        case .audit: return try await readAudit(workspace: nil)
        case .channel(let ws, let name): return try await setChannel(ws, name)
        case .streamEvents(let stream): return try await streamEvents(stream)
        case .stats: return try await stats()
        }
    }

    // MARK: authentication and authorization

    /// The caller, or 401. A presented credential that is refused is audited
    /// (`signin.failed`, with the reason and the peer address); a request without any
    /// credential is not (the web app asks `/api/me` before anyone signed in).
    func authenticate() async throws -> Principal {
        let credential = Credential.find(in: request.head)
        switch await access.authenticate(credential, now: now) {
        case .success(let principal):
            return principal
        case .failure(.missing):
            throw APIError.unauthorized()
        case .failure(.storeFailed):
            throw APIError.internalError("the identity store is unavailable")
        case .failure(let refusal):
            access.audit("signin.failed", actor: nil, target: credential.flatMap { TokenString(parsing: $0)?.id },
                         detail: "\(refusal.rawValue): \(request.method) \(request.path)", address: request.remoteAddress)
            throw APIError.unauthorized()
        }
    }

    /// The caller, or nil when the request carries no credential at all (401 for a bad one).
    func optionalPrincipal() async throws -> Principal? {
        guard Credential.find(in: request.head) != nil else { return nil }
        return try await authenticate()
    }

    /// Passes when `allowed`; otherwise audits `access.refused` and throws 403.
    func require(_ allowed: Bool, _ principal: Principal, _ what: String, workspace: String? = nil, target: String? = nil) throws {
        guard !allowed else { return }
        access.audit("access.refused", actor: principal.user.id, workspace: workspace, target: target,
                     detail: "\(request.method) \(request.path): \(what)", address: request.remoteAddress)
        throw APIError.forbidden("not allowed to \(what)")
    }

    func require(_ principal: Principal, _ permission: Permission, in workspace: String, _ what: String, target: String? = nil) throws {
        try require(Policy.can(principal, permission, in: workspace), principal, what, workspace: workspace, target: target)
    }

    /// An existing workspace, or 404 (call after the permission check, so a non-member learns
    /// nothing about which workspaces exist).
    func existingWorkspace(_ id: String) async throws -> Workspace {
        guard let workspace = try await store.workspace(id: id) else { throw APIError.notFound("no workspace \(id)") }
        return workspace
    }

    func body() throws -> JSONBody { try JSONBody(request.body) }

    /// Cookie-authenticated changes must come from this server's own pages: a browser's
    /// `Origin` (when sent) has to name the `Host` the request went to. Bearer tokens are not
    /// sent by browsers on their own, so they need no such check.
    func checkOrigin() throws {
        let unsafe: [HTTPMethod] = [.POST, .PUT, .DELETE, .PATCH]
        guard unsafe.contains(request.method), request.head.headers.first(name: "Authorization") == nil,
              let origin = request.head.headers.first(name: "Origin") else { return }
        let host = request.head.headers.first(name: "Host") ?? ""
        let originHost = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
        guard originHost == host else {
            throw APIError.forbidden("cross-origin request refused (Origin \(origin) does not match Host \(host))")
        }
    }

    /// Query integer parameter within `range`, `fallback` when absent.
    func queryInt(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let raw = request.query[name], !raw.isEmpty else { return fallback }
        guard let value = Int(raw), range.contains(value) else {
            throw APIError.badRequest("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    static func apiError(_ error: IdentityStoreError) -> APIError {
        switch error {
        case .alreadyExists(let what): .conflict("\(what) already exists")
        case .notFound(let what): .notFound("\(what) not found")
        case .invitationUnusable(let state): .conflict("the invitation is \(state.rawValue)")
        case .lastOwner(let ws): .conflict("workspace \(ws) must keep at least one owner")
        case .storeFailed(let why): .internalError("store failed: \(why)")
        }
    }

    /// Parses `read,write,manage` names.
    static func parseScopes(_ names: [String]) throws -> Set<TokenScope> {
        var scopes: Set<TokenScope> = []
        for name in names {
            guard let scope = TokenScope(rawValue: name) else { throw APIError.badRequest("unknown scope \(name); use read, write, manage") }
            scopes.insert(scope)
        }
        return scopes
    }

    static func parseRole(_ name: String) throws -> Role {
        guard let role = Role(rawValue: name) else { throw APIError.badRequest("unknown role \(name); use viewer, editor, owner") }
        return role
    }
}
