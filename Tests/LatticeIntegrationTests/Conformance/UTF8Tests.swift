import Testing

/// A named byte sequence for parameterised tests (readable test case names).
struct Bytes: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    init(_ name: String, _ bytes: [UInt8]) { self.name = name; self.bytes = bytes }
    var testDescription: String { name }
}

/// RFC 6455 §5.6 and §8.1: text messages must be valid UTF-8 (RFC 3629).
@Suite("RFC 6455 §5.6/§8.1 UTF-8 handling", .echoServer())
struct UTF8Tests {
    private func open() throws -> RawWebSocket {
        let ws = try RawWebSocket()
        try ws.upgrade()
        return ws
    }

    static let valid: [Bytes] = [
        Bytes("empty", []),
        Bytes("ASCII", Array("Hello, world".utf8)),
        Bytes("2-byte", Array("κόσμε µ ß ö".utf8)),
        Bytes("3-byte", Array("中文 € ∑".utf8)),
        Bytes("4-byte", Array("𝄞 😀 🇫🇷".utf8)),
        Bytes("U+0000", [0x00]),
        Bytes("U+007F", [0x7F]),
        Bytes("U+0080", [0xC2, 0x80]),
        Bytes("U+07FF", [0xDF, 0xBF]),
        Bytes("U+0800", [0xE0, 0xA0, 0x80]),
        Bytes("U+D7FF", [0xED, 0x9F, 0xBF]),
        Bytes("U+E000", [0xEE, 0x80, 0x80]),
        Bytes("U+FFFD", [0xEF, 0xBF, 0xBD]),
        Bytes("U+FFFF (noncharacter, still valid)", [0xEF, 0xBF, 0xBF]),
        Bytes("U+10000", [0xF0, 0x90, 0x80, 0x80]),
        Bytes("U+10FFFF", [0xF4, 0x8F, 0xBF, 0xBF]),
        Bytes("long mixed", Array(String(repeating: "aé中𝄞", count: 500).utf8)),
    ]

    static let invalid: [Bytes] = [
        Bytes("overlong 2-byte /", [0xC0, 0xAF]),
        Bytes("overlong C1", [0xC1, 0xBF]),
        Bytes("overlong 3-byte /", [0xE0, 0x80, 0xAF]),
        Bytes("overlong 4-byte /", [0xF0, 0x80, 0x80, 0xAF]),
        Bytes("overlong NUL", [0xC0, 0x80]),
        Bytes("surrogate U+D800", [0xED, 0xA0, 0x80]),
        Bytes("surrogate U+DFFF", [0xED, 0xBF, 0xBF]),
        Bytes("surrogate pair", [0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80]),
        Bytes("U+110000", [0xF4, 0x90, 0x80, 0x80]),
        Bytes("F5 lead", [0xF5, 0x80, 0x80, 0x80]),
        Bytes("F8 5-byte lead", [0xF8, 0x88, 0x80, 0x80, 0x80]),
        Bytes("FE", [0xFE]),
        Bytes("FF", [0xFF]),
        Bytes("truncated 2-byte at end", Array("abc".utf8) + [0xC3]),
        Bytes("truncated 3-byte at end", Array("abc".utf8) + [0xE2, 0x82]),
        Bytes("truncated 4-byte at end", Array("abc".utf8) + [0xF0, 0x9F, 0x98]),
        Bytes("truncated 3-byte in the middle", [0xE2, 0x82] + Array("abc".utf8)),
        Bytes("lone continuation", [0x80]),
        Bytes("continuation inside ASCII", Array("a".utf8) + [0xBF] + Array("b".utf8)),
        Bytes("invalid after valid text", Array("κόσμε".utf8) + [0xED, 0xA0, 0x80] + Array("edited".utf8)),
    ]

    @Test("§8.1 valid UTF-8 text echoes", arguments: valid)
    func validText(_ text: Bytes) throws {
        let ws = try open()
        try ws.expectEcho(opcode: Op.text, text.bytes)
        try ws.closeNormally()
    }

    @Test("§8.1 invalid UTF-8 in a text frame → 1007", arguments: invalid)
    func invalidText(_ text: Bytes) throws {
        let ws = try open()
        try ws.sendFrame(opcode: Op.text, payload: text.bytes)
        try ws.expectClose(1007)
    }

    @Test("§8.1 invalid UTF-8 is fine in a binary frame", arguments: invalid.prefix(5))
    func invalidBinary(_ data: Bytes) throws {
        let ws = try open()
        try ws.expectEcho(opcode: Op.binary, data.bytes)
        try ws.closeNormally()
    }

    static let multiByte = Array("κό𝄞中€x😀".utf8)

    @Test("§5.6 valid text split into two fragments at every byte position echoes",
          arguments: 0...multiByte.count)
    func validSplit(at position: Int) throws {
        let ws = try open()
        let bytes = Self.multiByte
        try ws.sendFrame(fin: false, opcode: Op.text, payload: Array(bytes[..<position]))
        try ws.sendFrame(fin: true, opcode: Op.continuation, payload: Array(bytes[position...]))
        let reply = try ws.readMessage()
        #expect(reply.opcode == Op.text && reply.payload == bytes)
        try ws.closeNormally()
    }

    static let invalidMultiByte = Array("κό𝄞".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("中€".utf8)

    @Test("§8.1 invalid text split into two fragments at every byte position → 1007",
          arguments: 0...invalidMultiByte.count)
    func invalidSplit(at position: Int) throws {
        let ws = try open()
        let bytes = Self.invalidMultiByte
        try ws.sendFrame(fin: false, opcode: Op.text, payload: Array(bytes[..<position]))
        try ws.sendFrame(fin: true, opcode: Op.continuation, payload: Array(bytes[position...]))
        try ws.expectClose(1007)
    }

    @Test("§8.1 a code point cut by the end of the message (across fragments) → 1007")
    func truncatedAcrossFragments() throws {
        let ws = try open()
        try ws.sendFrame(fin: false, opcode: Op.text, payload: Array("ok ".utf8) + [0xF0, 0x9F])
        try ws.sendFrame(fin: true, opcode: Op.continuation, payload: [0x98])
        try ws.expectClose(1007)
    }

    /// The server must fail as soon as the bytes cannot be valid (§8.1: "as soon as"),
    /// without waiting for the rest of the frame.
    @Test("§8.1 fail fast: 1007 before the rest of an invalid frame is sent",
          arguments: [Bytes("overlong", [0xC0, 0xAF]), Bytes("surrogate", [0xED, 0xA0]),
                      Bytes("above U+10FFFF", [0xF4, 0x90]), Bytes("lone continuation", [0x80]),
                      Bytes("FF", [0xFF])])
    func failFastInFrame(_ prefix: Bytes) throws {
        let ws = try open()
        let payload = Array("valid start ".utf8) + prefix.bytes + Array(repeating: 0x61, count: 2000)
        let frame = RawWebSocket.frame(opcode: Op.text, payload: payload)
        // Header (2 + 2 + 4 bytes) and the first part of the payload; the rest is never sent.
        try ws.write(Array(frame.prefix(8 + 12 + prefix.bytes.count)))
        try ws.expectClose(1007, answer: false)
    }

    @Test("§8.1 fail fast: 1007 on an invalid first fragment before the message continues")
    func failFastAcrossFragments() throws {
        let ws = try open()
        try ws.sendFrame(fin: false, opcode: Op.text, payload: Array("ok".utf8) + [0xED, 0xBF, 0xBF])
        try ws.expectClose(1007)
    }

    @Test("§8.1 fail fast in a continuation frame still being received")
    func failFastInContinuation() throws {
        let ws = try open()
        try ws.sendFrame(fin: false, opcode: Op.text, payload: Array("first ".utf8))
        let frame = RawWebSocket.frame(fin: true, opcode: Op.continuation,
                                       payload: Array("second ".utf8) + [0xC1] + Array(repeating: 0x62, count: 1000))
        try ws.write(Array(frame.prefix(8 + 8)))
        try ws.expectClose(1007, answer: false)
    }
}
