import Foundation
import Testing

/// Applies `presence` and `presence.diff` messages: member name → its metas' states by conn.
struct PresenceModel {
    var members: [String: (kind: String, metas: [String: String])] = [:]

    mutating func apply(_ message: LatticeMessage) {
        func decode(_ value: Any?) -> [(String, String, [String: String])] {
            (value as? [[String: Any]] ?? []).map { member in
                var metas: [String: String] = [:]
                for meta in member["metas"] as? [[String: Any]] ?? [] {
                    let state = (try? JSONSerialization.data(withJSONObject: meta["state"] ?? [:], options: [.sortedKeys]))
                        .map { String(decoding: $0, as: UTF8.self) } ?? ""
                    metas[meta["conn"] as? String ?? ""] = state
                }
                return (member["name"] as? String ?? "", member["kind"] as? String ?? "", metas)
            }
        }
        switch message.type {
        case "presence":
            members = [:]
            for (name, kind, metas) in decode(message.json["members"]) { members[name] = (kind, metas) }
        case "presence.diff":
            for (name, kind, metas) in decode(message.json["joins"]) + decode(message.json["updates"]) { members[name] = (kind, metas) }
            for (name, _, _) in decode(message.json["leaves"]) { members.removeValue(forKey: name) }
        default:
            break
        }
    }
}

@Suite("streams: presence", .timeLimit(.minutes(5)))
struct PresenceTests {
    /// Reads presence messages of `client` into `model` until `done` holds.
    static func await(_ client: StreamClient, _ model: inout PresenceModel, timeout: Double = 30,
                      until done: (PresenceModel) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !done(model) {
            let message = try await client.next(timeout: max(0.01, deadline.timeIntervalSinceNow)) { $0.type.hasPrefix("presence") }
            model.apply(message)
        }
    }

    @Test("join, update and leave diffs across clients; one member with several metas; bots keep their kind")
    func joinUpdateLeave() async throws {
        let server = try await TestServerProcess.launch(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent"])
        defer { server.terminate() }
        let stream = "channel/demo/d_7"
        let ada = try await StreamClient.connect(port: server.port, name: "Ada")
        #expect(try await ada.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#).type == "ok")
        var view = PresenceModel()
        #expect(view.members.isEmpty)
        // Sent without waiting for the ok: the join diff may arrive before it (docs/protocol.md).
        try await ada.send(#"{"type":"presence.set","id":2,"stream":"\#(stream)","state":{}}"#)
        try await Self.await(ada, &view) { $0.members["Ada"]?.metas == [ada.session: "{}"] }

        let bob1 = try await StreamClient.connect(port: server.port, name: "Bob")
        let bob2 = try await StreamClient.connect(port: server.port, name: "Bob")
        let bot = try await StreamClient.connect(port: server.port, name: "Indexer", kind: "bot")
        for client in [bob1, bob2, bot] {
            #expect(try await client.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#).type == "ok")
            try await client.send(#"{"type":"presence.set","id":2,"stream":"\#(stream)","state":{}}"#)
        }
        try await Self.await(ada, &view) { $0.members["Bob"]?.metas.count == 2 && $0.members["Indexer"] != nil }
        #expect(view.members["Indexer"]?.kind == "bot")
        #expect(view.members["Bob"]?.kind == "user")

        try await bob1.send(#"{"type":"presence.set","id":9,"stream":"\#(stream)","state":{"status":"editing"}}"#)
        let set = try await bob1.next { $0.type == "ok" && $0.text.contains(#""id":9"#) }
        #expect(set.text == #"{"type":"ok","id":9}"#)
        try await Self.await(ada, &view) { $0.members["Bob"]?.metas[bob1.session] == #"{"status":"editing"}"# }
        #expect(view.members["Bob"]?.metas[bob2.session] == "{}")

        // A late subscriber gets the full state (then diffs compose with it).
        var lateView = PresenceModel()
        let late = try await StreamClient.connect(port: server.port, name: "Late")
        #expect(try await late.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#).type == "ok")
        try await late.send(#"{"type":"presence.set","id":2,"stream":"\#(stream)","state":{}}"#)
        try await Self.await(late, &lateView) { $0.members["Bob"]?.metas[bob1.session] == #"{"status":"editing"}"# && $0.members["Late"] != nil }

        await bob1.close()
        try await Self.await(ada, &view) { $0.members["Bob"]?.metas.keys.sorted() == [bob2.session] }
        await bob2.kill()
        try await Self.await(ada, &view) { $0.members["Bob"] == nil }
        _ = try await bot.request(#"{"type":"unsubscribe","id":2,"stream":"\#(stream)"}"#)
        try await Self.await(ada, &view) { $0.members["Indexer"] == nil }
        try await Self.await(late, &lateView) { $0.members.keys.sorted() == ["Ada", "Late"] }
        #expect(view.members.keys.sorted() == ["Ada", "Late"])
        for client in [ada, bot, late] { await client.close() }
    }

    // The waits below return as soon as the leave arrives; their limits are generous because the
    // whole suite runs in parallel on small CI machines, where a process can stall for seconds.
    @Test("no ghost: a peer that goes silent without a close frame is dropped by the keepalive and leaves")
    func noGhost() async throws {
        let server = try await TestServerProcess.launch(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "1", "--web-root", "/nonexistent"])
        defer { server.terminate() }
        let stream = "channel/demo/ghosts"
        let watcher = try await StreamClient.connect(port: server.port, name: "watcher")
        #expect(try await watcher.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#).type == "ok")
        var view = PresenceModel()
        // A raw socket that subscribes, then never reads or answers pings again. Without the
        // keepalive it would stay a member for ever: the socket stays open.
        let silent = try await RawWebSocket.lattice(port: server.port, name: "silent")
        try silent.sendText(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#)
        try silent.sendText(#"{"type":"presence.set","id":2,"stream":"\#(stream)","state":{}}"#)
        try await Self.await(watcher, &view) { $0.members["silent"] != nil }
        try await Self.await(watcher, &view, timeout: 30) { $0.members["silent"] == nil }
        withExtendedLifetime(silent) {}
        await watcher.close()
    }

    @Test("no ghost: a socket closed without a close frame leaves at once, with no keepalive running")
    func droppedSocketLeaves() async throws {
        // --ping-interval 0: no keepalive, so only the end of the TCP connection can remove the member.
        let server = try await TestServerProcess.launch(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent"])
        defer { server.terminate() }
        let stream = "channel/demo/dropped"
        let watcher = try await StreamClient.connect(port: server.port, name: "watcher")
        #expect(try await watcher.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#).type == "ok")
        var view = PresenceModel()
        var dropped: RawWebSocket? = try await RawWebSocket.lattice(port: server.port, name: "dropped")
        try dropped?.sendText(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#)
        try dropped?.sendText(#"{"type":"presence.set","id":2,"stream":"\#(stream)","state":{}}"#)
        try await Self.await(watcher, &view) { $0.members["dropped"] != nil }
        dropped = nil  // closes the socket: no close frame
        try await Self.await(watcher, &view, timeout: 20) { $0.members["dropped"] == nil }
        await watcher.close()
    }
}
