import LatticeProtocol
import LatticeStreams
import NIOCore
import Testing
@testable import LatticeServer

/// `StreamHub.append`: the server publishing on its own, through the same path as a session.
@Suite("StreamHub.append", .timeLimit(.minutes(1)))
struct StreamHubAppendTests {
    @Test("a server append reaches subscribers on every loop, in order, with the positions it returned")
    func fanOutInOrder() async throws {
        let fixture = try await HubFixture.make()
        let name = testStream("channel/demo/general")
        let near = try await fixture.subscriber(on: fixture.hub.homeIndex(of: name))
        let far = try await fixture.subscriber(on: 1 - fixture.hub.homeIndex(of: name))
        for subscriber in [near, far] {
            subscriber.subscribe(name)
            #expect(await subscriber.waitUntil { $0.contains { $0.type == "presence" } })
        }
        var positions: [StreamPosition] = []
        for n in 1...50 { positions.append(try await fixture.hub.append(name, data: testJSON("{\"n\":\(n)}"))) }
        #expect(positions.map(\.offset) == Array(1...50))
        #expect(Set(positions.map(\.epoch)).count == 1)
        for subscriber in [near, far] {
            #expect(await subscriber.waitUntil { $0.filter { $0.type == "event" }.count == 50 })
            let events = subscriber.messages.filter { $0.type == "event" }
            #expect(events.map { $0.offset ?? 0 } == Array(1...50))
            #expect(events.map { $0.data["n"] as? Int ?? 0 } == Array(1...50))
            #expect(events.allSatisfy { ($0.object["epoch"] as? String) == positions[0].epoch.rawValue })
        }
        await fixture.close()
    }

    @Test("a server append carries its key, and is not limited to channels")
    func keyedAppendToRunStream() async throws {
        let fixture = try await HubFixture.make()
        let name = testStream("run/r_1")
        let watcher = try await fixture.subscriber(on: 0)
        watcher.subscribe(name)
        #expect(await watcher.waitUntil { $0.contains { $0.type == "presence" } })
        let position = try await fixture.hub.append(name, data: testJSON("{\"node\":\"a\"}"), key: "node:a")
        #expect(position.offset == 1)
        #expect(await watcher.waitUntil { $0.contains { $0.type == "event" } })
        let event = try #require(watcher.messages.first { $0.type == "event" })
        #expect(event.object["key"] as? String == "node:a")
        #expect(event.stream == "run/r_1")
        await fixture.close()
    }

    @Test("an append with an OutboxRelay attachment hands its seq to the store's commit; on an ephemeral stream an attachment is refused, unpublished")
    func relayingAppend() async throws {
        let fixture = try await HubFixture.make(durable: true)
        let store = try #require(fixture.store)
        let position = try await fixture.hub.append(testStream("workspace/demo"), data: testJSON("{\"type\":\"x\"}"), attachment: OutboxRelay(seq: 7))
        #expect(position.offset == 1)
        #expect(store.relayed == [7])
        let channel = testStream("channel/demo/plain")
        await #expect(throws: StreamAppendError.self) {
            _ = try await fixture.hub.append(channel, data: testJSON("{}"), attachment: OutboxRelay(seq: 8))
        }
        #expect(store.relayed == [7])
        await fixture.close()
    }

    @Test("on a durable stream append returns only after the commit, and nothing is fanned out before it")
    func durableAppendWaitsForCommit() async throws {
        let fixture = try await HubFixture.make(durable: true)
        let store = try #require(fixture.store)
        let name = testStream("run/r_2")
        let watcher = try await fixture.subscriber(on: 1)
        watcher.subscribe(name)
        #expect(await watcher.waitUntil { $0.contains { $0.type == "presence" } })
        store.hold()
        let hub = fixture.hub
        let append = Task { try await hub.append(name, data: testJSON("{\"n\":1}")) }
        #expect(await waitFor { store.heldCount == 1 })
        // Held in the store: a round trip through the home loop shows no event yet.
        let probe = try await fixture.subscriber(on: 0)
        probe.subscribe(name)
        #expect(await probe.waitUntil { $0.contains { $0.type == "presence" } })
        #expect(!watcher.messages.contains { $0.type == "event" })
        #expect(store.events(of: name.name).isEmpty)
        store.release()
        let position = try await append.value
        #expect(position.offset == 1)
        #expect(store.events(of: name.name).map(\.offset) == [1])
        #expect(await watcher.waitUntil { $0.contains { $0.type == "event" } })
        await fixture.close()
    }

    @Test("a failed commit throws notStored, publishes nothing, and leaves no hole in the offsets")
    func failedCommit() async throws {
        let fixture = try await HubFixture.make(durable: true)
        let store = try #require(fixture.store)
        let name = testStream("run/r_3")
        let watcher = try await fixture.subscriber(on: 0)
        watcher.subscribe(name)
        #expect(await watcher.waitUntil { $0.contains { $0.type == "presence" } })
        store.failAppends("disk full")
        await #expect(throws: StreamAppendError.notStored("disk full")) {
            try await fixture.hub.append(name, data: testJSON("{\"n\":1}"))
        }
        store.failAppends(nil)
        let position = try await fixture.hub.append(name, data: testJSON("{\"n\":2}"))
        #expect(position.offset == 1)
        #expect(await watcher.waitUntil { $0.contains { $0.type == "event" } })
        let events = watcher.messages.filter { $0.type == "event" }
        #expect(events.count == 1)
        #expect(events.first?.data["n"] as? Int == 2)
        await fixture.close()
    }
}

/// Waits (polling, at most `seconds`) until `condition` holds.
func waitFor(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return condition()
}
