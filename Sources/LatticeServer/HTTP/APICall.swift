import Foundation
import LatticeAuth
import NIOHTTP1

/// One REST API request being answered, after `HTTPRouteGuard` authenticated it:
/// authorization with audit, and the mapping of store errors to API errors. The endpoints are
/// in the `APICall+…` files, their routes in `APIRoutes`.
struct APICall: Sendable {
    let services: ServerServices
    let request: HTTPRequest
    var hub: StreamHub? = nil
    /// The run executor and its store (nil on a server that runs no workflows).
    var runs: RunService? = nil
    /// The path's parameters (`{workspace}` and the like).
    var parameters: [String: String] = [:]
    let now = Date()

    var access: AccessControl { services.access }
    var store: any IdentityStore { services.access.store }

    /// A parameter of the route's path (`{workspace}`); the route table guarantees the ones
    /// its pattern names.
    func parameter(_ name: String) throws -> String {
        guard let value = parameters[name] else { throw APIError.internalError("the route has no parameter \(name)") }
        return value
    }

    // MARK: authorization

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
        case .lastAdmin(let id): .conflict("\(id) is the last enabled server admin: the server must keep one")
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
