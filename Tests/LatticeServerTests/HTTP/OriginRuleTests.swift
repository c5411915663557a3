import LatticeAuth
import LatticeStore
import Foundation
import LatticeWebSocket
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import LatticeServer

/// The Origin rule where `lattice serve` applies it: cookie-authenticated REST changes and the
/// `/ws` upgrade, both through `OriginPolicy`.
@Suite("Origin rule on the REST API and the /ws upgrade")
struct OriginRuleTests {
    /// A cookie-authenticated `POST /api/workspaces` with `Origin` sent to `Host`: its status.
    private func createWorkspace(_ server: HTTPTestServer, origins: OriginPolicy = OriginPolicy(), origin: String, host: String,
                                 bearer: Bool = false) async throws -> HTTPTestAnswer {
        var connection = try await HTTPTestConnection(routes: server.routes(origins: origins))
        let credential = bearer ? ("Authorization", "Bearer \(server.adminToken)") : ("Cookie", "lattice_session=\(server.adminSession)")
        let id = "ws-\(UInt32.random(in: 0...UInt32.max))"
        return try await connection.exchange(HTTPTestRequest.make("POST", "/api/workspaces", host: host,
                                                                  headers: [credential, ("Origin", origin)], body: "{\"id\":\"\(id)\"}"))
    }

    @Test("REST: the server's own origin passes with or without the default port; another is 403 and audited")
    func restSameOrigin() async throws {
        let server = try await HTTPTestServer.make()
        defer { server.close() }
        #expect(try await createWorkspace(server, origin: "http://h", host: "h:80").status == 201)
        #expect(try await createWorkspace(server, origin: "http://h:8080", host: "h:8080").status == 201)
        let evil = try await createWorkspace(server, origin: "http://evil.example", host: "h:80")
        #expect(evil.status == 403)
        #expect(evil.errorCode == "forbidden")
        #expect(try await createWorkspace(server, origin: "http://h", host: "h:8080").status == 403)
        // Bearer tokens are not sent by browsers on their own: no Origin check.
        #expect(try await createWorkspace(server, origin: "http://evil.example", host: "h", bearer: true).status == 201)

        var audited = false
        for _ in 0..<100 where !audited {
            let entries = try await server.store.audit(workspaceID: nil, limit: 100, beforeID: nil)
            audited = entries.contains { $0.action == "access.refused" && $0.detail.contains("origin http://evil.example is not allowed") }
            if !audited { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(audited)
    }

    @Test("REST: --allowed-origins is honoured: listed origins pass, the server's own does not unless listed")
    func restAllowList() async throws {
        let server = try await HTTPTestServer.make()
        defer { server.close() }
        let listed = OriginPolicy(allowedOrigins: ["https://app.example"])
        #expect(try await createWorkspace(server, origins: listed, origin: "https://app.example", host: "api.example").status == 201)
        #expect(try await createWorkspace(server, origins: listed, origin: "http://api.example", host: "api.example").status == 403)
        let any = OriginPolicy(sameOriginOnly: false)
        #expect(try await createWorkspace(server, origins: any, origin: "http://evil.example", host: "h").status == 201)
    }

    @Test("REST: safe methods are not origin-checked")
    func restSafeMethods() async throws {
        let server = try await HTTPTestServer.make()
        defer { server.close() }
        var connection = try await HTTPTestConnection(routes: server.routes())
        let answer = try await connection.exchange(HTTPTestRequest.make("GET", "/api/me", host: "h",
                                                                        headers: [("Cookie", "lattice_session=\(server.adminSession)"),
                                                                                  ("Origin", "http://evil.example")]))
        #expect(answer.status == 200)
    }

    /// The status `/ws` answers an upgrade without a credential: 401 means the origin passed.
    private func upgradeStatus(_ server: HTTPTestServer, origins: OriginPolicy = OriginPolicy(), origin: String, host: String) async throws -> Int {
        let upgrade = UpgradeAuthentication(webSocketPath: "/ws", access: server.services.access, origins: origins)
        let channel = NIOAsyncTestingChannel()
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ws", headers: ["Host": host, "Origin": origin])
        switch try await upgrade.decide(head, channel: channel).get() {
        case .accept: return 101
        case .reject(let rejection): return Int(rejection.status.code)
        }
    }

    @Test("/ws: the same rule — h against h:80 passes, other origins 403, --allowed-origins honoured")
    func upgrade() async throws {
        let server = try await HTTPTestServer.make()
        defer { server.close() }
        #expect(try await upgradeStatus(server, origin: "http://h", host: "h:80") == 401)
        #expect(try await upgradeStatus(server, origin: "https://h:443", host: "h") == 401)
        #expect(try await upgradeStatus(server, origin: "http://evil.example", host: "h") == 403)
        let listed = OriginPolicy(allowedOrigins: ["https://app.example"])
        #expect(try await upgradeStatus(server, origins: listed, origin: "https://app.example", host: "h") == 401)
        #expect(try await upgradeStatus(server, origins: listed, origin: "http://h", host: "h") == 403)
    }
}
