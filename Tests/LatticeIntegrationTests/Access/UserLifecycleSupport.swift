import Foundation
import Testing

/// What the user disable/delete/sign-out suites share.
enum UserLifecycle {
    /// A live, subscribed WebSocket session of `token`.
    static func liveSession(_ t: APITestSupport, name: String, token: String) async throws -> RawWebSocket {
        let socket = try await RawWebSocket.lattice(port: t.server.port, name: name, token: token, timeout: 20)
        try socket.sendText(#"{"type":"subscribe","id":1,"stream":"channel/demo/\#(name)"}"#)
        #expect(try socket.readLattice().type == "ok")
        return socket
    }

    /// The answer to a WebSocket upgrade with `token`: status and body.
    static func upgrade(_ t: APITestSupport, token: String) throws -> (status: Int, body: [UInt8]) {
        let socket = try RawWebSocket(port: t.server.port, timeout: 10)
        try socket.write(RawWebSocket.handshakeRequest(path: "/ws", headers: [("Sec-WebSocket-Protocol", "lattice.v1"),
                                                                            ("Authorization", "Bearer \(token)")]))
        let response = try socket.readHTTPResponse()
        return (response.status, response.body)
    }

    /// A token of the right shape that the server does not know.
    static let unknownToken = "lat_t_0123456789abcdef_" + String(repeating: "A", count: 43)

    /// The token no longer authenticates: 401 over REST and on the upgrade, answered exactly as
    /// an unknown token is.
    static func expectRefused(_ t: APITestSupport, _ token: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let rest = try t.call("GET", "/api/me", token: token)
        let unknownRest = try t.call("GET", "/api/me", token: unknownToken)
        #expect(rest.status == 401, "\(rest)", sourceLocation: sourceLocation)
        #expect(rest.text == unknownRest.text, "all 401s look alike", sourceLocation: sourceLocation)
        let upgraded = try upgrade(t, token: token)
        let unknownUpgrade = try upgrade(t, token: unknownToken)
        #expect(upgraded.status == 401, sourceLocation: sourceLocation)
        #expect(upgraded.body == unknownUpgrade.body, "all 401s look alike", sourceLocation: sourceLocation)
    }

    static func expectAccepted(_ t: APITestSupport, _ token: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try t.call("GET", "/api/me", token: token).status == 200, sourceLocation: sourceLocation)
        #expect(try upgrade(t, token: token).status == 101, sourceLocation: sourceLocation)
    }

    /// The id of the token string's public half.
    static func tokenID(_ token: String) -> String {
        "t_" + token.dropFirst("lat_t_".count).prefix(16)
    }

    /// The audit log (as the admin reads it) until an entry matches; the writes are not awaited
    /// by the actions, so look until it is there (at most `seconds`).
    static func auditEntry(_ t: APITestSupport, seconds: Double = 10,
                           where match: ([String: Any]) -> Bool) async throws -> [String: Any]? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            let answer = try t.call("GET", "/api/audit?limit=1000", token: try t.admin)
            if let found = (answer.json["entries"] as? [[String: Any]])?.first(where: match) { return found }
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
