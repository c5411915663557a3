import Synchronization
import Foundation
import GRDB

/// Channels owners made durable or coalescing (a channel is at most one of them; unmarked ones
/// are ephemeral). A channel's stream is `channel/{workspace}/{channel}`; the hub asks
/// `isDurableChannel` and `isCoalescingChannel` (synchronously, on an event loop) when the
/// stream is first used.
extension SQLiteStore {
    /// Marks `channel` of `workspaceID` durable or not; marking it durable removes its coalescing
    /// mark. Throws `notFound` for an unknown workspace.
    public func setChannelDurable(workspaceID: String, channel: String, _ durable: Bool) async throws {
        try await setChannelMark(workspaceID: workspaceID, channel: channel, table: "durable_channels",
                                 other: "coalescing_channels", durable)
        let name = Self.channelStreamName(workspaceID: workspaceID, channel: channel)
        durableChannelNames.withLock { names in
            if durable { names.insert(name) } else { names.remove(name) }
        }
        if durable { _ = coalescingChannelNames.withLock { $0.remove(name) } }
    }

    /// Marks `channel` of `workspaceID` coalescing or not; marking it coalescing removes its
    /// durable mark. Throws `notFound` for an unknown workspace.
    public func setChannelCoalescing(workspaceID: String, channel: String, _ coalescing: Bool) async throws {
        try await setChannelMark(workspaceID: workspaceID, channel: channel, table: "coalescing_channels",
                                 other: "durable_channels", coalescing)
        let name = Self.channelStreamName(workspaceID: workspaceID, channel: channel)
        coalescingChannelNames.withLock { names in
            if coalescing { names.insert(name) } else { names.remove(name) }
        }
        if coalescing { _ = durableChannelNames.withLock { $0.remove(name) } }
    }

    /// Sets or clears the mark in `table`; setting it clears the one in `other`, in one transaction.
    private func setChannelMark(workspaceID: String, channel: String, table: String, other: String, _ on: Bool) async throws {
        let now = Date().storeMillis
        try await identityWrite(ifMissing: workspaceID) { db in
            if on {
                try db.execute(sql: """
                    INSERT INTO \(table) (workspace_id, channel, created_at) VALUES (?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """, arguments: [workspaceID, channel, now])
                try db.execute(sql: "DELETE FROM \(other) WHERE workspace_id = ? AND channel = ?",
                               arguments: [workspaceID, channel])
            } else {
                try db.execute(sql: "DELETE FROM \(table) WHERE workspace_id = ? AND channel = ?",
                               arguments: [workspaceID, channel])
            }
        }
    }

    /// The stream names (`channel/{workspace}/{channel}`) of every durable channel, from the database.
    public func durableChannels() throws -> Set<String> {
        try pool.read { db in try Self.loadDurableChannels(db) }
    }

    /// The stream names of every coalescing channel, from the database.
    public func coalescingChannels() throws -> Set<String> {
        try pool.read { db in try Self.loadCoalescingChannels(db) }
    }

    /// Whether `streamName` is a durable channel's stream; from memory.
    public func isDurableChannel(_ streamName: String) -> Bool {
        durableChannelNames.withLock { $0.contains(streamName) }
    }

    /// Whether `streamName` is a coalescing channel's stream; from memory.
    public func isCoalescingChannel(_ streamName: String) -> Bool {
        coalescingChannelNames.withLock { $0.contains(streamName) }
    }

    static func channelStreamName(workspaceID: String, channel: String) -> String {
        "channel/\(workspaceID)/\(channel)"
    }

    static func loadDurableChannels(_ db: Database) throws -> Set<String> {
        try loadChannels(db, table: "durable_channels")
    }

    static func loadCoalescingChannels(_ db: Database) throws -> Set<String> {
        try loadChannels(db, table: "coalescing_channels")
    }

    private static func loadChannels(_ db: Database, table: String) throws -> Set<String> {
        let rows = try Row.fetchAll(db, sql: "SELECT workspace_id, channel FROM \(table)")
        return Set(rows.map { channelStreamName(workspaceID: $0["workspace_id"], channel: $0["channel"]) })
    }
}
