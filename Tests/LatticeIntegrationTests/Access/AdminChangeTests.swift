import Foundation
import LatticeClient
import Testing

/// Changes written to the database by `lattice admin` beside the running server (another
/// process) and token expiry reach live sessions within the identity poll (about a second;
/// docs/security.md).
@Suite("access: lattice admin changes and token expiry reach live sessions",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent"]))
struct AdminChangeTests {
    static func admin(_ arguments: [String]) async throws {
        let server = try TestServerProcess.require()
        let dataDir = try #require(server.dataDir)
        let (status, out, err) = try await TestServerProcess.runToCompletion(try TestServerProcess.locateBinary(),
                                                                        ["admin"] + arguments + ["--data-dir", dataDir])
        #expect(status == 0, "lattice admin \(arguments): \(out) \(err)")
    }

    /// Reads frames until a close frame; its code and reason.
    static func closeFrame(_ socket: RawWebSocket) throws -> (UInt16?, String) {
        for _ in 0..<100 {
            let frame = try socket.readFrame()
            if frame.opcode == 0x8 { return (frame.closeCode, String(decoding: frame.payload.dropFirst(2), as: UTF8.self)) }
        }
        return (nil, "")
    }

    @Test("lattice admin member set viewer, then member remove: the next publish is refused, then the subscription ends")
    func adminDowngradeAndRemoval() async throws {
        let server = try TestServerProcess.require()
        let editor = try await StreamClient.connect(port: server.port, name: "cli-editor", role: "editor")
        let user = try LiveAccessTests.userID(editor)
        let stream = "channel/demo/cli"
        #expect(try await editor.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#).type == "ok")
        #expect(try await editor.request(#"{"type":"publish","id":2,"stream":"\#(stream)","data":"before"}"#).type == "ok")

        try await Self.admin(["member", "set", "--workspace", "demo", "--user", user, "--role", "viewer"])
        // Applied within the poll: look until a publish is refused (each try that passes is fine).
        var answer = ""
        for id in 3..<200 {
            let reply = try await editor.request(#"{"type":"publish","id":\#(id),"stream":"\#(stream)","data":"probe"}"#)
            answer = reply.code ?? reply.type
            if answer == "forbidden" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(answer == "forbidden")

        try await Self.admin(["member", "remove", "--workspace", "demo", "--user", user])
        let ended = try await editor.next(timeout: 20) { $0.type == "unsubscribed" }
        #expect(ended.stream == stream)
        #expect(ended.code == "forbidden")
        await editor.close()
    }

    @Test("lattice admin token revoke closes the token's live connections with 4003")
    func adminRevocation() async throws {
        let server = try TestServerProcess.require()
        let token = try await server.token(for: "cli-revoked")
        let socket = try await RawWebSocket.lattice(port: server.port, name: "cli-revoked", token: token, timeout: 20)
        try socket.sendText(#"{"type":"subscribe","id":1,"stream":"channel/demo/cli-revoked"}"#)
        #expect(try socket.readLattice().type == "ok")
        try await Self.admin(["token", "revoke", token])
        let (code, reason) = try Self.closeFrame(socket)
        #expect(code == 4003)
        #expect(reason == "token revoked")
    }

    @Test("a token that expires while connected: its connection is closed with 4003 'token expired'")
    func expiryWhileConnected() async throws {
        let server = try TestServerProcess.require()
        let dataDir = try #require(server.dataDir)
        // The token expires 30 s after a moment later than this: time enough to connect on a
        // loaded CI machine.
        let before = Date()
        let (_, out, _) = try await TestServerProcess.runToCompletion(try TestServerProcess.locateBinary(), [
            "admin", "token", "create", "--data-dir", dataDir, "--workspace", "demo", "--role", "viewer",
            "--name", "cli-expiring", "--expires-in", "30"])
        let token = try #require(TestServerProcess.firstToken(in: out))
        let socket = try await RawWebSocket.lattice(port: server.port, name: "cli-expiring", token: token, timeout: 60)
        try socket.sendText(#"{"type":"ping","id":1}"#)
        #expect(try socket.readLattice().type == "ok")
        let (code, reason) = try Self.closeFrame(socket)
        #expect(code == 4003)
        #expect(reason == "token expired")
        #expect(Date().timeIntervalSince(before) >= 29.9, "closed at expiry, not before")
    }

    @Test("LatticeSession: a 4003 close ends the session with credentialEnded instead of reconnecting with a dead token")
    func clientStopsOnCredentialEnd() async throws {
        let server = try TestServerProcess.require()
        let token = try await server.token(for: "cli-session")
        let session = try await ClientTestSupport.session(server, name: "cli-session")
        let subscription = try await session.subscribe("channel/demo/cli-session")
        try await Self.admin(["token", "revoke", token])
        let ended = try await ClientTestSupport.within(30, "the session ending") { () -> [LatticeSessionStatus] in
            var seen: [LatticeSessionStatus] = []
            for await status in session.statusUpdates { seen.append(status) }
            return seen
        }
        #expect(ended.last == .credentialEnded(reason: "token revoked"), "\(ended)")
        #expect(!ended.contains { if case .reconnecting = $0 { true } else { false } }, "\(ended)")
        var last: SubscriptionEvent?
        for await event in subscription.events { last = event }
        #expect(last == .failed(.closed))
    }
}
