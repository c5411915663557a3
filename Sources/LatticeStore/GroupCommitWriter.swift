import Foundation
import GRDB
import LatticeProtocol
import LatticeRuns
import LatticeStreams
import NIOCore
import Synchronization

/// The single writer of durable stream events: one dedicated thread (blocking on SQLite is its
/// job, so it is neither an event loop nor a Swift concurrency task) that commits everything
/// queued in one transaction (one fsync for many events), assigns offsets inside it, and calls
/// completions after COMMIT, in commit order.
final class GroupCommitWriter: Sendable {
    private let pool: DatabasePool
    private let heads: HeadCache
    private let options: SQLiteStoreOptions
    private let queue = WriterQueue()
    private let stats = Mutex(WriterStats())
    private let finished = DispatchSemaphore(value: 0)
    private let threadName = "lattice-store-writer"

    init(pool: DatabasePool, heads: HeadCache, options: SQLiteStoreOptions) {
        self.pool = pool
        self.heads = heads
        self.options = options
    }

    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = threadName
        thread.start()
    }

    var currentStats: WriterStats { stats.withLock { $0 } }

    /// Queues an append; fails it at once when the writer is closed.
    func append(_ append: PendingAppend) {
        if !queue.enqueue(.append(append)) {
            append.completion(.failure(.storeFailed("the store is closed")))
        }
    }

    /// Queues a retention pass; fails it at once when the writer is closed.
    func requestRetention(_ done: @escaping @Sendable (Result<Void, DurableAppendError>) -> Void) {
        if !queue.enqueue(.retention(done)) {
            done(.failure(.storeFailed("the store is closed")))
        }
    }

    /// Refuses new work, commits what is queued (calling its completions), and returns when the
    /// thread has exited. Must not be called from a completion (the writer thread).
    func stop() {
        precondition(Thread.current.name != threadName, "SQLiteStore.close() called from an append completion")
        queue.close()
        finished.wait()
    }

    /// Refuses new work without waiting: the thread drains the queue and exits on its own.
    func shutDown() {
        queue.close()
    }

    private func run() {
        let maxEvents = options.groupCommit ? options.maxBatchEvents : 1
        // At least 10 ms: with zero an idle writer would spin on retention passes.
        let interval = max(options.retentionCheckInterval.timeInterval, 0.01)
        var nextRetention = Date().addingTimeInterval(interval)
        while true {
            switch queue.next(maxEvents: maxEvents, maxBytes: options.maxBatchBytes, deadline: nextRetention) {
            case .commit(let batch):
                commit(batch)
            case .retention(let done):
                done(retain())
                nextRetention = Date().addingTimeInterval(interval)
            case .timedOut:
                break
            case .finished:
                return
            }
            if Date() >= nextRetention {
                _ = retain()
                nextRetention = Date().addingTimeInterval(interval)
            }
        }
    }

    // MARK: Commit

    private func commit(_ queued: [PendingAppend]) {
        // Attachments are resolved first: an unknown one fails its own append, unstored, and
        // the rest of the batch still commits.
        var batch: [PendingAppend] = []
        var writes: [AttachmentWrite?] = []
        batch.reserveCapacity(queued.count)
        writes.reserveCapacity(queued.count)
        for append in queued {
            guard let attachment = append.attachment else {
                batch.append(append)
                writes.append(nil)
                continue
            }
            guard let write = AttachmentWrite(attachment) else {
                append.completion(.failure(AttachmentWrite.unknown(attachment)))
                continue
            }
            batch.append(append)
            writes.append(write)
        }
        guard !batch.isEmpty else { return }
        // A run's row is written once per batch, as it is after its last event in the batch:
        // the executor attaches the row to every event, and the earlier rows are superseded in
        // the same transaction anyway.
        var lastRowWrite: [String: Int] = [:]
        for (index, write) in writes.enumerated() {
            if let record = write?.runRow { lastRowWrite[record.id] = index }
        }
        let plan = BatchPlan(batch, heads: heads)
        let (next, streams, offsets) = (plan.next, plan.streams, plan.offsets)
        let timeMillis = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            try pool.write { db in
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO stream_events (stream, offset, data, key, time_ms) VALUES (?, ?, ?, ?, ?)
                    """)
                for (index, append) in batch.enumerated() {
                    let data = append.data.withUnsafeReadableBytes { Data($0) }
                    try insert.execute(arguments: [append.stream, Int64(offsets[index]), data, append.key, timeMillis])
                    if let record = writes[index]?.runRow, lastRowWrite[record.id] != index {
                        // A later event of the batch writes the row; what else this one carries is written.
                        try writes[index]?.withoutRunRow.apply(db)
                        continue
                    }
                    try writes[index]?.apply(db)
                }
                // The first event of a stream persists the epoch its head was given in memory.
                let upsert = try db.cachedStatement(sql: """
                    INSERT INTO streams (name, epoch, newest_offset, oldest_offset) VALUES (?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET newest_offset = excluded.newest_offset
                    """)
                for stream in streams {
                    let head = next[stream]!
                    try upsert.execute(arguments: [stream, head.epoch.rawValue,
                                                   Int64(head.newestOffset), Int64(head.oldestOffset)])
                }
            }
        } catch {
            reloadHeads(streams)
            stats.withLock { $0.failedTransactions += 1 }
            let failure = DurableAppendError.storeFailed(String(describing: error))
            for append in batch { append.completion(.failure(failure)) }
            return
        }
        for stream in streams {
            heads.setNewest(next[stream]!.newestOffset, of: stream)
        }
        stats.withLock { stats in
            stats.transactions += 1
            stats.events += batch.count
            stats.largestBatch = max(stats.largestBatch, batch.count)
        }
        for (append, offset) in zip(batch, offsets) {
            append.completion(.success(offset))
        }
    }

    /// Offsets for a batch: each stream's cached head continued. The cache itself moves only
    /// after COMMIT.
    private struct BatchPlan {
        var next: [String: DurableStreamHead] = [:]
        /// The batch's streams, in first-append order.
        var streams: [String] = []
        var offsets: [UInt64] = []

        init(_ batch: [PendingAppend], heads: HeadCache) {
            offsets.reserveCapacity(batch.count)
            for append in batch {
                var head = next[append.stream] ?? {
                    streams.append(append.stream)
                    return heads.head(of: append.stream)
                }()
                head.newestOffset += 1
                offsets.append(head.newestOffset)
                next[append.stream] = head
            }
        }
    }

    /// After a failed transaction: the database is the truth for streams it has rows of; the
    /// others keep their in-memory heads (their epoch is not persisted yet).
    private func reloadHeads(_ streams: [String]) {
        let stored = try? pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, epoch, newest_offset, oldest_offset FROM streams WHERE name IN (\(databaseQuestionMarks(count: streams.count)))",
                             arguments: StatementArguments(streams))
        }
        for row in stored ?? [] {
            heads.replace(HeadCache.head(from: row), of: row["name"])
        }
    }

    // MARK: Retention

    private func retain() -> Result<Void, DurableAppendError> {
        do {
            let pass = RetentionPass(streams: heads.storedStreams(), retention: options.retention,
                                     nowMillis: Int64(Date().timeIntervalSince1970 * 1000))
            let plan = try pool.read { db in try pass.plan(db) }
            guard !plan.isEmpty else { return .success(()) }
            try pool.write { db in try RetentionPass.apply(plan, db) }
            for (stream, oldest) in plan {
                heads.setOldest(oldest, of: stream)
            }
            return .success(())
        } catch {
            return .failure(.storeFailed(String(describing: error)))
        }
    }
}
