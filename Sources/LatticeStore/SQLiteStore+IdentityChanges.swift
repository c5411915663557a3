public import Foundation
import GRDB
public import LatticeAuth

/// The change log the v3 triggers fill (StoreMigrations.swift).
extension SQLiteStore {
    public func identityChangeHead() async throws -> Int64 {
        try await identityRead { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM identity_changes") ?? 0
        }
    }

    public func identityChanges(after: Int64, limit: Int) async throws -> [IdentityChange] {
        guard limit > 0 else { return [] }
        return try await identityRead { db in
            try Row.fetchAll(db, sql: "SELECT seq, kind, subject FROM identity_changes WHERE seq > ? ORDER BY seq LIMIT ?",
                             arguments: [after, limit]).compactMap { row in
                let subject: String = row["subject"]
                switch row["kind"] as String {
                case "user": return IdentityChange(seq: row["seq"], subject: .user(subject))
                case "token": return IdentityChange(seq: row["seq"], subject: .token(subject))
                default: return nil  // a kind a newer version records: not ours to apply
                }
            }
        }
    }

    public func pruneIdentityChanges(before: Date) async throws -> Int {
        try await identityWrite { db in
            try db.execute(sql: "DELETE FROM identity_changes WHERE at < ?", arguments: [before.storeMillis])
            return db.changesCount
        }
    }
}
