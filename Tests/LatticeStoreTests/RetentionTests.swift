import Foundation
@testable import LatticeStore
import LatticeStreams
import Testing

@Suite struct RetentionTests {
    /// Retention only by an explicit `applyRetention()` (the periodic one is an hour away).
    static func options(_ retention: StreamRetention) -> SQLiteStoreOptions {
        SQLiteStoreOptions(retention: { $0.hasPrefix("trim") ? retention : .standard },
                           retentionCheckInterval: .seconds(3600))
    }

    @Test func retentionByCountTrimsAndMovesTheOldestOffset() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore.open(directory: directory,
                                             options: Self.options(StreamRetention(maxEvents: 5, maxAge: nil)))
            _ = await appendAll(store, numbered("trim", 12) + numbered("keep", 12))
            try await store.applyRetention()
            #expect(store.head(of: "trim").oldestOffset == 8 && store.head(of: "trim").newestOffset == 12)
            #expect(try await store.read(stream: "trim", after: 0, limit: 100).map(\.offset) == Array(8...12))
            #expect(store.head(of: "keep").oldestOffset == 1)
            #expect(try await store.read(stream: "keep", after: 0, limit: 100).count == 12)
            store.close()

            let reopened = try SQLiteStore.open(directory: directory)
            defer { reopened.close() }
            #expect(reopened.head(of: "trim").oldestOffset == 8)
        }
    }

    @Test func retentionByAgeNeverDeletesTheNewestEvent() async throws {
        try await withStore(Self.options(StreamRetention(maxEvents: nil, maxAge: .zero))) { store, _ in
            _ = await appendAll(store, numbered("trim", 4))
            try await Task.sleep(for: .milliseconds(5))
            try await store.applyRetention()
            #expect(store.head(of: "trim") .oldestOffset == 4)
            #expect(try await store.read(stream: "trim", after: 0, limit: 10).map(\.string) == ["4"])
        }
    }

    @Test func retentionByAgeKeepsYoungEvents() async throws {
        try await withStore(Self.options(StreamRetention(maxEvents: nil, maxAge: .seconds(3600)))) { store, _ in
            _ = await appendAll(store, numbered("trim", 4))
            try await store.applyRetention()
            #expect(store.head(of: "trim").oldestOffset == 1)
        }
    }

    @Test func zeroMaxEventsStillKeepsTheNewest() async throws {
        try await withStore(Self.options(StreamRetention(maxEvents: 0, maxAge: nil))) { store, _ in
            _ = await appendAll(store, numbered("trim", 3))
            try await store.applyRetention()
            #expect(store.head(of: "trim").oldestOffset == 3)
            #expect(await append(store, "trim", "4") == .success(4))
            #expect(try await store.read(stream: "trim", after: 0, limit: 10).map(\.offset) == [3, 4])
        }
    }

    @Test func theWriterAppliesRetentionPeriodically() async throws {
        let options = SQLiteStoreOptions(retention: { _ in StreamRetention(maxEvents: 2, maxAge: nil) },
                                         retentionCheckInterval: .milliseconds(20))
        try await withStore(options) { store, _ in
            _ = await appendAll(store, numbered("s", 10))
            let deadline = ContinuousClock.now + .seconds(5)
            while store.head(of: "s").oldestOffset != 9 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(store.head(of: "s").oldestOffset == 9)
        }
    }
}
