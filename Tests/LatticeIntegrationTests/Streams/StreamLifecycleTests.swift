import Foundation
import LatticeClient
import LatticeProtocol
import Testing

/// Streams leave memory when unused, and a channel changes class while in use
/// (docs/streams.md, "Loaded streams" and "Durable streams").
@Suite("streams: unloading idle streams and changing a channel's class while in use",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent"]))
struct StreamLifecycleTests {
    static func mark(_ server: TestServerProcess, _ channel: String, durable: Bool) throws {
        let admin = try #require(server.adminToken)
        let answer = try HTTPTestClient.request(port: server.port, "PUT", "/api/workspaces/demo/channels/\(channel)", token: admin,
                                                json: ["durable": durable])
        #expect(answer.status == 200, "\(answer)")
    }

    static func stats(_ server: TestServerProcess) throws -> (loaded: Int, durable: Int, sessions: Int) {
        let admin = try #require(server.adminToken)
        let answer = try HTTPTestClient.request(port: server.port, "GET", "/api/stats", token: admin)
        #expect(answer.status == 200, "\(answer)")
        let streams = answer.json["streams"] as? [String: Any]
        return (streams?["loaded"] as? Int ?? -1, streams?["durable"] as? Int ?? -1, answer.json["sessions"] as? Int ?? -1)
    }

    @Test("a channel made durable while subscribed: unsubscribed 'reconfigured', then stored; made ephemeral again: the same")
    func classChangeWhileSubscribed() async throws {
        let server = try TestServerProcess.require()
        let channel = "switch-\(UInt32.random(in: 0...UInt32.max))"
        let stream = "channel/demo/\(channel)"
        let client = try await StreamClient.connect(port: server.port, name: "switcher", role: "editor")
        #expect(try await client.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#).type == "ok")
        var epoch = ""
        for n in 1...3 {
            let ok = try await client.request(#"{"type":"publish","id":\#(n + 1),"stream":"\#(stream)","data":\#(n)}"#)
            epoch = ok.json["epoch"] as? String ?? ""
        }

        try Self.mark(server, channel, durable: true)
        let ended = try await client.next { $0.type == "unsubscribed" }
        #expect(ended.stream == stream)
        #expect(ended.code == "reconfigured", "\(ended.text)")
        // Subscribing again: a new epoch, said plainly; publishes are now stored.
        #expect(try await client.request(#"{"type":"subscribe","id":10,"stream":"\#(stream)","since":{"epoch":"\#(epoch)","offset":3}}"#).type == "ok")
        let recovered = try await client.next { $0.type == "recovered" }
        #expect(recovered.json["recovered"] as? Bool == false)
        #expect(recovered.json["epoch"] as? String != epoch)
        let stored = try await client.request(#"{"type":"publish","id":11,"stream":"\#(stream)","data":"kept"}"#)
        #expect(stored.type == "ok")
        let admin = try #require(server.adminToken)
        let history = try HTTPTestClient.request(port: server.port, "GET", "/api/streams/\(stream)/events?after=0", token: admin)
        #expect(history.status == 200, "\(history)")
        #expect((history.json["events"] as? [[String: Any]])?.compactMap { $0["data"] as? String } == ["kept"])

        try Self.mark(server, channel, durable: false)
        let again = try await client.next { $0.type == "unsubscribed" }
        #expect(again.code == "reconfigured")
        #expect(try HTTPTestClient.request(port: server.port, "GET", "/api/streams/\(stream)/events?after=0", token: admin).status == 404)
        // Marking a channel nobody uses changes nothing for anyone.
        #expect(try await client.request(#"{"type":"subscribe","id":20,"stream":"\#(stream)"}"#).type == "ok")
        try Self.mark(server, "unused-\(channel)", durable: true)
        #expect(try await client.request(#"{"type":"ping","id":21}"#).type == "ok")
        await client.close()
    }

    @Test("LatticeSession follows a class change by itself: .reset, then the new events")
    func sessionFollowsClassChange() async throws {
        let server = try TestServerProcess.require()
        let channel = "follow-\(UInt32.random(in: 0...UInt32.max))"
        let stream = "channel/demo/\(channel)"
        let session = try await ClientTestSupport.session(server, name: "follower")
        let (collector, task) = Collector.start(try await session.subscribe(stream))
        let publisher = try await StreamClient.connect(port: server.port, name: "follow-publisher", role: "editor")
        _ = try await publisher.request(#"{"type":"publish","id":1,"stream":"\#(stream)","data":"before"}"#)
        #expect(await collector.wait { $0.contains { if case .event(let e) = $0 { e.data.text == #""before""# } else { false } } })
        try Self.mark(server, channel, durable: true)
        #expect(await collector.wait { $0.contains { if case .reset = $0 { true } else { false } } })
        _ = try await publisher.request(#"{"type":"publish","id":2,"stream":"\#(stream)","data":"after"}"#)
        #expect(await collector.wait { $0.contains { if case .event(let e) = $0 { e.data.text == #""after""# } else { false } } })
        let items = await collector.items
        #expect(!items.contains { if case .failed = $0 { true } else { false } }, "\(items)")
        task.cancel()
        await session.close()
        await publisher.close()
    }

    @Test("a LatticeSession subscription the server ends for lost access finishes with .failed(forbidden)")
    func sessionSubscriptionEndsOnRemoval() async throws {
        let server = try TestServerProcess.require()
        let admin = try #require(server.adminToken)
        let session = try await ClientTestSupport.session(server, name: "to-be-removed")
        let user = try #require(await session.welcome?.identity.id)
        let subscription = try await session.subscribe("channel/demo/removal")
        let removed = try HTTPTestClient.request(port: server.port, "DELETE", "/api/workspaces/demo/members/\(user)", token: admin)
        #expect(removed.status == 200 || removed.status == 204, "\(removed)")
        let last = try await ClientTestSupport.within(20, "the subscription ending") { () -> SubscriptionEvent? in
            var last: SubscriptionEvent?
            for await item in subscription.events { last = item }
            return last
        }
        guard case .failed(.server(let code, _, let stream)) = last else {
            Issue.record("expected .failed(.server(forbidden)), got \(String(describing: last))")
            return
        }
        #expect(code == .forbidden)
        #expect(stream == "channel/demo/removal")
        await session.close()
    }

    @Test("an unused durable stream is unloaded after the idle timeout and continues where it was, nothing lost")
    func idleDurableStreamIsUnloaded() async throws {
        let server = try await TestServerProcess.launch(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0",
                                                         "--web-root", "/nonexistent", "--stream-idle-timeout", "0.5"])
        defer { server.terminate() }
        try Self.mark(server, "idle", durable: true)
        let stream = "channel/demo/idle"
        let client = try await StreamClient.connect(port: server.port, name: "idler", role: "editor")
        #expect(try await client.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#).type == "ok")
        var epoch = ""
        for n in 1...5 {
            let ok = try await client.request(#"{"type":"publish","id":\#(n + 1),"stream":"\#(stream)","data":\#(n)}"#)
            epoch = ok.json["epoch"] as? String ?? ""
        }
        #expect(try Self.stats(server).loaded == 1)
        #expect(try await client.request(#"{"type":"unsubscribe","id":9,"stream":"\#(stream)"}"#).type == "ok")
        var loaded = 1
        let deadline = Date().addingTimeInterval(20)
        while loaded != 0, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            loaded = try Self.stats(server).loaded
        }
        #expect(loaded == 0, "the stream stayed loaded")
        #expect(try Self.stats(server).sessions == 1)
        // Loaded again from the store: same epoch and offsets, the missed events replayed.
        #expect(try await client.request(#"{"type":"subscribe","id":10,"stream":"\#(stream)","since":{"epoch":"\#(epoch)","offset":2}}"#).type == "ok")
        let recovered = try await client.next { $0.type == "recovered" }
        #expect(recovered.json["recovered"] as? Bool == true, "\(recovered.text)")
        var offsets: [Int] = []
        while offsets.count < 3 { offsets.append(try await client.next { $0.type == "event" }.offset ?? 0) }
        #expect(offsets == [3, 4, 5])
        let next = try await client.request(#"{"type":"publish","id":11,"stream":"\#(stream)","data":6}"#)
        #expect(next.offset == 6 && next.json["epoch"] as? String == epoch)
        await client.close()
    }
}
