import LatticeProtocol
import LatticeStreams
import NIOCore
import Testing
@testable import LatticeServer

/// The reducer seam: `subscribe` with `snapshot: true` gets the reducer's state at offset N and
/// then exactly the events after N.
@Suite("Stream snapshots", .timeLimit(.minutes(1)))
struct StreamSnapshotTests {
    /// What a snapshot subscriber saw: the snapshot, then the live events after it.
    struct Seen {
        let snapshotOffset: Int
        let count: Int
        let sum: Int
        let liveOffsets: [Int]
        let liveSum: Int
    }

    static func seen(_ messages: [Received]) throws -> Seen {
        let types = messages.map(\.type)
        #expect(Array(types.prefix(3)) == ["ok", "snapshot", "presence"])
        let snapshot = try #require(messages.first { $0.type == "snapshot" })
        let ok = try #require(messages.first { $0.type == "ok" })
        #expect(ok.offset == snapshot.offset, "ok announces the offset live events continue after")
        let live = messages.filter { $0.type == "event" }
        return Seen(snapshotOffset: snapshot.offset ?? -1, count: snapshot.data["count"] as? Int ?? -1,
                    sum: snapshot.data["sum"] as? Int ?? -1, liveOffsets: live.map { $0.offset ?? 0 },
                    liveSum: live.reduce(0) { $0 + ($1.data["n"] as? Int ?? 0) })
    }

    @Test("subscribing with a snapshot while writers keep writing: no gap, no duplicate", arguments: [false, true])
    func snapshotWhileWriting(durable: Bool) async throws {
        let fixture = try await HubFixture.make(durable: durable, reducers: [.doc: SumReducer()])
        let name = testStream("doc/d_1")
        let hub = fixture.hub
        let writers = 3, perWriter = 200
        let total = writers * perWriter
        let expectedSum = (1...total).reduce(0, +)
        let writing = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for i in 0..<perWriter {
                            _ = try await hub.append(name, data: testJSON("{\"n\":\(writer * perWriter + i + 1)}"))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // Subscribers join at different moments of the writing, on both loops.
        var subscribers: [RecordingSubscriber] = []
        for index in 0..<6 {
            let subscriber = try await fixture.subscriber(on: index % 2)
            subscriber.subscribe(name, snapshot: true)
            subscribers.append(subscriber)
            #expect(await subscriber.waitUntil { $0.contains { $0.type == "presence" } })
        }
        try await writing.value
        for subscriber in subscribers {
            let seen = try Self.seen(subscriber.messages)
            let missing = total - seen.snapshotOffset
            #expect(await subscriber.waitUntil { $0.filter { $0.type == "event" }.count >= missing })
            let final = try Self.seen(subscriber.messages)
            #expect(final.count == final.snapshotOffset, "the snapshot holds exactly the events up to its offset")
            #expect(final.liveOffsets == Array(stride(from: final.snapshotOffset + 1, through: total, by: 1)))
            #expect(final.sum + final.liveSum == expectedSum)
        }
        await fixture.close()
    }

    @Test("a durable stream's state is rebuilt from the store when it is loaded")
    func hydratesFromStore() async throws {
        let fixture = try await HubFixture.make(durable: true, reducers: [.doc: SumReducer()])
        let store = try #require(fixture.store)
        let name = testStream("doc/d_2")
        // Events stored before this hub loaded the stream (an earlier run of the server).
        for n in 1...700 {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                store.append(stream: name.name, data: ByteBuffer(string: "{\"n\":\(n)}"), key: nil, attachment: nil) { _ in done.resume() }
            }
        }
        let subscriber = try await fixture.subscriber(on: 1)
        subscriber.subscribe(name, snapshot: true)
        #expect(await subscriber.waitUntil { $0.contains { $0.type == "presence" } })
        let seen = try Self.seen(subscriber.messages)
        #expect(seen.snapshotOffset == 700)
        #expect(seen.count == 700)
        #expect(seen.sum == (1...700).reduce(0, +))
        _ = try await fixture.hub.append(name, data: testJSON("{\"n\":1000}"))
        #expect(await subscriber.waitUntil { $0.contains { $0.type == "event" } })
        #expect(try Self.seen(subscriber.messages).liveOffsets == [701])
        await fixture.close()
    }

    @Test("when retention removed the first events, a snapshot subscribe is refused plainly and a plain one still works")
    func refusedWhenHistoryTrimmed() async throws {
        let fixture = try await HubFixture.make(durable: true, reducers: [.doc: SumReducer()])
        let store = try #require(fixture.store)
        let name = testStream("doc/d_3")
        for n in 1...5 {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                store.append(stream: name.name, data: ByteBuffer(string: "{\"n\":\(n)}"), key: nil, attachment: nil) { _ in done.resume() }
            }
        }
        store.trim(name.name, through: 2)
        let subscriber = try await fixture.subscriber(on: 0)
        subscriber.subscribe(name, snapshot: true)
        #expect(await subscriber.waitUntil { $0.contains { $0.type == "error" } })
        let error = try #require(subscriber.messages.first)
        #expect(error.type == "error")
        #expect(error.code == "internal")
        #expect((error.object["message"] as? String)?.contains("no longer stored") == true)
        let plain = try await fixture.subscriber(on: 1)
        plain.subscribe(name)
        #expect(await plain.waitUntil { $0.contains { $0.type == "presence" } })
        #expect(plain.messages.first?.type == "ok")
        await fixture.close()
    }

    @Test("a stream kind without a reducer answers a snapshot subscribe as a plain one")
    func noReducer() async throws {
        let fixture = try await HubFixture.make(reducers: [.doc: SumReducer()])
        let name = testStream("channel/demo/x")
        _ = try await fixture.hub.append(name, data: testJSON("{\"n\":1}"))
        let subscriber = try await fixture.subscriber(on: 0)
        subscriber.subscribe(name, snapshot: true)
        #expect(await subscriber.waitUntil { $0.contains { $0.type == "presence" } })
        #expect(subscriber.messages.map(\.type) == ["ok", "presence"])
        await fixture.close()
    }
}
