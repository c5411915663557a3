import Foundation
import Testing
@testable import LatticeServer

/// `lattice serve`'s route table through `HTTPRequestHandler`, on a store in a temporary
/// directory: routing, status codes and the access each route asks for.
@Suite("lattice serve routes: 404/405/426, 401/403, pipelining")
struct ServeRoutesTests {
    @Test("health, readiness, 404 JSON for unknown paths, 405 with Allow, 426 for /ws")
    func routing() async throws {
        let server = try await HTTPTestServer.make()
        defer { server.close() }
        var connection = try await HTTPTestConnection(routes: server.routes())
        let bearer = [("Authorization", "Bearer \(server.adminToken)")]
        #expect(try await connection.exchange(HTTPTestRequest.make("GET", "/healthz")).status == 200)
        let ready = try await connection.exchange(HTTPTestRequest.make("GET", "/readyz"))
        #expect(ready.status == 200)
        #expect(ready.json["status"] as? String == "ready")
        let unknown = try await connection.exchange(HTTPTestRequest.make("GET", "/api/nothing-here", headers: bearer))
        #expect(unknown.status == 404)
        #expect(unknown.errorCode == "not_found")
        #expect(unknown.text.contains("no API endpoint at /api/nothing-here"))
        let noFile = try await connection.exchange(HTTPTestRequest.make("GET", "/no/such/file"))
        #expect(noFile.status == 404)
        #expect(noFile.errorCode == "not_found")
        let wrong = try await connection.exchange(HTTPTestRequest.make("DELETE", "/api/me", headers: bearer))
        #expect(wrong.status == 405)
        #expect(wrong.headers["allow"] == "GET")
        #expect(try await connection.exchange(HTTPTestRequest.make("GET", "/api/users", headers: bearer)).status == 200)
        #expect(try await connection.exchange(HTTPTestRequest.make("PATCH", "/api/users", headers: bearer)).headers["allow"] == "GET, POST")
        // `accept` is not an invitation id: DELETE there is 405, not a revocation.
        let accept = try await connection.exchange(HTTPTestRequest.make("DELETE", "/api/invitations/accept", headers: bearer))
        #expect(accept.status == 405)
        #expect(accept.headers["allow"] == "POST")
        let ws = try await connection.exchange(HTTPTestRequest.make("GET", "/ws"))
        #expect(ws.status == 426)
        #expect(ws.headers["upgrade"] == "websocket")
        #expect(try await connection.exchange(HTTPTestRequest.make("GET", "/signout")).status == 405)
    }

    @Test("the web app's files: GET and HEAD, / is index.html, other methods 405, missing files 404")
    func staticFiles() async throws {
        let server = try await HTTPTestServer.make()
        defer { server.close() }
        let web = server.directory + "/web"
        try FileManager.default.createDirectory(atPath: web, withIntermediateDirectories: true)
        try Data("<p>app</p>".utf8).write(to: URL(fileURLWithPath: web + "/index.html"))
        var connection = try await HTTPTestConnection(routes: server.routes(files: try StaticFiles(directory: web)))
        let index = try await connection.exchange(HTTPTestRequest.make("GET", "/"))
        #expect(index.text == "<p>app</p>")
        #expect(index.headers["content-type"] == "text/html; charset=utf-8")
        #expect(try await connection.exchange(HTTPTestRequest.make("POST", "/index.html", body: "")).status == 405)
        #expect(try await connection.exchange(HTTPTestRequest.make("POST", "/missing.html", body: "")).status == 404)
    }

    @Test("401 without a token and with a forged, malformed or unknown one; 403 for a role that may not")
    func access() async throws {
        let server = try await HTTPTestServer.make()
        defer { server.close() }
        var connection = try await HTTPTestConnection(routes: server.routes())
        func me(_ token: String?) async throws -> HTTPTestAnswer {
            try await connection.exchange(HTTPTestRequest.make("GET", "/api/me", headers: token.map { [("Authorization", "Bearer \($0)")] } ?? []))
        }
        let missing = try await me(nil)
        #expect(missing.status == 401)
        #expect(missing.errorCode == "unauthorized")
        #expect(missing.headers["www-authenticate"] == "Bearer realm=\"lattice\"")
        #expect(try await me(String(server.adminToken.dropLast(4)) + "AAAA").status == 401)
        #expect(try await me("not-a-token").status == 401)
        #expect(try await me("lat_t_0123456789abcdef_nope").status == 401)
        #expect(try await me(server.viewerToken).status == 200)

        let listUsers = try await connection.exchange(HTTPTestRequest.make("GET", "/api/users", headers: [("Authorization", "Bearer \(server.viewerToken)")]))
        #expect(listUsers.status == 403)
        #expect(listUsers.errorCode == "forbidden")

        // Accepting an invitation needs no credential, but a presented one must be valid.
        let anonymous = try await connection.exchange(HTTPTestRequest.make("POST", "/api/invitations/accept", body: "{}"))
        #expect(anonymous.status == 400)
        let forged = try await connection.exchange(HTTPTestRequest.make("POST", "/api/invitations/accept",
                                                                        headers: [("Authorization", "Bearer lat_t_0123456789abcdef_nope")], body: "{}"))
        #expect(forged.status == 401)
    }

    @Test("keep-alive: pipelined requests on one connection are answered in order")
    func pipelining() async throws {
        let server = try await HTTPTestServer.make()
        defer { server.close() }
        var connection = try await HTTPTestConnection(routes: server.routes())
        try await connection.send(HTTPTestRequest.make("GET", "/api/me", headers: [("Authorization", "Bearer \(server.adminToken)")])
                                  + HTTPTestRequest.make("GET", "/healthz")
                                  + HTTPTestRequest.make("POST", "/api/nothing", body: "{}")
                                  + HTTPTestRequest.make("GET", "/readyz", headers: [("Connection", "close")]))
        let answers = try await connection.answers(4)
        #expect(answers.map(\.status) == [200, 200, 404, 200])
        #expect((answers[0].json["user"] as? [String: Any])?["name"] as? String == "admin")
        #expect(answers[1].text == "{\"status\":\"ok\"}\n")
        #expect(answers[3].headers["connection"] == "close")
    }
}
