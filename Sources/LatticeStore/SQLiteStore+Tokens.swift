public import Foundation
import GRDB
public import LatticeAuth

extension SQLiteStore {
    /// Throws `alreadyExists` for a taken id, `notFound` for an unknown user or workspace.
    public func insertToken(_ token: TokenRecord, by actor: ActivityActor) async throws {
        try await identityWrite { db in
            try Self.insertToken(token, db)
            try Self.recordToken(.tokenCreated, token, by: actor, at: token.createdAt, db)
        }
    }

    public func token(id: String) async throws -> TokenRecord? {
        try await identityRead { db in try Self.token(id: id, db) }
    }

    /// Oldest first.
    public func tokens(of userID: String) async throws -> [TokenRecord] {
        try await identityRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens WHERE user_id = ? ORDER BY created_at, id",
                             arguments: [userID]).map(IdentityRows.token)
        }
    }

    public func revokeToken(id: String, at: Date, by actor: ActivityActor) async throws -> TokenRecord? {
        try await identityWrite { db in
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [at.storeMillis, id])
            let revoked = db.changesCount == 1
            let token = try Self.token(id: id, db)
            if revoked, let token { try Self.recordToken(.tokenRevoked, token, by: actor, at: at, db) }
            return token
        }
    }

    public func consumeToken(id: String, at: Date) async throws -> Bool {
        try await identityWrite { db in
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [at.storeMillis, id])
            return db.changesCount == 1
        }
    }

    public func revokeTokens(of userID: String, at: Date, by actor: ActivityActor) async throws -> [TokenRecord] {
        try await identityWrite { db in
            guard try Self.user(id: userID, db) != nil else { throw IdentityStoreError.notFound(userID) }
            let ids = try String.fetchAll(db, sql: "SELECT id FROM tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at, id",
                                          arguments: [userID])
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                           arguments: [at.storeMillis, userID])
            let revoked = try ids.compactMap { try Self.token(id: $0, db) }
            for token in revoked { try Self.recordToken(.tokenRevoked, token, by: actor, at: at, db) }
            return revoked
        }
    }

    static func insertToken(_ token: TokenRecord, _ db: Database) throws {
        let missing = token.workspaceID.map { "\(token.userID) or \($0)" } ?? token.userID
        let arguments = try IdentityRows.arguments(token)
        try naming(exists: token.id, missing: missing) {
            try db.execute(sql: """
                INSERT INTO tokens (id, user_id, kind, secret_hash, scopes, workspace_id, capabilities,
                                    label, created_at, expires_at, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: arguments)
        }
    }

    /// A bot's token is activity of the workspaces it can be used in (`WorkspaceActivity.botToken`).
    static func recordToken(_ kind: WorkspaceActivity.Kind, _ token: TokenRecord, by actor: ActivityActor, at: Date,
                            _ db: Database) throws {
        guard token.kind == .bot || token.kind == .api, let user = try user(id: token.userID, db) else { return }
        let memberships = try String.fetchAll(db, sql: "SELECT workspace_id FROM members WHERE user_id = ?", arguments: [user.id])
        for activity in WorkspaceActivity.botToken(kind, token, of: user, memberships: memberships, by: actor, at: at) {
            try record(activity, db)
        }
    }

    static func token(id: String, _ db: Database) throws -> TokenRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE id = ?", arguments: [id]).map(IdentityRows.token)
    }
}
