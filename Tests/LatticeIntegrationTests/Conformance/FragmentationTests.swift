import Testing

/// RFC 6455 §5.4: fragmentation, and control frames between fragments.
@Suite("RFC 6455 §5.4 Fragmentation", .echoServer())
struct FragmentationTests {
    private func open() throws -> RawWebSocket {
        let ws = try RawWebSocket()
        try ws.upgrade()
        return ws
    }

    /// The frames of `payload` cut into `count` fragments (some possibly empty).
    static func fragments(opcode: UInt8, _ payload: [UInt8], count: Int) -> [[UInt8]] {
        let size = (payload.count + count - 1) / max(count, 1)
        return (0..<count).map { i in
            let start = min(payload.count, i * size), end = min(payload.count, start + size)
            return RawWebSocket.frame(fin: i == count - 1, opcode: i == 0 ? opcode : Op.continuation,
                                      payload: Array(payload[start..<end]))
        }
    }

    @Test("§5.4 a text or binary message in N fragments echoes as one message",
          arguments: [Op.text, Op.binary], [1, 2, 3, 10, 100])
    func fragmentedMessage(opcode: UInt8, count: Int) throws {
        let ws = try open()
        let payload = Array(String(repeating: "fragment ✓ ", count: 40).utf8)
        for frame in Self.fragments(opcode: opcode, payload, count: count) {
            try ws.write(frame)
        }
        let reply = try ws.readMessage()
        #expect(reply.opcode == opcode)
        #expect(reply.payload == payload)
        try ws.closeNormally()
    }

    @Test("§5.4 empty fragments are allowed (first, middle and last)")
    func emptyFragments() throws {
        let ws = try open()
        try ws.write(RawWebSocket.frame(fin: false, opcode: Op.text, payload: [])
                     + RawWebSocket.frame(fin: false, opcode: Op.continuation, payload: Array("abc".utf8))
                     + RawWebSocket.frame(fin: false, opcode: Op.continuation, payload: [])
                     + RawWebSocket.frame(fin: true, opcode: Op.continuation, payload: []))
        let reply = try ws.readMessage()
        #expect(reply.opcode == Op.text && reply.payload == Array("abc".utf8))
        try ws.closeNormally()
    }

    @Test("§5.4 a continuation frame without a message in progress → 1002", arguments: [true, false])
    func continuationWithoutStart(fin: Bool) throws {
        let ws = try open()
        try ws.sendFrame(fin: fin, opcode: Op.continuation, payload: Array("orphan".utf8))
        try ws.expectClose(1002)
    }

    @Test("§5.4 a continuation after a complete message → 1002")
    func continuationAfterComplete() throws {
        let ws = try open()
        try ws.sendText("complete")
        #expect(try ws.readMessage().payload == Array("complete".utf8))
        try ws.sendFrame(opcode: Op.continuation, payload: Array("late".utf8))
        try ws.expectClose(1002)
    }

    @Test("§5.4 a new data frame while a fragmented message is in progress → 1002",
          arguments: [Op.text, Op.binary], [true, false])
    func newDataFrameDuringFragmented(second: UInt8, fin: Bool) throws {
        let ws = try open()
        try ws.sendFrame(fin: false, opcode: Op.text, payload: Array("first part".utf8))
        try ws.sendFrame(fin: fin, opcode: second, payload: Array("intruder".utf8))
        try ws.expectClose(1002)
    }

    @Test("§5.4/§5.5 control frames between fragments are answered and the message still arrives",
          arguments: [1, 3])
    func interleavedPings(pingsPerGap: Int) throws {
        let ws = try open()
        let parts = ["one ", "two ", "three ", "four"]
        var pingNumber = 0
        for (i, part) in parts.enumerated() {
            try ws.sendFrame(fin: i == parts.count - 1, opcode: i == 0 ? Op.text : Op.continuation,
                             payload: Array(part.utf8))
            guard i < parts.count - 1 else { break }
            for _ in 0..<pingsPerGap {
                pingNumber += 1
                try ws.sendFrame(opcode: Op.ping, payload: Array("ping \(pingNumber)".utf8))
                // The pong comes while the message is still incomplete.
                let pong = try ws.readFrame()
                #expect(pong.opcode == Op.pong && pong.text == "ping \(pingNumber)", "\(pong)")
            }
        }
        let reply = try ws.readMessage()
        #expect(reply.opcode == Op.text && reply.payload == Array(parts.joined().utf8))
        try ws.closeNormally()
    }

    @Test("§5.4 pings and pongs between fragments in one write")
    func interleavedControlOneWrite() throws {
        let ws = try open()
        try ws.write(RawWebSocket.frame(fin: false, opcode: Op.binary, payload: [1, 2])
                     + RawWebSocket.frame(opcode: Op.pong, payload: Array("unsolicited".utf8))
                     + RawWebSocket.frame(fin: false, opcode: Op.continuation, payload: [3])
                     + RawWebSocket.frame(opcode: Op.ping, payload: Array("p".utf8))
                     + RawWebSocket.frame(fin: true, opcode: Op.continuation, payload: [4]))
        let pong = try ws.readFrame()
        #expect(pong.opcode == Op.pong && pong.text == "p")
        let reply = try ws.readMessage()
        #expect(reply.opcode == Op.binary && reply.payload == [1, 2, 3, 4])
        try ws.closeNormally()
    }

    @Test("§5.4/§5.5.1 a close frame between fragments closes the connection normally")
    func closeBetweenFragments() throws {
        let ws = try open()
        try ws.sendFrame(fin: false, opcode: Op.text, payload: Array("half".utf8))
        try ws.sendFrame(opcode: Op.close, payload: RawWebSocket.closePayload(1000))
        let close = try ws.readFrame()
        #expect(close.opcode == Op.close && close.closeCode == 1000, "\(close)")
        #expect(try ws.waitForTCPClose())
    }
}
