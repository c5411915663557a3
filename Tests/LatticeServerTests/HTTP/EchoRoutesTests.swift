import Testing
@testable import LatticeServer

@Suite("lattice echo's one-route table")
struct EchoRoutesTests {
    @Test("every plain request, any path and method, is told to upgrade, on a kept-alive connection")
    func upgradeRequired() async throws {
        var connection = try await HTTPTestConnection(routes: .echo(origins: OriginPolicy(sameOriginOnly: false)))
        try await connection.send(HTTPTestRequest.make("GET", "/") + HTTPTestRequest.make("POST", "/any/path?x=1", body: "ignored")
                                  + HTTPTestRequest.make("GET", "/ws", headers: [("Origin", "http://elsewhere.example")]))
        let answers = try await connection.answers(3)
        #expect(answers.map(\.status) == [426, 426, 426])
        #expect(answers.allSatisfy { $0.headers["upgrade"] == "websocket" && $0.headers["sec-websocket-version"] == "13" })
        #expect(connection.isActive)
    }

    @Test("--allowed-origins: a plain POST from an origin off the list is refused like an upgrade would be")
    func allowList() async throws {
        var connection = try await HTTPTestConnection(routes: .echo(origins: OriginPolicy(allowedOrigins: ["https://good.example"],
                                                                                          sameOriginOnly: false)))
        let refused = try await connection.exchange(HTTPTestRequest.make("POST", "/", headers: [("Origin", "https://evil.example")], body: ""))
        #expect(refused.status == 403)
        let listed = try await connection.exchange(HTTPTestRequest.make("POST", "/", headers: [("Origin", "https://good.example")], body: ""))
        #expect(listed.status == 426)
    }
}
