import Testing

/// RFC 6455 §5.5.1, §7: the closing handshake and close status codes (§7.4).
@Suite("RFC 6455 §7 Closing handshake and status codes", .echoServer())
struct CloseTests {
    private func open() throws -> RawWebSocket {
        let ws = try RawWebSocket()
        try ws.upgrade()
        return ws
    }

    @Test("§7.4 a valid close code is echoed in the server's close, then TCP closes",
          arguments: [UInt16(1000), 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                      3000, 3999, 4000, 4999])
    func validCode(code: UInt16) throws {
        let ws = try open()
        try ws.sendFrame(opcode: Op.close, payload: RawWebSocket.closePayload(code, reason: Array("bye ✓".utf8)))
        let close = try ws.readFrame()
        #expect(close.opcode == Op.close && close.fin && close.rsv == 0, "\(close)")
        #expect(close.closeCode == code, "\(close)")
        #expect(close.payload.count <= 125)
        #expect(try ws.waitForTCPClose(), "§7.1.1: the server closes TCP first after the closing handshake")
    }

    @Test("§7.4 an invalid close code → 1002",
          arguments: [UInt16(0), 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])
    func invalidCode(code: UInt16) throws {
        let ws = try open()
        try ws.sendFrame(opcode: Op.close, payload: RawWebSocket.closePayload(code))
        let close = try ws.readFrame()
        #expect(close.opcode == Op.close, "\(close)")
        #expect(close.closeCode == 1002, "\(close)")
        #expect(try ws.waitForTCPClose())
    }

    @Test("§5.5.1 a close payload of 1 byte → 1002")
    func oneBytePayload() throws {
        let ws = try open()
        try ws.sendFrame(opcode: Op.close, payload: [0x03])
        let close = try ws.readFrame()
        #expect(close.opcode == Op.close && close.closeCode == 1002, "\(close)")
        #expect(try ws.waitForTCPClose())
    }

    @Test("§5.5.1 an empty close gets an empty close back")
    func emptyClose() throws {
        let ws = try open()
        try ws.sendFrame(opcode: Op.close)
        let close = try ws.readFrame()
        #expect(close.opcode == Op.close, "\(close)")
        #expect(close.payload.isEmpty, "\(close): no code was received, so none is sent back (1005 must not be sent)")
        #expect(try ws.waitForTCPClose())
    }

    @Test("§5.5.1 a close reason that is not UTF-8 → 1007",
          arguments: [[UInt8(0xFF)], [0xC0, 0xAF], [0xED, 0xA0, 0x80], Array("ok".utf8) + [0xE2, 0x82]])
    func invalidReason(reason: [UInt8]) throws {
        let ws = try open()
        try ws.sendFrame(opcode: Op.close, payload: RawWebSocket.closePayload(1000, reason: reason))
        let close = try ws.readFrame()
        #expect(close.opcode == Op.close && close.closeCode == 1007, "\(close)")
        #expect(try ws.waitForTCPClose())
    }

    @Test("§5.5.1 a close reason of the maximum 123 bytes is accepted")
    func longestReason() throws {
        let ws = try open()
        try ws.sendFrame(opcode: Op.close, payload: RawWebSocket.closePayload(1000, reason: Array(repeating: 0x7A, count: 123)))
        let close = try ws.readFrame()
        #expect(close.opcode == Op.close && close.closeCode == 1000, "\(close)")
        #expect(try ws.waitForTCPClose())
    }

    @Test("§5.5.1 after the close frame, nothing more is sent: frames after it are ignored")
    func framesAfterClose() throws {
        let ws = try open()
        try ws.write(RawWebSocket.frame(opcode: Op.close, payload: RawWebSocket.closePayload(1000))
                     + RawWebSocket.frame(opcode: Op.text, payload: Array("too late".utf8))
                     + RawWebSocket.frame(opcode: Op.ping, payload: Array("too late".utf8)))
        let close = try ws.readFrame()
        #expect(close.opcode == Op.close && close.closeCode == 1000, "\(close)")
        // waitForTCPClose fails if any frame (echo or pong) arrives before the TCP close.
        #expect(try ws.waitForTCPClose())
    }

    @Test("§7.1.4 a close from the server after a protocol error is answered by our close; TCP then ends")
    func closeHandshakeAfterError() throws {
        let ws = try open()
        try ws.sendFrame(opcode: Op.text, payload: [0xFF])   // 1007: the stream stays in sync
        let close = try ws.readFrame()
        #expect(close.opcode == Op.close && close.closeCode == 1007, "\(close)")
        // While waiting for our close, the server sends nothing else (no echo of later frames).
        try ws.sendFrame(opcode: Op.text, payload: Array("ignored".utf8))
        try ws.sendFrame(opcode: Op.close, payload: RawWebSocket.closePayload(1000))
        #expect(try ws.waitForTCPClose(timeout: 10), "the server should close TCP once our close arrives")
    }
}
