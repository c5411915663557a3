import Foundation
import GRDB
import LatticeAuth

/// Identity records to and from rows. Column names are the schema's (`StoreMigrations`).
enum IdentityRows {
    static func user(_ row: Row) throws -> User {
        User(id: row["id"], name: row["name"], kind: try decode(row["kind"]),
             isAdmin: row["is_admin"], createdAt: Date(storeMillis: row["created_at"]),
             disabledAt: (row["disabled_at"] as Int64?).map(Date.init(storeMillis:)))
    }

    static func arguments(_ user: User) -> StatementArguments {
        [user.id, user.name, user.kind.rawValue, user.isAdmin, user.createdAt.storeMillis, user.disabledAt?.storeMillis]
    }

    static func workspace(_ row: Row) -> Workspace {
        Workspace(id: row["id"], name: row["name"], createdAt: Date(storeMillis: row["created_at"]))
    }

    static func token(_ row: Row) throws -> TokenRecord {
        let scopes: String = row["scopes"]
        let capabilities: String = row["capabilities"]
        return TokenRecord(
            id: row["id"], userID: row["user_id"], kind: try decode(row["kind"]),
            secretHash: row["secret_hash"],
            scopes: Set(try scopes.split(separator: ",").map { try decode(String($0)) }),
            workspaceID: row["workspace_id"],
            capabilities: try JSONDecoder().decode([String].self, from: Data(capabilities.utf8)),
            label: row["label"], createdAt: Date(storeMillis: row["created_at"]),
            expiresAt: (row["expires_at"] as Int64?).map(Date.init(storeMillis:)),
            revokedAt: (row["revoked_at"] as Int64?).map(Date.init(storeMillis:)))
    }

    static func arguments(_ token: TokenRecord) throws -> StatementArguments {
        // Scopes: sorted and comma-separated, so equal sets are equal strings.
        let scopes = token.scopes.map(\.rawValue).sorted().joined(separator: ",")
        let capabilities = String(decoding: try JSONEncoder().encode(token.capabilities), as: UTF8.self)
        return [token.id, token.userID, token.kind.rawValue, token.secretHash, scopes, token.workspaceID,
                capabilities, token.label, token.createdAt.storeMillis, token.expiresAt?.storeMillis,
                token.revokedAt?.storeMillis]
    }

    static func invitation(_ row: Row) throws -> Invitation {
        Invitation(id: row["id"], workspaceID: row["workspace_id"], role: try decode(row["role"]),
                   secretHash: row["secret_hash"], createdBy: row["created_by"],
                   createdAt: Date(storeMillis: row["created_at"]), expiresAt: Date(storeMillis: row["expires_at"]),
                   usedAt: (row["used_at"] as Int64?).map(Date.init(storeMillis:)), usedBy: row["used_by"],
                   revokedAt: (row["revoked_at"] as Int64?).map(Date.init(storeMillis:)))
    }

    static func arguments(_ invitation: Invitation) -> StatementArguments {
        [invitation.id, invitation.workspaceID, invitation.role.rawValue, invitation.secretHash,
         invitation.createdBy, invitation.createdAt.storeMillis, invitation.expiresAt.storeMillis,
         invitation.usedAt?.storeMillis, invitation.usedBy, invitation.revokedAt?.storeMillis]
    }

    static func audit(_ row: Row) -> AuditEntry {
        AuditEntry(id: row["id"], at: Date(storeMillis: row["at"]), actorID: row["actor_id"],
                   action: row["action"], workspaceID: row["workspace_id"], target: row["target"],
                   detail: row["detail"], address: row["address"])
    }

    /// A stored enum value; an unknown one means the file was written by a newer version.
    static func decode<T: RawRepresentable>(_ raw: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else {
            throw IdentityStoreError.storeFailed("unknown \(T.self) '\(raw)' in the database")
        }
        return value
    }
}
