import NIOEmbedded
import NIOCore
import NIOHTTP1
import Testing
@testable import LatticeServer

@Suite("HTTPRequestHandler: pipelining, keep-alive and body limits on an in-process connection")
struct HTTPRequestHandlerTests {
    /// `/slow` waits for `gate`; `/quick` answers in a task at once; `/now` on the loop;
    /// `/echo` answers with the request body.
    private static func table(gate: HTTPTestGate, maxBodyBytes: Int = 1 << 20) -> HTTPRouteTable {
        HTTPRouteTable(routes: [
            .task(HTTPRoutePattern("/slow"), .only([.GET]), access: .open) { _ in
                await gate.wait()
                return .text(.ok, "slow")
            },
            .task(HTTPRoutePattern("/quick"), .only([.GET]), access: .open) { _ in .text(.ok, "quick") },
            .onLoop(HTTPRoutePattern("/now"), .only([.GET])) { _ in .text(.ok, "now") },
            .task(HTTPRoutePattern("/echo"), .only([.POST]), access: .open) { route in
                .text(.ok, String(decoding: route.request.body, as: UTF8.self))
            },
        ], guard: HTTPRouteGuard(origins: OriginPolicy(), access: nil), maxBodyBytes: maxBodyBytes)
    }

    @Test("requests in one read are answered in order, even when an earlier one completes after a later one would")
    func pipeliningInOrder() async throws {
        let gate = HTTPTestGate()
        var connection = try await HTTPTestConnection(routes: Self.table(gate: gate))
        try await connection.send(HTTPTestRequest.make("GET", "/slow") + HTTPTestRequest.make("GET", "/now")
                                  + HTTPTestRequest.make("GET", "/quick") + HTTPTestRequest.make("POST", "/echo", body: "posted"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await connection.pendingBytes() == 0, "an answer went out before the first request's")
        await gate.open()
        let answers = try await connection.answers(4)
        #expect(answers.map(\.text) == ["slow\n", "now\n", "quick\n", "posted\n"])
        #expect(answers.allSatisfy { $0.headers["connection"] == "keep-alive" })
        #expect(connection.isActive)
    }

    @Test("HTTP/1.1 keeps the connection; Connection: close ends it once the answer is written")
    func connectionClose() async throws {
        var connection = try await HTTPTestConnection(routes: Self.table(gate: HTTPTestGate()))
        #expect(try await connection.exchange(HTTPTestRequest.make("GET", "/now")).headers["connection"] == "keep-alive")
        #expect(connection.isActive)
        let closing = try await connection.exchange(HTTPTestRequest.make("GET", "/quick", headers: [("Connection", "close")]))
        #expect(closing.text == "quick\n")
        #expect(closing.headers["connection"] == "close")
        await connection.channel.testingEventLoop.run()
        #expect(!connection.isActive)
    }

    @Test("HTTP/1.0 closes unless it asks for keep-alive")
    func http10() async throws {
        var kept = try await HTTPTestConnection(routes: Self.table(gate: HTTPTestGate()))
        let keepAlive = try await kept.exchange("GET /now HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(keepAlive.headers["connection"] == "keep-alive")
        #expect(kept.isActive)

        var closed = try await HTTPTestConnection(routes: Self.table(gate: HTTPTestGate()))
        let answer = try await closed.exchange("GET /now HTTP/1.0\r\n\r\n")
        #expect(answer.status == 200)
        #expect(answer.headers["connection"] == "close")
        await closed.channel.testingEventLoop.run()
        #expect(!closed.isActive)
    }

    @Test("a body over the limit is 413 and the connection closes, whether announced or streamed")
    func bodyLimit() async throws {
        var announced = try await HTTPTestConnection(routes: Self.table(gate: HTTPTestGate(), maxBodyBytes: 8))
        let tooLarge = try await announced.exchange(HTTPTestRequest.make("POST", "/echo", body: "more than eight"))
        #expect(tooLarge.status == 413)
        #expect(tooLarge.errorCode == "payload_too_large")
        await announced.channel.testingEventLoop.run()
        #expect(!announced.isActive)

        var streamed = try await HTTPTestConnection(routes: Self.table(gate: HTTPTestGate(), maxBodyBytes: 8))
        let chunked = "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n"
        #expect(try await streamed.exchange(chunked).status == 413)

        var fits = try await HTTPTestConnection(routes: Self.table(gate: HTTPTestGate(), maxBodyBytes: 8))
        #expect(try await fits.exchange(HTTPTestRequest.make("POST", "/echo", body: "eight..!")).text == "eight..!\n")
    }

    @Test("404 and 405 are answered on the loop; 405 carries Allow")
    func notFoundAndMethod() async throws {
        var connection = try await HTTPTestConnection(routes: Self.table(gate: HTTPTestGate()))
        try await connection.send(HTTPTestRequest.make("GET", "/none") + HTTPTestRequest.make("DELETE", "/now"))
        let answers = try await connection.answers(2)
        #expect(answers.map(\.status) == [404, 405])
        #expect(answers[0].errorCode == "not_found")
        #expect(answers[1].headers["allow"] == "GET")
        #expect(answers[1].errorCode == "method_not_allowed")
    }
}
