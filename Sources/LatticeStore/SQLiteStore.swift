import Foundation
import GRDB
import LatticeStreams
import Synchronization

/// Lattice's storage on one SQLite file (`lattice.sqlite`, WAL mode): identity records
/// (`IdentityStore`) and durable stream events (`DurableStreamStore`).
///
/// Reads go through the pool's reader connections; stream appends through one group-commit
/// writer thread; identity changes through the pool's writer, between the writer's batches.
public final class SQLiteStore: Sendable {
    /// The database file.
    public let path: String
    let pool: DatabasePool
    let options: SQLiteStoreOptions
    let heads: HeadCache
    let writer: GroupCommitWriter
    /// `durableChannels()`, for `isDurableChannel(_:)` (synchronous, on event loops).
    let durableChannelNames: Mutex<Set<String>>
    /// `coalescingChannels()`, for `isCoalescingChannel(_:)`.
    let coalescingChannelNames: Mutex<Set<String>>
    private let closed = Mutex(false)

    private init(path: String, pool: DatabasePool, options: SQLiteStoreOptions,
                 heads: [String: DurableStreamHead], durableChannels: Set<String>, coalescingChannels: Set<String>) {
        self.path = path
        self.pool = pool
        self.options = options
        self.heads = HeadCache(heads)
        self.writer = GroupCommitWriter(pool: pool, heads: self.heads, options: options)
        self.durableChannelNames = Mutex(durableChannels)
        self.coalescingChannelNames = Mutex(coalescingChannels)
    }

    /// Opens (creating if needed) `directory/lattice.sqlite`, migrates it to the latest schema,
    /// loads every stream head and starts the writer thread.
    public static func open(directory: String, options: SQLiteStoreOptions = SQLiteStoreOptions()) throws -> SQLiteStore {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("lattice.sqlite")
        let pool = try DatabasePool(path: path, configuration: configuration(options))
        do {
            // DatabasePool sets `synchronous = NORMAL` on its writer when it enables WAL, after
            // `prepareDatabase` ran: set ours again on the (single) writer connection.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(options.synchronous.rawValue)")
            }
            try migrator.migrate(pool)
            let (heads, channels, coalescing) = try pool.read { db in
                (try HeadCache.load(db), try loadDurableChannels(db), try loadCoalescingChannels(db))
            }
            let store = SQLiteStore(path: path, pool: pool, options: options, heads: heads, durableChannels: channels,
                                    coalescingChannels: coalescing)
            store.writer.start()
            return store
        } catch {
            try? pool.close()
            throw error
        }
    }

    private static func configuration(_ options: SQLiteStoreOptions) -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.journalMode = .wal
        config.busyMode = .timeout(options.busyTimeout.timeInterval)
        config.label = "lattice-store"
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(options.synchronous.rawValue)")
        }
        return config
    }

    /// A store dropped without `close()` still commits what was queued: the writer thread drains
    /// its queue, exits, and the pool closes when the thread releases it. (No waiting here: the
    /// last reference may go away in an append completion, on the writer thread itself.)
    deinit {
        if !closed.withLock({ $0 }) { writer.shutDown() }
    }

    /// Stops the writer after it committed every queued append (their completions are called),
    /// then closes the database. Later appends fail at once. Idempotent. Do not call it from an
    /// append completion (it waits for the writer thread, which runs them).
    public func close() {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        writer.stop()
        try? pool.close()
    }

    /// What the group-commit writer has done so far.
    public var writerStats: WriterStats { writer.currentStats }
}
