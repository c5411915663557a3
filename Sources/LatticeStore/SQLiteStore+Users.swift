public import Foundation
import GRDB
public import LatticeAuth

extension SQLiteStore {
    public func createUser(_ user: User) async throws {
        try await identityWrite { db in try Self.insertUser(user, db) }
    }

    public func user(id: String) async throws -> User? {
        try await identityRead { db in try Self.user(id: id, db) }
    }

    public func users() async throws -> [User] {
        try await identityRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY created_at, id").map(IdentityRows.user)
        }
    }

    public func userCount() async throws -> Int {
        try await identityRead { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0 }
    }

    public func setUserDisabled(id: String, at: Date?) async throws -> User? {
        try await identityWrite { db in
            guard let user = try Self.user(id: id, db) else { return nil }
            switch (at, user.disabledAt) {
            case (let at?, nil):
                if user.isAdmin { try Self.requireAnotherAdmin(than: id, db) }
                try db.execute(sql: "UPDATE users SET disabled_at = ? WHERE id = ?", arguments: [at.storeMillis, id])
            case (nil, _?):
                try db.execute(sql: "UPDATE users SET disabled_at = NULL WHERE id = ?", arguments: [id])
            default:
                return user  // already as asked: nothing changes (and nothing is recorded)
            }
            return try Self.user(id: id, db)
        }
    }

    /// The tokens and memberships go by the schema's cascades (the v3 triggers record each).
    public func deleteUser(id: String, by actor: ActivityActor) async throws -> Bool {
        try await identityWrite { db in
            guard let user = try Self.user(id: id, db) else { return false }
            if user.isAdmin && !user.isDisabled { try Self.requireAnotherAdmin(than: id, db) }
            let owned = try String.fetchAll(db, sql: "SELECT workspace_id FROM members WHERE user_id = ? AND role = ? ORDER BY workspace_id",
                                            arguments: [id, Role.owner.rawValue])
            for workspace in owned { try Self.requireAnotherOwner(in: workspace, db) }
            let now = Date()
            for row in try Row.fetchAll(db, sql: "SELECT workspace_id, role FROM members WHERE user_id = ? ORDER BY workspace_id",
                                        arguments: [id]) {
                try Self.record(.membership(of: user, in: row["workspace_id"], from: try IdentityRows.decode(row["role"]) as Role,
                                            to: nil, by: actor, at: now, reason: "user deleted"), db)
            }
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
            return true
        }
    }

    /// Throws `lastAdmin(id)` unless another enabled server admin than `id` exists.
    static func requireAnotherAdmin(than id: String, _ db: Database) throws {
        let others = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users WHERE is_admin = 1 AND disabled_at IS NULL AND id != ?",
                                      arguments: [id]) ?? 0
        if others == 0 { throw IdentityStoreError.lastAdmin(id) }
    }

    static func insertUser(_ user: User, _ db: Database) throws {
        try naming(exists: user.id) {
            try db.execute(sql: "INSERT INTO users (id, name, kind, is_admin, created_at, disabled_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: IdentityRows.arguments(user))
        }
    }

    static func user(id: String, _ db: Database) throws -> User? {
        try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(IdentityRows.user)
    }
}
