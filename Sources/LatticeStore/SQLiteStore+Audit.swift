import GRDB
public import LatticeAuth

extension SQLiteStore {
    /// Stores `entry` with a new id (its `id` is ignored).
    public func appendAudit(_ entry: AuditEntry) async throws {
        try await identityWrite { db in
            try db.execute(sql: """
                INSERT INTO audit (at, actor_id, action, workspace_id, target, detail, address)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [entry.at.storeMillis, entry.actorID, entry.action, entry.workspaceID,
                                 entry.target, entry.detail, entry.address])
        }
    }

    /// Newest first, at most `limit`, with ids below `beforeID` (the last id of the previous page).
    public func audit(workspaceID: String?, limit: Int, beforeID: Int64?) async throws -> [AuditEntry] {
        guard limit > 0 else { return [] }
        return try await identityRead { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let workspaceID {
                conditions.append("workspace_id = ?")
                arguments += [workspaceID]
            }
            if let beforeID {
                conditions.append("id < ?")
                arguments += [beforeID]
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit]
            return try Row.fetchAll(db, sql: "SELECT * FROM audit \(filter) ORDER BY id DESC LIMIT ?",
                                    arguments: arguments).map(IdentityRows.audit)
        }
    }
}

extension SQLiteStore: IdentityStore {}
