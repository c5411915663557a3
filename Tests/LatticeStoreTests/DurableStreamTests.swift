import Foundation
import GRDB
import LatticeProtocol
import LatticeStreams
import NIOCore
import Synchronization
import Testing
@testable import LatticeStore

@Suite struct DurableStreamTests {
    @Test func offsetsAreContiguousPerStreamAndCompletionsInOrder() async throws {
        try await withStore { store, _ in
            let events = (1...100).map { i in (stream: i % 3 == 0 ? "a" : "b", data: "\(i)") }
            let outcomes = await appendAll(store, events)
            for stream in ["a", "b"] {
                let offsets = outcomes.filter { $0.stream == stream }.map { try? $0.result.get() }
                let expected = events.filter { $0.stream == stream }.count
                #expect(offsets == (1...expected).map { UInt64($0) })
                // Completion order is queue order: the n-th event of a stream got offset n.
                let data = outcomes.filter { $0.stream == stream }.map(\.data)
                #expect(data == events.filter { $0.stream == stream }.map(\.data))
            }
            #expect(store.head(of: "a").newestOffset == 33 && store.head(of: "b").newestOffset == 67)
        }
    }

    @Test func concurrentAppendsAreGroupedIntoFewTransactions() async throws {
        try await withStore { store, _ in
            let outcomes = await concurrentAppends(store, threads: 4, perThread: 500)
            #expect(outcomes.count == 2000)
            for stream in ["s0", "s1"] {
                let offsets = outcomes.filter { $0.stream == stream }.compactMap { try? $0.result.get() }
                #expect(offsets == (1...1000).map { UInt64($0) })
            }
            let stats = store.writerStats
            #expect(stats.events == 2000)
            #expect(stats.transactions * 10 <= stats.events, "\(stats)")
            #expect(stats.largestBatch > 1 && stats.largestBatch <= 1024)
        }
    }

    @Test func withoutGroupCommitEveryAppendIsOneTransaction() async throws {
        try await withStore(SQLiteStoreOptions(groupCommit: false, synchronous: .normal)) { store, _ in
            let outcomes = await concurrentAppends(store, threads: 4, perThread: 100)
            #expect(outcomes.allSatisfy { (try? $0.result.get()) != nil })
            let stats = store.writerStats
            #expect(stats.events == 400 && stats.transactions == 400 && stats.largestBatch == 1)
        }
    }

    @Test func batchesRespectTheByteLimit() async throws {
        try await withStore(SQLiteStoreOptions(maxBatchBytes: 100)) { store, _ in
            let big = String(repeating: "x", count: 60)
            _ = await appendAll(store, (1...20).map { _ in (stream: "s", data: "\"\(big)\"") })
            #expect(store.writerStats.largestBatch == 1)
        }
    }

    @Test func headsAndEventsSurviveReopening() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore.open(directory: directory)
            _ = await appendAll(store, numbered("kept", 3))
            #expect(await append(store, "kept", "4", key: "k4") == .success(4))
            let head = store.head(of: "kept")
            let unwritten = store.head(of: "never-written")
            #expect(store.head(of: "never-written") == unwritten, "the in-memory epoch is stable")
            store.close()

            let reopened = try SQLiteStore.open(directory: directory)
            defer { reopened.close() }
            #expect(reopened.head(of: "kept") == DurableStreamHead(epoch: head.epoch, newestOffset: 4, oldestOffset: 1))
            let events = try await reopened.read(stream: "kept", after: 0, limit: 100)
            #expect(events.map(\.offset) == [1, 2, 3, 4])
            #expect(events.map(\.string) == ["1", "2", "3", "4"])
            #expect(events.map(\.key) == [nil, nil, nil, "k4"])
            let fresh = reopened.head(of: "never-written")
            #expect(fresh.epoch != unwritten.epoch && fresh.newestOffset == 0 && fresh.oldestOffset == 1)
            #expect(await append(reopened, "kept", "5") == .success(5))
        }
    }

    @Test func readPagesInOffsetOrder() async throws {
        try await withStore { store, _ in
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            _ = await appendAll(store, numbered("p", 25) + numbered("other", 5))
            let committed = Int64(Date().timeIntervalSince1970 * 1000)
            var pages: [[UInt64]] = []
            var after: UInt64 = 0
            while true {
                let page = try await store.read(stream: "p", after: after, limit: 10)
                guard let last = page.last else { break }
                pages.append(page.map(\.offset))
                after = last.offset
            }
            #expect(pages == [Array(1...10), Array(11...20), Array(21...25)])
            #expect(try await store.read(stream: "p", after: 3, limit: 2).map(\.string) == ["4", "5"])
            #expect(try await store.read(stream: "unknown", after: 0, limit: 10).isEmpty)
            #expect(try await store.read(stream: "p", after: 0, limit: 0).isEmpty)
            // Stamped with the commit's time: between the calls before and after it, however slow the machine.
            let first = try #require(try await store.read(stream: "p", after: 0, limit: 1).first)
            #expect((before...committed).contains(first.timeMillis), "\(first.timeMillis) not in \(before)...\(committed)")
        }
    }

    @Test func appendsAfterCloseFailAndCloseFlushesQueuedAppends() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore.open(directory: directory)
            let outcomes = Mutex<[Result<UInt64, DurableAppendError>]>([])
            for i in 1...200 {
                store.append(stream: "s", data: ByteBuffer(string: "\(i)"), key: nil, attachment: nil) { result in
                    outcomes.withLock { $0.append(result) }
                }
            }
            store.close()
            // Every append queued before close() was committed, and its completion called.
            #expect(outcomes.withLock { $0 } == (1...200).map { .success(UInt64($0)) })
            let late = await append(store, "s", "late")
            guard case .failure(.storeFailed) = late else {
                Issue.record("append after close: \(late)")
                return
            }
            store.close()
        }
    }

    @Test func aFailedTransactionAdvancesNothingAndReloadsHeads() async throws {
        try await withStore { store, directory in
            let epoch = store.head(of: "x").epoch
            // Another connection takes offset 1 of "x" behind the store's back: the store's next
            // transaction (which assigns offset 1) fails on the primary key.
            let other = try DatabaseQueue(path: databasePath(directory))
            try await other.write { db in
                try db.execute(sql: """
                    INSERT INTO streams VALUES ('x', 'feedfeedfeedfeed', 1, 1);
                    INSERT INTO stream_events VALUES ('x', 1, CAST('0' AS BLOB), NULL, 0);
                    """)
            }
            try other.close()
            let failed = await append(store, "x", "1")
            guard case .failure(.storeFailed) = failed else {
                Issue.record("expected a failure, got \(failed)")
                return
            }
            #expect(store.writerStats.failedTransactions == 1)
            // The failed append left no event; the head was reloaded from the database.
            #expect(store.head(of: "x") == DurableStreamHead(epoch: StreamEpoch("feedfeedfeedfeed"),
                                                             newestOffset: 1, oldestOffset: 1))
            #expect(epoch != StreamEpoch("feedfeedfeedfeed"))
            #expect(try await store.read(stream: "x", after: 0, limit: 10).map(\.string) == ["0"])
            #expect(await append(store, "x", "2") == .success(2))
        }
    }

    @Test func synchronousPragmaIsApplied() async throws {
        for (setting, value) in [(SQLiteSynchronous.full, 2), (.normal, 1)] {
            try await withStore(SQLiteStoreOptions(synchronous: setting)) { store, _ in
                let actual = try store.pool.writeWithoutTransaction { db in
                    try Int.fetchOne(db, sql: "PRAGMA synchronous")
                }
                #expect(actual == value)
                let journal = try store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
                #expect(journal == "wal")
            }
        }
    }
}

/// `threads` threads each append `perThread` events, alternating streams `s0` and `s1`.
func concurrentAppends(_ store: SQLiteStore, threads: Int, perThread: Int) async -> [AppendOutcome] {
    let total = threads * perThread
    return await withCheckedContinuation { continuation in
        let outcomes = Mutex<[AppendOutcome]>([])
        DispatchQueue.global().async {
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                for i in 0..<perThread {
                    let stream = "s\((thread * perThread + i) % 2)"
                    store.append(stream: stream, data: ByteBuffer(string: "\(thread)-\(i)"), key: nil, attachment: nil) { result in
                        let all = outcomes.withLock { outcomes in
                            outcomes.append(AppendOutcome(stream: stream, data: "\(thread)-\(i)", result: result))
                            return outcomes.count == total ? outcomes : nil
                        }
                        if let all { continuation.resume(returning: all) }
                    }
                }
            }
        }
    }
}
