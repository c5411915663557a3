import Foundation
import LatticeClient
import LatticeWebSocket
import NIOCore
import Testing

/// Our `LatticeClient` as the client, a Python `websockets` echo server as the peer.
@Suite("Interop: LatticeClient → Python websockets server")
struct SwiftClientTests {
    static func launchPythonServer(compression: Bool) async throws -> TestServerProcess {
        try await TestServerProcess.launch([Interop.script("ws_echo_server.py")] + (compression ? [] : ["--no-compression"]),
                                     binary: try Interop.python())
    }

    /// Receives the next message, failing the test after `seconds`.
    static func next(_ iterator: inout AsyncThrowingStream<WebSocketMessage, any Error>.AsyncIterator) async throws -> WebSocketMessage {
        try #require(try await iterator.next(), "connection ended before the echo arrived")
    }

    @Test("echoes text, binary, large and empty messages", arguments: [true, false])
    func echoes(compression: Bool) async throws {
        let server = try await Self.launchPythonServer(compression: compression)
        defer { server.terminate() }
        let url = try #require(WebSocketURL("ws://127.0.0.1:\(server.port)/"))
        let connection = try await WebSocketClient.connect(to: url, options: WebSocketClientOptions(deflate: true))
        #expect((connection.handshake.deflate != nil) == compression)
        var messages = connection.messages.makeAsyncIterator()

        try await connection.send(text: "hello from Swift ✓")
        #expect(try await Self.next(&messages).text == "hello from Swift ✓")

        let bytes = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await connection.send(binary: bytes)
        let binary = try await Self.next(&messages)
        #expect(binary.kind == .binary)
        #expect(Array(binary.data.readableBytesView) == bytes)

        let large = String(repeating: "lattice ", count: 300_000)
        try await connection.send(text: large)
        #expect(try await Self.next(&messages).text == large)

        try await connection.send(text: "")
        #expect(try await Self.next(&messages).text == "")

        for i in 0..<100 { try await connection.send(text: "burst \(i)") }
        for i in 0..<100 { #expect(try await Self.next(&messages).text == "burst \(i)") }

        try await connection.close(code: .normalClosure)
        #expect(connection.closeCode == .normalClosure)
    }

    @Test("ping is answered with a pong")
    func ping() async throws {
        let server = try await Self.launchPythonServer(compression: false)
        defer { server.terminate() }
        let url = try #require(WebSocketURL("ws://127.0.0.1:\(server.port)/"))
        let connection = try await WebSocketClient.connect(to: url)
        try await connection.ping([1, 2, 3])
        // The echo of a text message after the ping proves the pong (sent first) was processed.
        var messages = connection.messages.makeAsyncIterator()
        try await connection.send(text: "after ping")
        #expect(try await Self.next(&messages).text == "after ping")
        #expect(connection.pongsReceived == 1)
        try await connection.close()
    }

    @Test("a refused handshake reports the status")
    func refusedHandshake() async throws {
        let server = try await TestServerProcess.launch(
            ["serve", "--host", "127.0.0.1", "--port", "0", "--web-root", "/nonexistent"])
        defer { server.terminate() }
        let url = try #require(WebSocketURL("ws://127.0.0.1:\(server.port)/not-the-endpoint"))
        await #expect(throws: WebSocketClientHandshakeError.self) {
            _ = try await WebSocketClient.connect(to: url)
        }
        do {
            _ = try await WebSocketClient.connect(to: url)
        } catch let WebSocketClientHandshakeError.rejected(status, body) {
            #expect(status == 404)
            #expect(body.contains("/ws"))
        }
    }
}
