import Testing

/// RFC 6455 §5.5: control frames (ping, pong; close is in CloseTests).
@Suite("RFC 6455 §5.5 Control frames", .echoServer())
struct ControlFrameTests {
    private func open() throws -> RawWebSocket {
        let ws = try RawWebSocket()
        try ws.upgrade()
        return ws
    }

    @Test("§5.5.2/§5.5.3 a ping gets a pong with the same payload", arguments: [0, 1, 10, 124, 125])
    func pingPong(length: Int) throws {
        let ws = try open()
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: 255 - $0) }   // binary, not UTF-8
        try ws.sendFrame(opcode: Op.ping, payload: payload)
        let pong = try ws.readFrame()
        #expect(pong.opcode == Op.pong)
        #expect(pong.fin && pong.rsv == 0)
        #expect(pong.payload == payload)
        try ws.closeNormally()
    }

    @Test("§5.5.3 many pings in one write get one pong each, in order")
    func manyPings() throws {
        let ws = try open()
        var bytes: [UInt8] = []
        for i in 0..<20 { bytes += RawWebSocket.frame(opcode: Op.ping, payload: Array("ping \(i)".utf8)) }
        try ws.write(bytes)
        for i in 0..<20 {
            let pong = try ws.readFrame()
            #expect(pong.opcode == Op.pong && pong.text == "ping \(i)", "\(pong)")
        }
        try ws.closeNormally()
    }

    @Test("§5.5 a control frame payload over 125 bytes → 1002", arguments: [Op.ping, Op.pong, Op.close])
    func controlTooLong(opcode: UInt8) throws {
        let ws = try open()
        var payload = Array(repeating: UInt8(ascii: "x"), count: 126)
        if opcode == Op.close { payload = RawWebSocket.closePayload(1000, reason: Array(repeating: 0x61, count: 124)) }
        try ws.sendFrame(opcode: opcode, payload: payload)
        try ws.expectClose(1002)
    }

    @Test("§5.5 a fragmented control frame → 1002", arguments: [Op.ping, Op.pong, Op.close])
    func fragmentedControl(opcode: UInt8) throws {
        let ws = try open()
        let payload = opcode == Op.close ? RawWebSocket.closePayload(1000) : Array("frag".utf8)
        try ws.sendFrame(fin: false, opcode: opcode, payload: payload)
        try ws.expectClose(1002)
    }

    @Test("§5.5.3 an unsolicited pong is ignored", arguments: [0, 5, 125])
    func unsolicitedPong(length: Int) throws {
        let ws = try open()
        try ws.sendFrame(opcode: Op.pong, payload: Array(repeating: 0x70, count: length))
        // Nothing answers the pong: the next frame from the server is the echo.
        try ws.expectEcho(opcode: Op.text, Array("after pong".utf8))
        try ws.closeNormally()
    }

    @Test("§5.5.2 a ping split byte by byte gets its pong")
    func pingByteByByte() throws {
        let ws = try open()
        try ws.writeInPieces(RawWebSocket.frame(opcode: Op.ping, payload: Array("slow ping".utf8)), chunk: 1)
        let pong = try ws.readFrame()
        #expect(pong.opcode == Op.pong && pong.text == "slow ping")
        try ws.closeNormally()
    }
}
