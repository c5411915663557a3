import Testing

/// RFC 6455 §5.1–§5.3: base framing, masking and payload lengths.
@Suite("RFC 6455 §5.2 Base framing", .echoServer())
struct FramingTests {
    /// A connection after a plain handshake (no extension).
    private func open() throws -> RawWebSocket {
        let ws = try RawWebSocket()
        try ws.upgrade()
        return ws
    }

    @Test("§5.2 reserved bits without a negotiated extension → 1002",
          arguments: [UInt8(0x4), 0x2, 0x1, 0x7])
    func reservedBits(rsv: UInt8) throws {
        let ws = try open()
        try ws.sendFrame(rsv: rsv, opcode: Op.text, payload: Array("rsv".utf8))
        try ws.expectClose(1002)
    }

    @Test("§5.2 reserved bits on a control frame → 1002", arguments: [UInt8(0x4), 0x2, 0x1])
    func reservedBitsOnPing(rsv: UInt8) throws {
        let ws = try open()
        try ws.sendFrame(rsv: rsv, opcode: Op.ping, payload: Array("x".utf8))
        try ws.expectClose(1002)
    }

    @Test("§5.2 reserved opcodes → 1002", arguments: [UInt8(3), 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
    func reservedOpcodes(opcode: UInt8) throws {
        let ws = try open()
        try ws.sendFrame(opcode: opcode, payload: Array("reserved".utf8))
        try ws.expectClose(1002)
    }

    @Test("§5.2 a reserved opcode after a valid message still fails; the valid message is echoed first")
    func reservedOpcodeAfterMessage() throws {
        let ws = try open()
        try ws.write(RawWebSocket.frame(opcode: Op.text, payload: Array("ok".utf8))
                     + RawWebSocket.frame(opcode: 5, payload: []))
        let message = try ws.readMessage()
        #expect(message.payload == Array("ok".utf8))
        try ws.expectClose(1002)
    }

    @Test("§5.1 an unmasked client frame → 1002", arguments: [Op.text, Op.binary, Op.ping, Op.close])
    func unmaskedFrame(opcode: UInt8) throws {
        let ws = try open()
        let payload = opcode == Op.close ? RawWebSocket.closePayload(1000) : Array("unmasked".utf8)
        try ws.sendFrame(opcode: opcode, payload: payload, masked: false)
        try ws.expectClose(1002)
    }

    @Test("§5.3 an all-zero mask key works")
    func zeroMaskKey() throws {
        let ws = try open()
        try ws.write(RawWebSocket.frame(opcode: Op.text, payload: Array("zero key".utf8), maskKey: [0, 0, 0, 0]))
        #expect(try ws.readMessage().payload == Array("zero key".utf8))
        try ws.closeNormally()
    }

    @Test("§5.2 7-bit, 16-bit and 64-bit payload lengths echo, with minimal length encoding back",
          arguments: [0, 1, 125, 126, 127, 65535, 65536, 200_000])
    func payloadLengths(length: Int) throws {
        let ws = try open()
        let binary = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try ws.sendFrame(opcode: Op.binary, payload: binary)
        let frame = try ws.readFrame()   // readFrame rejects non-minimal lengths
        #expect(frame.opcode == Op.binary && frame.fin && frame.rsv == 0)
        #expect(frame.payload == binary)
        let text = String(repeating: "a", count: length)
        try ws.expectEcho(opcode: Op.text, Array(text.utf8))
        try ws.closeNormally()
    }

    @Test("§5.2 a non-minimal length encoding → 1002", arguments: [(5, 2), (125, 2), (200, 8), (65535, 8)])
    func nonMinimalLength(length: Int, lengthBytes: Int) throws {
        let ws = try open()
        try ws.write(RawWebSocket.frame(opcode: Op.binary, payload: Array(repeating: 1, count: length),
                                        lengthBytes: lengthBytes))
        try ws.expectClose(1002)
    }

    @Test("§5.2 a 64-bit length with the most significant bit set → 1002")
    func lengthHighBit() throws {
        let ws = try open()
        try ws.write(RawWebSocket.frame(opcode: Op.binary, lengthBytes: 8, announcedLength: 1 << 63 | 5))
        try ws.expectClose(1002)
    }

    @Test("A small frame sent byte by byte echoes", arguments: [Op.text, Op.binary])
    func byteByByte(opcode: UInt8) throws {
        let ws = try open()
        let payload = Array("split into single bytes: héllo wörld".utf8)
        try ws.writeInPieces(RawWebSocket.frame(opcode: opcode, payload: payload), chunk: 1)
        let reply = try ws.readMessage()
        #expect(reply.opcode == opcode && reply.payload == payload)
        try ws.closeNormally()
    }

    @Test("A 16-bit and a 64-bit length header split across writes", arguments: [300, 70_000])
    func headerSplit(length: Int) throws {
        let ws = try open()
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
        let frame = RawWebSocket.frame(opcode: Op.binary, payload: payload)
        // Header byte by byte, then the payload in uneven pieces.
        let headerLength = length > 65535 ? 14 : 8
        try ws.writeInPieces(Array(frame.prefix(headerLength)), chunk: 1)
        try ws.writeInPieces(Array(frame.dropFirst(headerLength)), chunk: 997)
        #expect(try ws.readMessage().payload == payload)
        try ws.closeNormally()
    }

    @Test("Many frames in one write all echo, in order")
    func manyFramesOneWrite() throws {
        let ws = try open()
        var bytes: [UInt8] = []
        let messages = (0..<50).map { "message \($0) " + String(repeating: "x", count: $0 * 7) }
        for message in messages { bytes += RawWebSocket.frame(opcode: Op.text, payload: Array(message.utf8)) }
        try ws.write(bytes)
        for message in messages {
            let reply = try ws.readMessage()
            #expect(reply.opcode == Op.text && reply.payload == Array(message.utf8))
        }
        try ws.closeNormally()
    }

    @Test("Frames whose boundaries fall anywhere in the TCP stream echo", arguments: [1, 2, 3, 5, 7, 13, 64])
    func arbitrarySegmentation(chunk: Int) throws {
        let ws = try open()
        var bytes: [UInt8] = []
        let messages: [[UInt8]] = [[], Array(repeating: 0xAB, count: 130), Array("naïve 𝄞".utf8), [0, 1, 2]]
        for (i, message) in messages.enumerated() {
            bytes += RawWebSocket.frame(opcode: i == 2 ? Op.text : Op.binary, payload: message)
        }
        try ws.writeInPieces(bytes, chunk: chunk, pauseMicroseconds: 50)
        for message in messages {
            #expect(try ws.readMessage().payload == message)
        }
        try ws.closeNormally()
    }
}
