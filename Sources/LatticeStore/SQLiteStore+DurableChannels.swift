import Synchronization
import Foundation
import GRDB
public import LatticeAuth
import LatticeStreams

/// Channels owners made durable or coalescing (a channel is at most one of them; unmarked ones
/// are ephemeral). A channel's stream is `channel/{workspace}/{channel}`; the hub asks
/// `isDurableChannel` and `isCoalescingChannel` (synchronously, on an event loop) when the
/// stream is first used.
extension SQLiteStore {
    /// Marks `channel` of `workspaceID` durable or not; marking it durable removes its coalescing
    /// mark. A change of the channel's class is workspace activity. Throws `notFound` for an
    /// unknown workspace.
    public func setChannelDurable(workspaceID: String, channel: String, _ durable: Bool, by actor: ActivityActor) async throws {
        try await setChannelMark(workspaceID: workspaceID, channel: channel, .durable, durable, by: actor)
    }

    /// Marks `channel` of `workspaceID` coalescing or not; marking it coalescing removes its
    /// durable mark. A change of the channel's class is workspace activity. Throws `notFound`
    /// for an unknown workspace.
    public func setChannelCoalescing(workspaceID: String, channel: String, _ coalescing: Bool, by actor: ActivityActor) async throws {
        try await setChannelMark(workspaceID: workspaceID, channel: channel, .coalescing, coalescing, by: actor)
    }

    /// Sets or clears the mark of `mark` (durable or coalescing); setting one clears the other,
    /// in one transaction with the activity of the class change.
    private func setChannelMark(workspaceID: String, channel: String, _ mark: StreamClass, _ on: Bool,
                                by actor: ActivityActor) async throws {
        let (table, other) = mark == .durable ? ("durable_channels", "coalescing_channels") : ("coalescing_channels", "durable_channels")
        let now = Date()
        try await identityWrite(ifMissing: workspaceID) { db in
            let before = try Self.channelClass(workspaceID: workspaceID, channel: channel, db)
            if on {
                try db.execute(sql: """
                    INSERT INTO \(table) (workspace_id, channel, created_at) VALUES (?, ?, ?)
                    ON CONFLICT DO NOTHING
                    """, arguments: [workspaceID, channel, now.storeMillis])
                try db.execute(sql: "DELETE FROM \(other) WHERE workspace_id = ? AND channel = ?",
                               arguments: [workspaceID, channel])
            } else {
                try db.execute(sql: "DELETE FROM \(table) WHERE workspace_id = ? AND channel = ?",
                               arguments: [workspaceID, channel])
            }
            let after = try Self.channelClass(workspaceID: workspaceID, channel: channel, db)
            try Self.record(.channelMode(channel, in: workspaceID, from: before.rawValue, to: after.rawValue, by: actor, at: now), db)
        }
        let name = Self.channelStreamName(workspaceID: workspaceID, channel: channel)
        let durable = mark == .durable ? on : on ? false : nil
        let coalescing = mark == .coalescing ? on : on ? false : nil
        if let durable { durableChannelNames.withLock { _ = durable ? $0.insert(name).inserted : $0.remove(name) != nil } }
        if let coalescing { coalescingChannelNames.withLock { _ = coalescing ? $0.insert(name).inserted : $0.remove(name) != nil } }
    }

    /// The channel's class as the database has it.
    static func channelClass(workspaceID: String, channel: String, _ db: Database) throws -> StreamClass {
        let arguments: StatementArguments = [workspaceID, channel]
        if try Int.fetchOne(db, sql: "SELECT 1 FROM durable_channels WHERE workspace_id = ? AND channel = ?", arguments: arguments) != nil {
            return .durable
        }
        if try Int.fetchOne(db, sql: "SELECT 1 FROM coalescing_channels WHERE workspace_id = ? AND channel = ?", arguments: arguments) != nil {
            return .coalescing
        }
        return .ephemeral
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
