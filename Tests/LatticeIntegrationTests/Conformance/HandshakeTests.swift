import Testing

/// RFC 6455 §4: the opening handshake, against `lattice echo` over raw TCP.
@Suite("RFC 6455 §4 Opening handshake",
       .echoServer("--allowed-origins", "https://good.example,https://also-good.example"))
struct HandshakeTests {
    /// Sends a request and reads the response.
    private func exchange(_ request: String) throws -> (RawWebSocket, HTTPResponse) {
        let ws = try RawWebSocket()
        try ws.write(request)
        return (ws, try ws.readHTTPResponse())
    }

    /// A refusal must not be a 101, must carry its status, and the server must close the connection.
    /// `closes`: a refused handshake ends the connection; a plain HTTP request (no
    /// `Upgrade: websocket`) may be answered on a kept-alive connection.
    private func expectRefusal(_ request: String, status: Int, closes: Bool = true,
                               sourceLocation: SourceLocation = #_sourceLocation) throws -> HTTPResponse {
        let (ws, response) = try exchange(request)
        #expect(response.status == status, "response: \(response)", sourceLocation: sourceLocation)
        #expect(response.value("Sec-WebSocket-Accept") == nil, sourceLocation: sourceLocation)
        if closes {
            #expect(try ws.waitForTCPClose(), "connection stays open after a refusal", sourceLocation: sourceLocation)
        }
        return response
    }

    @Test("§4.2.2 happy path: 101 with the RFC example accept key")
    func acceptKey() throws {
        let ws = try RawWebSocket()
        try ws.write(RawWebSocket.handshakeRequest(path: "/any/path?x=1"))
        let response = try ws.readHTTPResponse()
        #expect(response.status == 101)
        #expect(response.statusLine.hasPrefix("HTTP/1.1 101"))
        #expect(response.value("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(response.value("Upgrade")?.lowercased() == "websocket")
        #expect(response.value("Connection")?.lowercased().contains("upgrade") == true)
        #expect(response.value("Sec-WebSocket-Extensions") == nil, "no extension was offered")
        #expect(response.value("Sec-WebSocket-Protocol") == nil, "no subprotocol was offered")
        try ws.expectEcho(opcode: Op.text, Array("after handshake".utf8))
        try ws.closeNormally()
    }

    @Test("§4.2.1 header names and tokens are case-insensitive; Connection may list several tokens")
    func caseInsensitiveHeaders() throws {
        let request = "GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nUPGRADE: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
            + "sec-websocket-key: \(RawWebSocket.sampleKey)\r\nSEC-WEBSOCKET-VERSION: 13\r\n\r\n"
        let (ws, response) = try exchange(request)
        #expect(response.status == 101, "\(response)")
        #expect(response.value("sec-websocket-accept") == RawWebSocket.sampleAccept)
        try ws.closeNormally()
    }

    @Test("§4.2.1 wrong method → 405")
    func wrongMethod() throws {
        let response = try expectRefusal(
            RawWebSocket.handshakeRequest(method: "POST", headers: [("Content-Length", "0")]), status: 405)
        #expect(response.value("Allow")?.contains("GET") == true)
    }

    @Test("§4.2.1 HTTP/1.0 → 400")
    func http10() throws {
        _ = try expectRefusal(RawWebSocket.handshakeRequest(version: "HTTP/1.0"), status: 400)
    }

    @Test("§4.2.1 missing Host → 400")
    func missingHost() throws {
        _ = try expectRefusal(RawWebSocket.handshakeRequest(headers: [("Host", nil)]), status: 400)
    }

    @Test("§4.2.1 missing Connection: Upgrade → 400",
          arguments: [nil, "keep-alive", "close", "upgraded"])
    func missingConnectionUpgrade(connection: String?) throws {
        _ = try expectRefusal(RawWebSocket.handshakeRequest(headers: [("Connection", connection)]), status: 400)
    }

    /// Without `Upgrade: websocket` the request is not a WebSocket handshake at all; the echo
    /// server answers every plain request with 426 and `Upgrade: websocket` (RFC 7231 §6.5.15).
    @Test("§4.2.1 missing or invalid Upgrade → 426 (not a WebSocket request)",
          arguments: [nil, "h2c", "websocket2", "http/2"])
    func missingUpgrade(upgrade: String?) throws {
        let response = try expectRefusal(RawWebSocket.handshakeRequest(headers: [("Upgrade", upgrade)]), status: 426,
                                       closes: false)
        #expect(response.value("Upgrade")?.lowercased() == "websocket")
    }

    @Test("§4.2.1 missing Sec-WebSocket-Key → 400")
    func missingKey() throws {
        _ = try expectRefusal(RawWebSocket.handshakeRequest(headers: [("Sec-WebSocket-Key", nil)]), status: 400)
    }

    @Test("§4.2.1 Sec-WebSocket-Key not 16 bytes of base64 → 400",
          arguments: [
              "",                                 // empty
              "abc",                              // far too short
              "dGhlIHNhbXBsZSBub25jZQ",           // 16 bytes but unpadded
              "dGhlIHNhbXBsZSBub25j",             // 15 bytes
              "dGhlIHNhbXBsZSBub25jZQ==ZZ",       // trailing garbage
              "dGhlIHNhbXBsZSBub25jZSE=",         // 17 bytes
              "!!!!!!!!!!!!!!!!!!!!!!==",         // not base64
          ])
    func invalidKey(key: String) throws {
        _ = try expectRefusal(RawWebSocket.handshakeRequest(headers: [("Sec-WebSocket-Key", key)]), status: 400)
    }

    @Test("§4.4 wrong or missing version → 426 with Sec-WebSocket-Version: 13",
          arguments: [nil, "8", "12", "14", "0", "thirteen"])
    func wrongVersion(version: String?) throws {
        let response = try expectRefusal(
            RawWebSocket.handshakeRequest(headers: [("Sec-WebSocket-Version", version)]), status: 426)
        #expect(response.values("Sec-WebSocket-Version").contains("13"), "\(response)")
    }

    @Test("§4.2.2 disallowed Origin → 403", arguments: ["https://evil.example", "http://good.example", "null"])
    func disallowedOrigin(origin: String) throws {
        _ = try expectRefusal(RawWebSocket.handshakeRequest(headers: [("Origin", origin)]), status: 403)
    }

    @Test("§4.2.2 allowed Origin → 101", arguments: ["https://good.example", "https://also-good.example"])
    func allowedOrigin(origin: String) throws {
        let ws = try RawWebSocket()
        try ws.upgrade(headers: [("Origin", origin)])
        try ws.expectEcho(opcode: Op.binary, [1, 2, 3])
        try ws.closeNormally()
    }

    @Test("A plain GET (no upgrade) → 426 from echo")
    func plainGet() throws {
        let (_, response) = try exchange("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        #expect(response.status == 426)
        #expect(response.value("Upgrade")?.lowercased() == "websocket")
        #expect(response.values("Sec-WebSocket-Version").contains("13"))
    }

    @Test("§4.2.1 an unknown subprotocol offer is not echoed")
    func unknownSubprotocol() throws {
        let ws = try RawWebSocket()
        let response = try ws.upgrade(headers: [("Sec-WebSocket-Protocol", "made.up.v1")])
        #expect(response.value("Sec-WebSocket-Protocol") == nil)
        try ws.closeNormally()
    }

    @Test("Frames sent in the same TCP write as the handshake request are processed")
    func earlyFrames() throws {
        let ws = try RawWebSocket()
        var bytes = Array(RawWebSocket.handshakeRequest().utf8)
        bytes += RawWebSocket.frame(opcode: Op.text, payload: Array("early one".utf8))
        bytes += RawWebSocket.frame(opcode: Op.ping, payload: Array("early ping".utf8))
        bytes += RawWebSocket.frame(opcode: Op.binary, payload: Array(repeating: 7, count: 300))
        try ws.write(bytes)
        let response = try ws.readHTTPResponse()
        try #require(response.status == 101)
        let first = try ws.readMessage()
        #expect(first.opcode == Op.text && first.payload == Array("early one".utf8))
        let pong = try ws.readFrame()
        #expect(pong.opcode == Op.pong && pong.payload == Array("early ping".utf8))
        let third = try ws.readMessage()
        #expect(third.opcode == Op.binary && third.payload == Array(repeating: 7, count: 300))
        try ws.closeNormally()
    }

    @Test("A close frame in the same write as the handshake request is answered")
    func earlyClose() throws {
        let ws = try RawWebSocket()
        try ws.write(Array(RawWebSocket.handshakeRequest().utf8)
                     + RawWebSocket.frame(opcode: Op.close, payload: RawWebSocket.closePayload(1000)))
        try #require(try ws.readHTTPResponse().status == 101)
        let close = try ws.readFrame()
        #expect(close.opcode == Op.close && close.closeCode == 1000)
        #expect(try ws.waitForTCPClose())
    }
}
