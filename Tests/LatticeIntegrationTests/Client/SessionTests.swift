import Foundation
import Synchronization
import LatticeClient
import LatticeProtocol
import Testing

/// Helpers for the client tests.
enum ClientTestSupport {
    static let serveArguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0"]

    static func url(_ server: TestServerProcess) throws -> WebSocketURL {
        try #require(WebSocketURL("ws://127.0.0.1:\(server.port)/ws"))
    }

    static func session(_ server: TestServerProcess, name: String = "tester",
                        reconnect: ReconnectPolicy? = ReconnectPolicy(baseDelay: .milliseconds(20), maxDelay: .milliseconds(300)))
        async throws -> LatticeSession {
        let session = LatticeSession(url: try url(server),
                                     options: LatticeSessionOptions(token: try await server.token(for: name), requestTimeout: .seconds(5),
                                                                    reconnect: reconnect))
        try await session.connect()
        return session
    }

    /// A fresh channel name per test.
    static func channel(_ label: String) -> String {
        "channel/demo/\(label)-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Runs `body` with a deadline; fails the test if it has not finished in time.
    static func within<T: Sendable>(_ seconds: Double, _ what: String,
                                    _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            return try #require(first, "timed out after \(seconds) s: \(what)")
        }
    }
}

/// Collects a subscription's items in a task, for checks at the end.
actor Collector {
    var items: [SubscriptionEvent] = []
    func add(_ item: SubscriptionEvent) { items.append(item) }
    var offsets: [UInt64] {
        items.compactMap { if case .event(let e) = $0 { e.offset } else { nil } }
    }
    var lastOffset: UInt64? { offsets.last }

    static func start(_ subscription: LatticeSubscription) -> (Collector, Task<Void, Never>) {
        let collector = Collector()
        let task = Task {
            for await item in subscription.events { await collector.add(item) }
        }
        return (collector, task)
    }

    /// Waits until `predicate` holds for the items.
    func wait(upTo seconds: Double = 30, _ predicate: @Sendable ([SubscriptionEvent]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if predicate(items) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return predicate(items)
    }
}

@Suite("Client: LatticeSession against lattice serve", .latticeServer(ClientTestSupport.serveArguments))
struct SessionTests {
    @Test("requests are correlated to their ok or error, also when many are in flight")
    func correlation() async throws {
        let server = try TestServerProcess.require()
        let session = try await ClientTestSupport.session(server)
        try await session.ping()
        let welcome = try #require(await session.welcome)
        #expect(welcome.protocolName == "lattice.v1")

        await #expect(throws: LatticeClientError.self) { try await session.publish("run/r1", data: "{}") }
        do {
            try await session.publish("run/r1", data: "{}")
        } catch let error as LatticeClientError {
            #expect(error.code == .notPublishable)
        }
        do {
            _ = try await session.subscribe("channel/acme")
            Issue.record("invalid stream accepted")
        } catch let error as LatticeClientError {
            #expect(error.code == .invalidStream)
        }

        // Interleaved successes and failures, all in flight together.
        let channel = ClientTestSupport.channel("corr")
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<40 {
                group.addTask {
                    switch i % 3 {
                    case 0:
                        try await session.ping()
                        return (i, "ping")
                    case 1:
                        let p = try await session.publish(channel, data: "{\"i\":\(i)}")
                        return (i, p.offset > 0 ? "published" : "bad")
                    default:
                        do {
                            try await session.publish("doc/d\(i)", data: "1")
                            return (i, "unexpected ok")
                        } catch let e as LatticeClientError {
                            return (i, e.code?.rawValue ?? "no code")
                        }
                    }
                }
            }
            for try await (i, outcome) in group {
                #expect(outcome == ["ping", "published", "not_publishable"][i % 3], "request \(i)")
            }
        }
        await session.close()
    }

    @Test("subscribe, publish: events arrive in order with data verbatim; presence is kept")
    func roundTrip() async throws {
        let server = try TestServerProcess.require()
        let channel = ClientTestSupport.channel("rt")
        let consumer = try await ClientTestSupport.session(server, name: "consumer")
        let producer = try await ClientTestSupport.session(server, name: "producer")
        let sub = try await consumer.subscribe(channel)
        let start = try #require(sub.start)
        let (collector, task) = Collector.start(sub)

        let datas = [#"{"text":"hi"}"#, #"{ "spaced" : [1, 2] }"#, "42", #""caf\u00e9""#, "null"]
        var offsets: [UInt64] = []
        for d in datas { offsets.append(try await producer.publish(channel, data: d).offset) }
        #expect(offsets == Array(start.offset + 1...start.offset + UInt64(datas.count)))
        #expect(await collector.wait { items in items.filter { if case .event = $0 { true } else { false } }.count == datas.count })
        let events = await collector.items.compactMap { if case .event(let e) = $0 { e } else { nil } }
        #expect(events.map(\.data.text) == datas)
        #expect(events.map(\.offset) == offsets)

        try await consumer.setPresence(channel, state: #"{"status":"reading"}"#)
        let welcome = try #require(await consumer.welcome)
        let deadline = ContinuousClock.now + .seconds(20)
        var metas: [ServerMessage.Meta] = []
        while ContinuousClock.now < deadline {
            metas = await consumer.presence(of: channel).flatMap(\.metas)
            if metas.contains(where: { $0.conn == welcome.session && $0.state.text.contains("reading") }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(metas.contains(where: { $0.conn == welcome.session && $0.state.text.contains("reading") }), "presence: \(metas)")

        try await consumer.unsubscribe(channel)
        await task.value  // the events stream finishes on unsubscribe
        await consumer.close()
        await producer.close()
    }

    @Test("connections dropped while the session is still reconnecting: it ends up connected and subscribed")
    func dropsDuringReconnect() async throws {
        let server = try TestServerProcess.require()
        let channel = ClientTestSupport.channel("churn")
        let consumer = try await ClientTestSupport.session(server, name: "churner")
        let sub = try await consumer.subscribe(channel)
        let (collector, task) = Collector.start(sub)
        // Drop each new connection the moment it is greeted — while the session is resubscribing.
        let drops = Task {
            var dropped = 0
            for await status in consumer.statusUpdates {
                guard case .connected = status else { continue }
                await consumer.dropConnection()
                dropped += 1
                if dropped == 5 { return }
            }
        }
        await consumer.dropConnection()
        await drops.value
        let deadline = ContinuousClock.now + .seconds(15)
        while !(await consumer.isConnected), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await consumer.isConnected, "the session gave up reconnecting")
        let producer = try await ClientTestSupport.session(server, name: "producer", reconnect: nil)
        let p = try await producer.publish(channel, data: "1")
        #expect(await collector.wait(upTo: 30) { items in
            items.contains { if case .event(let e) = $0 { e.position == p } else { false } }
        }, "the resubscribed session gets live events")
        await consumer.close()
        await producer.close()
        await task.value
    }

    @Test("dropped connections resume gapless: every offset exactly once while a publisher keeps going")
    func gaplessResume() async throws {
        let server = try TestServerProcess.require()
        let channel = ClientTestSupport.channel("resume")
        let consumer = try await ClientTestSupport.session(server, name: "consumer")
        let producer = try await ClientTestSupport.session(server, name: "producer")
        let sub = try await consumer.subscribe(channel)
        let start = try #require(sub.start).offset
        let (collector, task) = Collector.start(sub)
        let statuses = StatusLog()
        let statusTask = Task { for await status in consumer.statusUpdates { statuses.append("\(status)") } }
        defer { statusTask.cancel() }

        let total = 300
        let publishing = Task {
            var last: UInt64 = 0
            for i in 0..<total {
                last = try await producer.publish(channel, data: "{\"i\":\(i)}").offset
                if i % 10 == 0 { try await Task.sleep(for: .milliseconds(2)) }
            }
            return last
        }
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(60))
            await consumer.dropConnection()
        }
        let last = try await publishing.value
        #expect(last == start + UInt64(total))
        #expect(await collector.wait(upTo: 30) { items in
            items.contains { if case .event(let e) = $0 { e.offset == last } else { false } }
        }, "the consumer reached the last offset; statuses: \(statuses.value) server stderr: \(server.standardError)")
        let offsets = await collector.offsets
        #expect(offsets == Array(start + 1...last), "every offset once, in order")
        let items = await collector.items
        #expect(!items.contains { if case .reset = $0 { true } else { false } }, "no reset on a gapless resume")
        #expect(items.contains { if case .resumed = $0 { true } else { false } }, "a resume happened")
        await consumer.close()
        await producer.close()
        await task.value
    }
}

@Suite("Client: reconnect across a server restart")
struct RestartTests {
    @Test("a restarted server lost the history: the subscription gets .reset, then live events")
    func restartResets() async throws {
        // One data directory for both runs (tokens survive; the channel's memory history does not).
        let dataDir = NSTemporaryDirectory() + "lattice-restart-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let first = try await TestServerProcess.launch(ClientTestSupport.serveArguments + ["--data-dir", dataDir])
        let port = first.port
        let url = try ClientTestSupport.url(first)
        let channel = ClientTestSupport.channel("restart")
        let consumer = LatticeSession(url: url, options: LatticeSessionOptions(
            token: try await first.token(for: "consumer"), requestTimeout: .seconds(5),
            reconnect: ReconnectPolicy(baseDelay: .milliseconds(50), maxDelay: .milliseconds(400))))
        try await consumer.connect()
        let sub = try await consumer.subscribe(channel)
        let (collector, task) = Collector.start(sub)
        let producer = try await ClientTestSupport.session(first, reconnect: nil)
        for i in 0..<3 { try await producer.publish(channel, data: "\(i)") }
        #expect(await collector.wait { items in items.filter { if case .event = $0 { true } else { false } }.count == 3 })
        await producer.close()
        first.terminate()

        var args = ClientTestSupport.serveArguments + ["--data-dir", dataDir]
        args[args.firstIndex(of: "0")!] = String(port)
        let second = try await TestServerProcess.launch(args)
        defer { second.terminate() }
        #expect(await collector.wait(upTo: 30) { items in items.contains { if case .reset = $0 { true } else { false } } },
                "the consumer reported the lost history")
        let producer2 = try await ClientTestSupport.session(second, reconnect: nil)
        let p = try await producer2.publish(channel, data: #"{"after":"restart"}"#)
        #expect(await collector.wait { items in
            items.contains { if case .event(let e) = $0 { e.position == p } else { false } }
        }, "live events after the reset arrive")
        let items = await collector.items
        let resetIndex = try #require(items.firstIndex { if case .reset = $0 { true } else { false } })
        if case .reset(let position) = items[resetIndex] {
            #expect(position.offset < p.offset)
        }
        await producer2.close()
        await consumer.close()
        await task.value
    }
}

/// Status updates of a session, for failure messages.
final class StatusLog: Sendable {
    private let items = Mutex<[String]>([])
    func append(_ item: String) { items.withLock { $0.append(item) } }
    var value: [String] { items.withLock { $0 } }
}
