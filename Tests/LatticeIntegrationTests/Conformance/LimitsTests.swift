import Testing

/// RFC 6455 §10.4 (implementation-specific limits, failing with 1009 per §7.4.1),
/// with `lattice echo --max-message-size 1024 --max-frame-size 1024`.
@Suite("RFC 6455 §10.4 Size limits", .echoServer("--max-message-size", "1024", "--max-frame-size", "1024"))
struct LimitsTests {
    private func open(extensions: String? = nil) throws -> RawWebSocket {
        let ws = try RawWebSocket()
        try ws.upgrade(extensions: extensions)
        return ws
    }

    @Test("Messages up to the limit echo", arguments: [0, 1000, 1024])
    func atTheLimit(length: Int) throws {
        let ws = try open()
        try ws.expectEcho(opcode: Op.binary, Array(repeating: 0x42, count: length))
        try ws.closeNormally()
    }

    @Test("A frame larger than the limit → 1009 before its payload is sent",
          arguments: [(Op.binary, 1025), (Op.text, 1025), (Op.binary, 65535), (Op.binary, 1 << 40)])
    func frameTooLarge(opcode: UInt8, length: Int) throws {
        let ws = try open()
        // Only the header is written: the server must decide from the announced length.
        let header = RawWebSocket.frame(opcode: opcode, announcedLength: UInt64(length))
        try ws.write(header)
        try ws.expectClose(1009, answer: false)
    }

    @Test("A fragmented message exceeding the limit → 1009", arguments: [2, 3, 5])
    func fragmentedTooLarge(count: Int) throws {
        let ws = try open()
        // Each fragment is within the frame limit; together they exceed the message limit.
        let size = 1100 / count + 1
        for i in 0..<count {
            try ws.sendFrame(fin: i == count - 1, opcode: i == 0 ? Op.binary : Op.continuation,
                             payload: Array(repeating: 0x43, count: size))
        }
        try ws.expectClose(1009)
    }

    @Test("A fragmented message of exactly the limit echoes")
    func fragmentedAtLimit() throws {
        let ws = try open()
        for i in 0..<4 {
            try ws.sendFrame(fin: i == 3, opcode: i == 0 ? Op.text : Op.continuation,
                             payload: Array(repeating: 0x61, count: 256))
        }
        let reply = try ws.readMessage()
        #expect(reply.opcode == Op.text && reply.payload.count == 1024)
        try ws.closeNormally()
    }

    @Test("RFC 7692 §8.2: a compressed message inflating past the limit (a bomb) → 1009",
          arguments: [1024 + 1, 64 * 1024, 1 << 20])
    func compressionBomb(inflatedSize: Int) throws {
        let ws = try open(extensions: "permessage-deflate")
        let compressed = RawDeflater(level: 9).compress([UInt8](repeating: 0, count: inflatedSize))
        // Fragments within the frame limit; RSV1 only on the first.
        let pieces = stride(from: 0, to: compressed.count, by: 500).map { Array(compressed[$0..<min($0 + 500, compressed.count)]) }
        for (i, piece) in pieces.enumerated() {
            try ws.sendFrame(fin: i == pieces.count - 1, rsv: i == 0 ? 0x4 : 0,
                             opcode: i == 0 ? Op.binary : Op.continuation, payload: piece)
        }
        try ws.expectClose(1009)
    }

    @Test("RFC 7692: a compressed message inflating to exactly the limit echoes")
    func compressedAtLimit() throws {
        let ws = try open(extensions: "permessage-deflate")
        let message = [UInt8](repeating: 0x61, count: 1024)
        try ws.sendFrame(rsv: 0x4, opcode: Op.text, payload: RawDeflater().compress(message))
        let reply = try ws.readMessage(inflater: RawInflater())
        #expect(reply.opcode == Op.text && reply.payload == message)
        try ws.closeNormally()
    }
}
