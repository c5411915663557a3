import Foundation
import GRDB
import LatticeStreams
import NIOCore
import Synchronization
import Testing
@testable import LatticeStore

@Suite struct DurabilityTests {
    @Test func aCompletedAppendIsVisibleToAnotherConnection() async throws {
        try await withStore { store, directory in
            let other = try DatabaseQueue(path: databasePath(directory))
            defer { try? other.close() }
            for i in 1...5 {
                #expect(await append(store, "d", "{\"i\":\(i)}") == .success(UInt64(i)))
                // No waiting, no close: committed means readable from a fresh connection.
                let row = try await other.read { db in
                    try Row.fetchOne(db, sql: "SELECT CAST(data AS TEXT) AS data, (SELECT newest_offset FROM streams WHERE name = 'd') AS newest FROM stream_events WHERE stream = 'd' AND offset = ?", arguments: [i])
                        .map { ($0["data"] as String, $0["newest"] as Int) }
                }
                #expect(row?.0 == "{\"i\":\(i)}" && row?.1 == i)
            }
        }
    }

    @Test func aSecondStoreOnTheSameFileSeesCommittedEvents() async throws {
        try await withStore { store, directory in
            _ = await appendAll(store, numbered("d", 3))
            let second = try SQLiteStore.open(directory: directory)
            defer { second.close() }
            #expect(second.head(of: "d").newestOffset == 3 && second.head(of: "d").epoch == store.head(of: "d").epoch)
            #expect(try await second.read(stream: "d", after: 0, limit: 10).map(\.string) == ["1", "2", "3"])
        }
    }
}

@Suite struct DroppedStoreTests {
    @Test func aStoreDroppedWithoutCloseStillCommitsWhatWasQueued() async throws {
        try await withTemporaryDirectory { directory in
            let outcomes = Mutex<[Result<UInt64, DurableAppendError>]>([])
            do {
                let store = try SQLiteStore.open(directory: directory)
                for i in 1...50 {
                    store.append(stream: "s", data: ByteBuffer(string: "\(i)"), key: nil, attachment: nil) { result in
                        outcomes.withLock { $0.append(result) }
                    }
                }
            }
            let deadline = ContinuousClock.now + .seconds(5)
            while outcomes.withLock({ $0.count }) < 50 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(outcomes.withLock { $0 } == (1...50).map { .success(UInt64($0)) })
            let reopened = try SQLiteStore.open(directory: directory)
            defer { reopened.close() }
            #expect(reopened.head(of: "s").newestOffset == 50)
        }
    }
}
