public import Foundation
import GRDB
public import LatticeAuth

extension SQLiteStore {
    /// Throws `alreadyExists` for a taken id, `notFound` for an unknown user or workspace.
    public func insertToken(_ token: TokenRecord) async throws {
        try await identityWrite { db in try Self.insertToken(token, db) }
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

    public func revokeToken(id: String, at: Date) async throws -> TokenRecord? {
        try await identityWrite { db in
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [at.storeMillis, id])
            return try Self.token(id: id, db)
        }
    }

    public func consumeToken(id: String, at: Date) async throws -> Bool {
        try await identityWrite { db in
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                           arguments: [at.storeMillis, id])
            return db.changesCount == 1
        }
    }

    public func revokeTokens(of userID: String, at: Date) async throws -> [TokenRecord] {
        try await identityWrite { db in
            guard try Self.user(id: userID, db) != nil else { throw IdentityStoreError.notFound(userID) }
            let ids = try String.fetchAll(db, sql: "SELECT id FROM tokens WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at, id",
                                          arguments: [userID])
            try db.execute(sql: "UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                           arguments: [at.storeMillis, userID])
            return try ids.compactMap { try Self.token(id: $0, db) }
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

    static func token(id: String, _ db: Database) throws -> TokenRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE id = ?", arguments: [id]).map(IdentityRows.token)
    }
}
