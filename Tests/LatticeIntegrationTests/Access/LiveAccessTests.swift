import Foundation
import Testing

/// Membership changes and revocations reach live sessions at once (docs/security.md).
@Suite("access: live downgrade, removal and revocation",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent"]))
struct LiveAccessTests {
    /// The user id from a connection's `welcome`.
    static func userID(_ client: StreamClient) throws -> String {
        try #require((client.welcome.json["identity"] as? [String: Any])?["id"] as? String)
    }

    @Test("a downgraded editor keeps reading but its next publish is refused; a removed member's subscriptions end")
    func downgradeThenRemove() async throws {
        let server = try TestServerProcess.require()
        let admin = try #require(server.adminToken)
        let editor = try await StreamClient.connect(port: server.port, name: "live-editor", role: "editor")
        let user = try Self.userID(editor)
        let stream = "channel/demo/live"
        #expect(try await editor.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#).type == "ok")
        #expect(try await editor.request(#"{"type":"publish","id":2,"stream":"\#(stream)","data":"before"}"#).type == "ok")

        let down = try HTTPTestClient.request(port: server.port, "PUT", "/api/workspaces/demo/members/\(user)", token: admin,
                                              json: ["role": "viewer"])
        #expect(down.status == 200, "\(down)")
        // Applied when the API answered: the very next publish is refused.
        let refused = try await editor.request(#"{"type":"publish","id":3,"stream":"\#(stream)","data":"after"}"#)
        #expect(refused.code == "forbidden", "\(refused)")
        // Still a viewer: live events keep coming.
        let publisher = try await StreamClient.connect(port: server.port, token: admin)
        #expect(try await publisher.request(#"{"type":"publish","id":1,"stream":"\#(stream)","data":"from-admin"}"#).type == "ok")
        let event = try await editor.next { $0.type == "event" && $0.text.contains("from-admin") }
        #expect(event.stream == stream)

        let removed = try HTTPTestClient.request(port: server.port, "DELETE", "/api/workspaces/demo/members/\(user)", token: admin)
        #expect(removed.status == 200 || removed.status == 204, "\(removed)")
        let ended = try await editor.next(timeout: 20) { $0.type == "unsubscribed" }
        #expect(ended.stream == stream)
        #expect(ended.code == "forbidden")
        // No more events for it, and it may not subscribe again.
        #expect(try await publisher.request(#"{"type":"publish","id":2,"stream":"\#(stream)","data":"gone"}"#).type == "ok")
        let again = try await editor.request(#"{"type":"subscribe","id":4,"stream":"\#(stream)"}"#)
        #expect(again.code == "forbidden", "\(again)")
        await editor.close()
        await publisher.close()
    }

    @Test("revoking a token closes its live connections with 4003; other tokens of the user stay")
    func revocationCloses() async throws {
        let server = try TestServerProcess.require()
        let admin = try #require(server.adminToken)
        let token = try await server.token(for: "live-revoked")
        let socket = try await RawWebSocket.lattice(port: server.port, name: "live-revoked", token: token, timeout: 10)
        try socket.sendText(#"{"type":"subscribe","id":1,"stream":"channel/demo/revoked"}"#)
        #expect(try socket.readLattice().type == "ok")
        let tokenID = "t_" + token.dropFirst("lat_t_".count).prefix(16)
        let revoke = try HTTPTestClient.request(port: server.port, "DELETE", "/api/tokens/\(tokenID)", token: admin)
        #expect(revoke.status == 200 || revoke.status == 204, "\(revoke)")
        var closeCode: UInt16?
        for _ in 0..<10 {
            let frame = try socket.readFrame()
            if frame.opcode == 0x8 { closeCode = frame.closeCode; break }
        }
        #expect(closeCode == 4003)
        // The revoked token cannot come back.
        let retry = try RawWebSocket(port: server.port, timeout: 5)
        try retry.write(RawWebSocket.handshakeRequest(path: "/ws", headers: [("Authorization", "Bearer \(token)")]))
        #expect(try retry.readHTTPResponse().status == 401)
    }
}

/// Per-connection rate limits and the per-address connection limit.
@Suite("access: rate and connection limits",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent",
                       "--rate-messages", "20", "--max-connections-per-address", "6"]))
struct AbuseLimitTests {
    @Test("over the request rate: rate_limited with the request's id, and a connection that keeps flooding is closed with 1008")
    func rateLimited() async throws {
        let server = try TestServerProcess.require()
        let socket = try await RawWebSocket.lattice(port: server.port, name: "flooder", timeout: 10)
        // The burst is 40 (twice the rate): the 41st ping in a row is refused. 120 pings sent at
        // once would all pass only if the server took 4 s to read them (20 tokens come back a second).
        for i in 0..<120 { try socket.sendText(#"{"type":"ping","id":\#(i)}"#) }
        var oks = 0, limited: [LatticeMessage] = []
        for _ in 0..<120 {
            let message = try socket.readLattice()
            if message.type == "ok" { oks += 1 } else if message.code == "rate_limited" { limited.append(message) }
        }
        #expect(oks >= 40 && oks < 120, "\(oks) pings passed")
        #expect(!limited.isEmpty)
        #expect(limited.allSatisfy { $0.json["id"] != nil }, "rate_limited carries the id")
        // Keep flooding: past the tolerated refusals the server closes with 1008.
        var closeCode: UInt16?
        socket.timeout = 0.05
        flooding: for i in 0..<2000 {
            do { try socket.sendText(#"{"type":"ping","id":\#(i)}"#) } catch { break }
            if i % 50 == 49 {
                while let frame = try? socket.readFrame() {
                    if frame.opcode == 0x8 { closeCode = frame.closeCode; break flooding }
                }
            }
        }
        socket.timeout = 2
        while closeCode == nil, let frame = try? socket.readFrame() {
            if frame.opcode == 0x8 { closeCode = frame.closeCode }
        }
        #expect(closeCode == 1008)
        // Others are unaffected.
        let other = try await StreamClient.connect(port: server.port, name: "calm")
        #expect(try await other.request(#"{"type":"ping","id":1}"#).type == "ok")
        await other.close()
    }

    @Test("one address may hold at most the configured connections; more are closed at accept")
    func perAddress() throws {
        let server = try TestServerProcess.require()
        // Give the previous test's connections time to go.
        Thread.sleep(forTimeInterval: 0.5)
        var open: [RawWebSocket] = []
        for _ in 0..<6 { open.append(try RawWebSocket(port: server.port, timeout: 5)) }
        let extra = try RawWebSocket(port: server.port, timeout: 5)
        try? extra.write(RawWebSocket.handshakeRequest(path: "/ws"))
        #expect(throws: (any Error).self) { _ = try extra.readHTTPResponse() }
        open.removeAll()
    }
}
