import Foundation
import Testing

/// The graceful stop of the real `lattice` binary: SIGTERM or SIGINT makes its service group
/// stop accepting, close every WebSocket with 1001, and exit with status 0.
@Suite("Graceful shutdown of lattice serve and lattice echo")
struct ShutdownTests {
    /// Signals `server` while `socket` is open and checks the order of what follows: the next
    /// frame is a close 1001; by then no new connection is accepted; after our answer TCP ends
    /// and the process exits cleanly.
    func expectGracefulStop(_ server: TestServerProcess, socket: RawWebSocket, signal: Int32,
                            sourceLocation: SourceLocation = #_sourceLocation) async throws {
        kill(server.pid, signal)
        var frame = try socket.readFrame()
        // `lattice serve` greets first; anything before the close frame is skipped.
        while frame.opcode != Op.close { frame = try socket.readFrame() }
        #expect(frame.closeCode == 1001, "\(frame)", sourceLocation: sourceLocation)
        #expect(String(decoding: frame.closeReason, as: UTF8.self) == "server shutting down", sourceLocation: sourceLocation)
        #expect(throws: (any Error).self, "the listener closes before the WebSockets are closed",
                sourceLocation: sourceLocation) {
            try RawWebSocket(host: server.host, port: server.port, timeout: 2)
        }
        try socket.sendFrame(opcode: Op.close, payload: RawWebSocket.closePayload(1001))
        #expect(try socket.waitForTCPClose(), "TCP ends after the closing handshake", sourceLocation: sourceLocation)
        let status = try await offPool { server.terminate(grace: 15) }
        #expect(TestServerProcess.exitedCleanly(status), "wait status \(status)", sourceLocation: sourceLocation)
    }

    @Test("lattice echo", arguments: [SIGTERM, SIGINT])
    func echo(signal: Int32) async throws {
        let server = try await TestServerProcess.launch(["echo", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0"])
        defer { server.terminate() }
        let socket = try RawWebSocket(host: server.host, port: server.port, timeout: 10)
        try socket.upgrade()
        try socket.expectEcho(opcode: Op.text, Array("before the signal".utf8))
        try await expectGracefulStop(server, socket: socket, signal: signal)
    }

    @Test("lattice serve", arguments: [SIGTERM, SIGINT])
    func serve(signal: Int32) async throws {
        let server = try await TestServerProcess.launch(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0"])
        defer { server.terminate() }
        let token = try await server.token(for: "shutdown-watcher")
        let socket = try RawWebSocket(host: server.host, port: server.port, timeout: 10)
        try socket.write(RawWebSocket.handshakeRequest(path: "/ws?token=\(token)",
                                                       headers: [("Sec-WebSocket-Protocol", "lattice.v1")]))
        try #require(try socket.readHTTPResponse().status == 101)
        try await expectGracefulStop(server, socket: socket, signal: signal)
    }
}
