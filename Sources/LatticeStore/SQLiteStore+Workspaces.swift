import Foundation
import GRDB
public import LatticeAuth

extension SQLiteStore {
    public func createWorkspace(_ workspace: Workspace, owner: String) async throws {
        try await identityWrite { db in
            guard try Self.user(id: owner, db) != nil else { throw IdentityStoreError.notFound(owner) }
            try Self.naming(exists: workspace.id) {
                try db.execute(sql: "INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)",
                               arguments: [workspace.id, workspace.name, workspace.createdAt.storeMillis])
            }
            try Self.putMember(owner, .owner, in: workspace.id, db)
        }
    }

    public func workspace(id: String) async throws -> Workspace? {
        try await identityRead { db in
            try Row.fetchOne(db, sql: "SELECT * FROM workspaces WHERE id = ?", arguments: [id]).map(IdentityRows.workspace)
        }
    }

    public func renameWorkspace(id: String, name: String, by actor: ActivityActor) async throws -> Workspace? {
        try await identityWrite { db -> Workspace? in
            guard var workspace = try Row.fetchOne(db, sql: "SELECT * FROM workspaces WHERE id = ?", arguments: [id])
                .map(IdentityRows.workspace) else { return nil }
            let previous = workspace.name
            workspace.name = name
            try db.execute(sql: "UPDATE workspaces SET name = ? WHERE id = ?", arguments: [name, id])
            try Self.record(.renamed(workspace, from: previous, by: actor, at: Date()), db)
            return workspace
        }
    }

    public func workspaces() async throws -> [Workspace] {
        try await identityRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM workspaces ORDER BY created_at, id").map(IdentityRows.workspace)
        }
    }

    public func memberships(of userID: String) async throws -> [String: Role] {
        try await identityRead { db in
            var roles: [String: Role] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT workspace_id, role FROM members WHERE user_id = ?",
                                        arguments: [userID]) {
                roles[row["workspace_id"]] = try IdentityRows.decode(row["role"])
            }
            return roles
        }
    }

    /// Ordered by user name, then id.
    public func members(of workspaceID: String) async throws -> [(User, Role)] {
        try await identityRead { db in
            try Row.fetchAll(db, sql: """
                SELECT users.*, members.role AS member_role FROM members
                JOIN users ON users.id = members.user_id
                WHERE members.workspace_id = ? ORDER BY users.name, users.id
                """, arguments: [workspaceID]).map { row in
                (try IdentityRows.user(row), try IdentityRows.decode(row["member_role"]) as Role)
            }
        }
    }

    /// Throws `notFound` for an unknown user or workspace.
    public func setRole(_ role: Role, of userID: String, in workspaceID: String, by actor: ActivityActor) async throws {
        try await identityWrite { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM workspaces WHERE id = ?", arguments: [workspaceID]) != nil else {
                throw IdentityStoreError.notFound(workspaceID)
            }
            guard let user = try Self.user(id: userID, db) else { throw IdentityStoreError.notFound(userID) }
            let before = try Self.role(of: userID, in: workspaceID, db)
            if role != .owner, before == .owner {
                try Self.requireAnotherOwner(in: workspaceID, db)
            }
            try Self.putMember(userID, role, in: workspaceID, db)
            try Self.record(.membership(of: user, in: workspaceID, from: before, to: role, by: actor, at: Date()), db)
        }
    }

    public func removeMember(_ userID: String, from workspaceID: String, by actor: ActivityActor) async throws -> Bool {
        try await identityWrite { db in
            guard let role = try Self.role(of: userID, in: workspaceID, db) else { return false }
            if role == .owner {
                try Self.requireAnotherOwner(in: workspaceID, db)
            }
            try db.execute(sql: "DELETE FROM members WHERE workspace_id = ? AND user_id = ?",
                           arguments: [workspaceID, userID])
            if let user = try Self.user(id: userID, db) {
                try Self.record(.membership(of: user, in: workspaceID, from: role, to: nil, by: actor, at: Date()), db)
            }
            return true
        }
    }

    static func role(of userID: String, in workspaceID: String, _ db: Database) throws -> Role? {
        try String.fetchOne(db, sql: "SELECT role FROM members WHERE workspace_id = ? AND user_id = ?",
                            arguments: [workspaceID, userID]).map(IdentityRows.decode)
    }

    static func putMember(_ userID: String, _ role: Role, in workspaceID: String, _ db: Database) throws {
        try naming(exists: userID, missing: "\(userID) in \(workspaceID)") {
            try db.execute(sql: """
                INSERT INTO members (workspace_id, user_id, role) VALUES (?, ?, ?)
                ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role
                """, arguments: [workspaceID, userID, role.rawValue])
        }
    }

    /// Throws `lastOwner` unless the workspace has at least two owners (so one may go).
    static func requireAnotherOwner(in workspaceID: String, _ db: Database) throws {
        let owners = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM members WHERE workspace_id = ? AND role = ?",
                                      arguments: [workspaceID, Role.owner.rawValue]) ?? 0
        if owners < 2 { throw IdentityStoreError.lastOwner(workspaceID) }
    }
}
