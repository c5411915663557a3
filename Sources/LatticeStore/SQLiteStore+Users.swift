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

    static func insertUser(_ user: User, _ db: Database) throws {
        try naming(exists: user.id) {
            try db.execute(sql: "INSERT INTO users (id, name, kind, is_admin, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: IdentityRows.arguments(user))
        }
    }

    static func user(id: String, _ db: Database) throws -> User? {
        try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(IdentityRows.user)
    }
}
