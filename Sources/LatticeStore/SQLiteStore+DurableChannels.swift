import Synchronization
import Foundation
import GRDB

/// Channels owners made durable. A channel's stream is `channel/{workspace}/{channel}`; the hub
/// asks `isDurableChannel` (synchronously, on an event loop) when the stream is first used.
extension SQLiteStore {
    /// Marks `channel` of `workspaceID` durable or not. Throws `notFound` for an unknown workspace.
    public func setChannelDurable(workspaceID: String, channel: String, _ durable: Bool) async throws {
        let now = Date().storeMillis
        try await identityWrite(ifMissing: workspaceID) { db in
            if durable {
                try db.execute(sql: """
                    INSERT INTO durable_channels (workspace_id, channel, created_at) VALUES (?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """, arguments: [workspaceID, channel, now])
            } else {
                try db.execute(sql: "DELETE FROM durable_channels WHERE workspace_id = ? AND channel = ?",
                               arguments: [workspaceID, channel])
            }
        }
        let name = Self.channelStreamName(workspaceID: workspaceID, channel: channel)
        durableChannelNames.withLock { names in
            if durable { names.insert(name) } else { names.remove(name) }
        }
    }

    /// The stream names (`channel/{workspace}/{channel}`) of every durable channel, from the database.
    public func durableChannels() throws -> Set<String> {
        try pool.read { db in try Self.loadDurableChannels(db) }
    }

    /// Whether `streamName` is a durable channel's stream; from memory.
    public func isDurableChannel(_ streamName: String) -> Bool {
        durableChannelNames.withLock { $0.contains(streamName) }
    }

    static func channelStreamName(workspaceID: String, channel: String) -> String {
        "channel/\(workspaceID)/\(channel)"
    }

    static func loadDurableChannels(_ db: Database) throws -> Set<String> {
        let rows = try Row.fetchAll(db, sql: "SELECT workspace_id, channel FROM durable_channels")
        return Set(rows.map { channelStreamName(workspaceID: $0["workspace_id"], channel: $0["channel"]) })
    }
}
