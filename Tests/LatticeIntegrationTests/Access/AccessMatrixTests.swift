import Foundation
import Testing

/// The access rules of docs/security.md over real sockets: each role against each stream kind
/// and action, other workspaces, and refused credentials at the handshake.
@Suite("access: roles, streams, workspaces and credentials over real sockets",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent"]))
struct AccessMatrixTests {
    /// What each role may do on a stream of its own workspace (publish: channels only).
    static let expected: [String: (subscribe: Bool, publish: Bool, presence: Bool)] = [
        "viewer": (true, false, true),
        "editor": (true, true, true),
        "owner": (true, true, true),
    ]

    @Test("each role in its own workspace: subscribe, publish and presence as documented")
    func ownWorkspace() async throws {
        let server = try TestServerProcess.require()
        for (role, allowed) in Self.expected {
            let client = try await StreamClient.connect(port: server.port, name: "matrix-\(role)", role: role)
            for stream in ["workspace/demo", "graph/demo", "channel/demo/matrix-\(role)"] {
                let sub = try await client.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#)
                #expect((sub.type == "ok") == allowed.subscribe, "\(role) subscribe \(stream): \(sub)")
                let presence = try await client.request(#"{"type":"presence.set","id":2,"stream":"\#(stream)","state":{"s":1}}"#)
                #expect((presence.type == "ok") == allowed.presence, "\(role) presence \(stream): \(presence)")
            }
            let publish = try await client.request(#"{"type":"publish","id":3,"stream":"channel/demo/matrix-\#(role)","data":1}"#)
            #expect((publish.type == "ok") == allowed.publish, "\(role) publish: \(publish)")
            if !allowed.publish { #expect(publish.code == "forbidden") }
            // Streams of runs and documents that do not exist: not_found, whatever the role.
            for stream in ["run/nope", "doc/nope"] {
                let sub = try await client.request(#"{"type":"subscribe","id":4,"stream":"\#(stream)"}"#)
                #expect(sub.code == "not_found", "\(role) \(stream): \(sub)")
            }
            await client.close()
        }
    }

    @Test("another workspace is refused to every role of this one, and to a bot bound to it")
    func crossWorkspace() async throws {
        let server = try TestServerProcess.require()
        let admin = try #require(server.adminToken)
        let created = try HTTPTestClient.request(port: server.port, "POST", "/api/workspaces", token: admin,
                                                 json: ["id": "other", "name": "Other"])
        #expect(created.status == 201 || created.status == 200 || created.status == 409, "\(created)")
        var clients: [StreamClient] = []
        for role in Self.expected.keys {
            clients.append(try await StreamClient.connect(port: server.port, name: "cross-\(role)", role: role))
        }
        clients.append(try await StreamClient.connect(port: server.port, name: "cross-bot", kind: "bot"))
        for client in clients {
            for stream in ["workspace/other", "graph/other", "channel/other/general"] {
                let sub = try await client.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#)
                #expect(sub.code == "forbidden", "\(stream): \(sub)")
            }
            let publish = try await client.request(#"{"type":"publish","id":2,"stream":"channel/other/general","data":1}"#)
            #expect(publish.code == "forbidden", "\(publish)")
            await client.close()
        }
        // The admin (owner of both) may.
        let owner = try await StreamClient.connect(port: server.port, token: admin)
        #expect(try await owner.request(#"{"type":"subscribe","id":1,"stream":"workspace/other"}"#).type == "ok")
        await owner.close()
    }

    @Test("a read-only token is refused publish even for an owner")
    func scopes() async throws {
        let server = try TestServerProcess.require()
        let dataDir = try #require(server.dataDir)
        let (status, out, err) = try await TestServerProcess.runToCompletion(try TestServerProcess.locateBinary(), [
            "admin", "token", "create", "--data-dir", dataDir, "--workspace", "demo", "--role", "owner",
            "--name", "reader-owner", "--scopes", "read"])
        #expect(status == 0, "\(err)")
        let token = try #require(TestServerProcess.firstToken(in: out))
        let client = try await StreamClient.connect(port: server.port, token: token)
        #expect(try await client.request(#"{"type":"subscribe","id":1,"stream":"channel/demo/scoped"}"#).type == "ok")
        #expect(try await client.request(#"{"type":"publish","id":2,"stream":"channel/demo/scoped","data":1}"#).code == "forbidden")
        await client.close()
    }

    @Test("the handshake answers 401 for no, malformed, forged, expired and revoked tokens")
    func refusedCredentials() async throws {
        let server = try TestServerProcess.require()
        let dataDir = try #require(server.dataDir)
        let binary = try TestServerProcess.locateBinary()
        let (_, expiringOut, _) = try await TestServerProcess.runToCompletion(binary, [
            "admin", "token", "create", "--data-dir", dataDir, "--workspace", "demo", "--role", "editor", "--name", "short", "--expires-in", "1"])
        let expiring = try #require(TestServerProcess.firstToken(in: expiringOut))
        let (_, revokedOut, _) = try await TestServerProcess.runToCompletion(binary, [
            "admin", "token", "create", "--data-dir", dataDir, "--workspace", "demo", "--role", "editor", "--name", "gone"])
        let revoked = try #require(TestServerProcess.firstToken(in: revokedOut))
        let (revokeStatus, _, revokeErr) = try await TestServerProcess.runToCompletion(binary, ["admin", "token", "revoke", "--data-dir", dataDir, revoked])
        #expect(revokeStatus == 0, "\(revokeErr)")
        // A valid token whose secret half is changed.
        let valid = try await server.token(for: "forger")
        let forged = String(valid.dropLast(4)) + (valid.hasSuffix("AAAA") ? "BBBB" : "AAAA")
        try await Task.sleep(for: .milliseconds(1200))
        var bodies: Set<[UInt8]> = []
        for credential in [nil, "garbage", forged, expiring, revoked] as [String?] {
            let socket = try RawWebSocket(port: server.port, timeout: 5)
            var headers: [(String, String?)] = [("Sec-WebSocket-Protocol", "lattice.v1")]
            if let credential { headers.append(("Authorization", "Bearer \(credential)")) }
            try socket.write(RawWebSocket.handshakeRequest(path: "/ws", headers: headers))
            let response = try socket.readHTTPResponse()
            #expect(response.status == 401, "\(credential ?? "none"): \(response)")
            bodies.insert(response.body)
        }
        // All alike: a client cannot tell a revoked token from an unknown one (the audit log can).
        #expect(bodies.count == 1, "\(bodies.map { String(decoding: $0, as: UTF8.self) })")
        // The same valid token passes in each place a browser or CLI can put it.
        for (path, header) in [("/ws?token=\(valid)", nil), ("/ws", ("Cookie", "lattice_session=\(valid)"))] as [(String, (String, String)?)] {
            let socket = try RawWebSocket(port: server.port, timeout: 5)
            var headers: [(String, String?)] = [("Sec-WebSocket-Protocol", "lattice.v1")]
            if let header { headers.append(header) }
            try socket.write(RawWebSocket.handshakeRequest(path: path, headers: headers))
            #expect(try socket.readHTTPResponse().status == 101, "\(path) \(header?.0 ?? "")")
        }
    }

    @Test("browser origins: the server's own is accepted, another is refused with 403")
    func origins() async throws {
        let server = try TestServerProcess.require()
        let token = try await server.token(for: "browser")
        for (origin, status) in [("http://127.0.0.1", 101), ("http://evil.example", 403)] {
            let socket = try RawWebSocket(port: server.port, timeout: 5)
            try socket.write(RawWebSocket.handshakeRequest(path: "/ws", headers: [
                ("Host", "127.0.0.1"), ("Origin", origin), ("Sec-WebSocket-Protocol", "lattice.v1"), ("Authorization", "Bearer \(token)")]))
            #expect(try socket.readHTTPResponse().status == status, "origin \(origin)")
        }
    }
}
