import NIOHTTP1
import Foundation
import LatticeAuth

/// `/api/tokens`: create (the secret is in this answer only), list own, revoke.
extension APICall {
    /// Longest token lifetime a request may ask for (10 years).
    static let maxTokenLifetime = 10 * 365 * 86_400

    func createToken(_ p: Principal) async throws -> HTTPResponse {
        let body = try body()
        let targetID = try body.string("userID") ?? p.user.id
        if targetID != p.user.id {
            try require(Policy.can(p, .manageUsers), p, "create tokens for other users", target: targetID)
        }
        guard try await store.user(id: targetID) != nil else { throw APIError.notFound("no user \(targetID)") }

        let kindName = try body.string("kind") ?? "api"
        guard let kind = TokenRecord.Kind(rawValue: kindName), kind == .api || kind == .bot else {
            throw APIError.badRequest("kind must be api or bot (sessions come from /signin)")
        }
        let scopes = try body.strings("scopes").map(Self.parseScopes) ?? p.scopes
        guard !scopes.isEmpty else { throw APIError.badRequest("scopes must not be empty") }
        try require(scopes.isSubset(of: p.scopes), p, "grant scopes beyond your own token's (\(p.scopes.map(\.rawValue).sorted().joined(separator: ",")))")

        // A token bound to a workspace can only make tokens bound to the same workspace.
        var workspace = try body.string("workspace")
        if let bound = p.tokenWorkspace {
            if workspace == nil { workspace = bound }
            try require(workspace == bound, p, "create tokens outside workspace \(bound)")
        }
        if kind == .bot {
            guard let ws = workspace else { throw APIError.badRequest("a bot token needs a workspace") }
            try require(p, .manageMembers, in: ws, "create bot tokens in \(ws)")
        }
        if let ws = workspace {
            if let problem = Validation.segment(ws, what: "workspace") { throw APIError.badRequest(problem) }
            try require(p, .read, in: ws, "create tokens for \(ws)")
            _ = try await existingWorkspace(ws)
        }
        let expiresIn = try body.int("expiresInSeconds")
        if let expiresIn, !(1...Self.maxTokenLifetime).contains(expiresIn) {
            throw APIError.badRequest("expiresInSeconds must be from 1 to \(Self.maxTokenLifetime)")
        }
        let label = try body.string("label") ?? ""
        guard label.utf8.count <= 64 else { throw APIError.badRequest("label must be at most 64 bytes") }
        let capabilities = try body.strings("capabilities") ?? []
        guard capabilities.count <= 32, capabilities.allSatisfy({ Validation.segment($0, what: "") == nil }) else {
            throw APIError.badRequest("capabilities must be at most 32 names of A-Z a-z 0-9 . _ ~ -")
        }

        let (secret, record) = IdentityFactory.token(for: targetID, kind: kind, scopes: scopes, workspaceID: workspace,
                                                     capabilities: capabilities, label: label,
                                                     expiresIn: expiresIn.map(TimeInterval.init), now: now)
        try await store.insertToken(record, by: p.actor)
        access.audit("token.create", actor: p.user.id, workspace: workspace, target: record.id,
                     detail: "\(kind.rawValue) for \(targetID), scopes \(scopes.map(\.rawValue).sorted().joined(separator: ","))",
                     address: request.remoteAddress)
        return .json(.created, .object([("token", .string(secret.description)), ("record", RecordJSON.token(record, now: now))]))
    }

    func listTokens(_ p: Principal) async throws -> HTTPResponse {
        let tokens = try await store.tokens(of: p.user.id).sorted { $0.createdAt > $1.createdAt }
        return .json(.ok, .object([("tokens", .array(tokens.map { RecordJSON.token($0, now: now) }))]))
    }

    /// Revokes one of the caller's tokens (any token for a server admin) and closes every
    /// session that uses it.
    func revokeToken(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        guard let token = try await store.token(id: id) else { throw APIError.notFound("no token \(id)") }
        if token.userID != p.user.id {
            try require(Policy.can(p, .manageUsers), p, "revoke another user's token", target: id)
        } else if let bound = p.tokenWorkspace {
            try require(token.workspaceID == bound, p, "revoke tokens outside workspace \(bound)", target: id)
        }
        guard let revoked = try await store.revokeToken(id: id, at: now, by: p.actor) else { throw APIError.notFound("no token \(id)") }
        access.tokenRevoked(id)
        access.audit("token.revoke", actor: p.user.id, workspace: token.workspaceID, target: id,
                     detail: "\(token.kind.rawValue) of \(token.userID)", address: request.remoteAddress)
        return .json(.ok, .object([("record", RecordJSON.token(revoked, now: now))]))
    }
}
