import Foundation
import LatticeAuth
import NIOHTTP1

/// `/api/users/{user}`: disable, enable, delete, sign out everywhere. Each applies to the user's
/// live sessions before it answers (4003 `user disabled`, `user deleted`, `token revoked`) and is
/// audited. None may leave the server without an enabled admin (409).
extension APICall {
    /// `POST /api/users/{user}/disable`: none of the user's tokens authenticates until it is
    /// enabled again; memberships and tokens stay. Server admins only.
    func disableUser(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        try require(Policy.can(p, .manageUsers), p, "disable users", target: id)
        guard let user = try await store.setUserDisabled(id: id, at: now) else { throw APIError.notFound("no user \(id)") }
        access.audit("user.disable", actor: p.user.id, target: id, detail: user.name, address: request.remoteAddress)
        await access.membershipsChanged(of: id)
        return .json(.ok, .object([("user", RecordJSON.user(user))]))
    }

    /// `POST /api/users/{user}/enable`: its tokens that are neither revoked nor expired work again.
    func enableUser(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        try require(Policy.can(p, .manageUsers), p, "enable users", target: id)
        guard let user = try await store.setUserDisabled(id: id, at: nil) else { throw APIError.notFound("no user \(id)") }
        access.audit("user.enable", actor: p.user.id, target: id, detail: user.name, address: request.remoteAddress)
        return .json(.ok, .object([("user", RecordJSON.user(user))]))
    }

    /// `DELETE /api/users/{user}`: the user, its tokens and memberships. Server admins only.
    func deleteUser(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        try require(Policy.can(p, .manageUsers), p, "delete users", target: id)
        guard let user = try await store.user(id: id) else { throw APIError.notFound("no user \(id)") }
        guard try await store.deleteUser(id: id, by: p.actor) else { throw APIError.notFound("no user \(id)") }
        access.audit("user.delete", actor: p.user.id, target: id, detail: "\(user.name) (\(user.kind.rawValue))",
                     address: request.remoteAddress)
        await access.membershipsChanged(of: id)
        return .json(.ok, .object([("deleted", .bool(true))]))
    }

    /// `POST /api/users/{user}/signout`: revokes every token of the user (sessions, API and bot
    /// tokens). Server admins for anyone; a user for itself with an unbound token.
    func signOutUser(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        if id != p.user.id || p.tokenWorkspace != nil {
            try require(Policy.can(p, .manageUsers), p, "sign out another user", target: id)
        }
        guard try await store.user(id: id) != nil else { throw APIError.notFound("no user \(id)") }
        let revoked = try await store.revokeTokens(of: id, at: now, by: p.actor)
        for token in revoked { access.tokenRevoked(token.id) }
        access.audit("user.signout", actor: p.user.id, target: id,
                     detail: revoked.isEmpty ? "no tokens to revoke" : "revoked " + revoked.map(\.id).joined(separator: ", "),
                     address: request.remoteAddress)
        return .json(.ok, .object([("revoked", .array(revoked.map { RecordJSON.token($0, now: now) }))]))
    }
}
