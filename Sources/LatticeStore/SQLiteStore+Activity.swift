import Foundation
import GRDB
public import LatticeAuth

/// Workspace activity waiting in `activity_outbox` (migration v6): recorded in the transaction
/// of its action; the server's relay publishes each on its stream with an append that deletes
/// it in the same transaction (an `OutboxRelay` attachment), so every action's event is published
/// exactly once, even across a crash.
extension SQLiteStore {
    public func pendingActivity(limit: Int) async throws -> [PendingActivity] {
        guard limit > 0 else { return [] }
        return try await identityRead { db in
            try Row.fetchAll(db, sql: "SELECT seq, stream, data FROM activity_outbox ORDER BY seq LIMIT ?",
                             arguments: [limit]).map { row in
                PendingActivity(seq: row["seq"], stream: row["stream"], data: row["data"])
            }
        }
    }

    /// Records `activity` (nothing when nil: the action changed nothing) inside `db`'s transaction.
    static func record(_ activity: WorkspaceActivity?, _ db: Database) throws {
        guard let activity else { return }
        try db.execute(sql: "INSERT INTO activity_outbox (stream, data) VALUES (?, ?)",
                       arguments: [activity.streamName, activity.json()])
    }
}
