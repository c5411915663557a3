import Foundation
import Testing

/// An offer and the response the server should give (nil: the offer is declined,
/// so no Sec-WebSocket-Extensions header at all).
struct Negotiation: CustomTestStringConvertible, Sendable {
    var offers: [String]
    var expected: [String: String?]?
    init(_ offers: String..., expect expected: [String: String?]?) {
        self.offers = offers
        self.expected = expected
    }
    var testDescription: String { offers.joined(separator: " | ") }
}

/// The parameters of a `permessage-deflate` response header (names lowercased, quotes removed).
func parseDeflateResponse(_ value: String) -> (name: String, parameters: [String: String?], count: Int) {
    let elements = value.split(separator: ",")
    let parts = (elements.first ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
    var parameters: [String: String?] = [:]
    for part in parts.dropFirst() {
        if let eq = part.firstIndex(of: "=") {
            var v = part[part.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if v.hasPrefix("\"") && v.hasSuffix("\"") && v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            parameters[part[..<eq].trimmingCharacters(in: .whitespaces).lowercased()] = .some(v)
        } else {
            parameters[part.lowercased()] = .some(nil)
        }
    }
    return (parts.first?.lowercased() ?? "", parameters, elements.count)
}

/// Messages whose repeats sit at distances just above each window size, so a server
/// that compresses with a larger window than agreed makes replies that do not inflate.
let windowProbeMessages: [[UInt8]] = {
    var seed: UInt32 = 12345
    func block(_ n: Int) -> [UInt8] {
        (0..<n).map { _ in
            seed = seed &* 1_103_515_245 &+ 12345
            return UInt8(ascii: "a") + UInt8((seed >> 16) % 26)
        }
    }
    return [300, 600, 1100, 2100, 4200, 8300, 16500, 33000].map { size in
        let b = block(size)
        return b + b + Array("end \(size)".utf8)
    }
}()

/// RFC 7692: the permessage-deflate extension.
@Suite("RFC 7692 permessage-deflate", .echoServer())
struct PerMessageDeflateTests {
    private func open(extensions: String?) throws -> (RawWebSocket, HTTPResponse) {
        let ws = try RawWebSocket()
        let response = try ws.upgrade(extensions: extensions)
        return (ws, response)
    }

    static let negotiations: [Negotiation] = [
        Negotiation("permessage-deflate", expect: [:]),
        Negotiation("permessage-deflate; server_no_context_takeover", expect: ["server_no_context_takeover": nil]),
        Negotiation("permessage-deflate; client_no_context_takeover", expect: ["client_no_context_takeover": nil]),
        Negotiation("permessage-deflate; client_no_context_takeover; server_no_context_takeover",
                    expect: ["client_no_context_takeover": nil, "server_no_context_takeover": nil]),
        Negotiation("permessage-deflate; client_max_window_bits", expect: [:]),
        Negotiation("permessage-deflate; client_max_window_bits=10", expect: [:]),
        Negotiation("permessage-deflate; client_max_window_bits=15", expect: [:]),
        Negotiation("permessage-deflate; server_max_window_bits=\"10\"", expect: ["server_max_window_bits": "10"]),
        Negotiation("PerMessage-Deflate; Server_No_Context_Takeover", expect: ["server_no_context_takeover": nil]),
        Negotiation("permessage-deflate;server_max_window_bits=12;client_max_window_bits",
                    expect: ["server_max_window_bits": "12"]),
    ] + (8...15).map {
        Negotiation("permessage-deflate; server_max_window_bits=\($0)", expect: ["server_max_window_bits": "\($0)"])
    } + [
        // Declined: invalid or unknown parameters, or another extension.
        Negotiation("permessage-deflate; server_max_window_bits=7", expect: nil),
        Negotiation("permessage-deflate; server_max_window_bits=16", expect: nil),
        Negotiation("permessage-deflate; server_max_window_bits=0", expect: nil),
        Negotiation("permessage-deflate; server_max_window_bits=08", expect: nil),
        Negotiation("permessage-deflate; server_max_window_bits", expect: nil),
        Negotiation("permessage-deflate; server_max_window_bits=ten", expect: nil),
        Negotiation("permessage-deflate; client_max_window_bits=7", expect: nil),
        Negotiation("permessage-deflate; client_max_window_bits=16", expect: nil),
        Negotiation("permessage-deflate; client_max_window_bits=\"\"", expect: nil),
        Negotiation("permessage-deflate; server_no_context_takeover=1", expect: nil),
        Negotiation("permessage-deflate; client_no_context_takeover=true", expect: nil),
        Negotiation("permessage-deflate; server_no_context_takeover; server_no_context_takeover", expect: nil),
        Negotiation("permessage-deflate; server_max_window_bits=10; server_max_window_bits=11", expect: nil),
        Negotiation("permessage-deflate; unknown_parameter", expect: nil),
        Negotiation("permessage-deflate; mode=fast", expect: nil),
        Negotiation("x-webkit-deflate-frame", expect: nil),
        Negotiation("deflate-frame; no_context_takeover", expect: nil),
        // Several offers: the first acceptable one wins.
        Negotiation("permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=10",
                    expect: ["server_max_window_bits": "10"]),
        Negotiation("permessage-deflate; foo, permessage-deflate", expect: [:]),
        Negotiation("x-webkit-deflate-frame, permessage-deflate; client_no_context_takeover",
                    expect: ["client_no_context_takeover": nil]),
        Negotiation("permessage-deflate; server_no_context_takeover, permessage-deflate",
                    expect: ["server_no_context_takeover": nil]),
        Negotiation("permessage-deflate; server_max_window_bits=9, permessage-deflate; server_max_window_bits=12",
                    expect: ["server_max_window_bits": "9"]),
        // Offers in separate header lines.
        Negotiation("permessage-deflate; bogus", "permessage-deflate; server_max_window_bits=11",
                    expect: ["server_max_window_bits": "11"]),
    ]

    @Test("§5/§7.1 negotiation: the response to each offer", arguments: negotiations)
    func negotiation(_ case_: Negotiation) throws {
        let ws = try RawWebSocket()
        try ws.write(RawWebSocket.handshakeRequest(headers: []).replacingOccurrences(
            of: "\r\n\r\n",
            with: "\r\n" + case_.offers.map { "Sec-WebSocket-Extensions: \($0)\r\n" }.joined() + "\r\n"))
        let response = try ws.readHTTPResponse()
        try #require(response.status == 101, "\(response)")
        let header = response.values("Sec-WebSocket-Extensions")
        guard let expected = case_.expected else {
            #expect(header.isEmpty, "declined offers must get no extension header, got \(header)")
            try ws.closeNormally()
            return
        }
        try #require(header.count == 1, "\(response)")
        let parsed = parseDeflateResponse(header[0])
        #expect(parsed.count == 1, "exactly one extension accepted: \(header[0])")
        #expect(parsed.name == "permessage-deflate")
        #expect(parsed.parameters == expected, "response: \(header[0])")
        // The agreed parameters work: a compressed message echoes.
        let window = parsed.parameters["server_max_window_bits"].flatMap { $0 }.flatMap(Int.init) ?? 15
        let message = Array("negotiated: \(header[0])".utf8)
        try ws.sendFrame(rsv: 0x4, opcode: Op.text, payload: RawDeflater().compress(message))
        #expect(try ws.readMessage(inflater: RawInflater(windowBits: window)).payload == message)
        try ws.closeNormally()
    }

    @Test("§7.2 a compressed and an uncompressed message on the same connection both echo")
    func compressedAndPlain() throws {
        let (ws, _) = try open(extensions: "permessage-deflate")
        let inflater = RawInflater()
        let deflater = RawDeflater()
        let text = Array("Hello, compressed world! Hello, compressed world!".utf8)
        try ws.sendFrame(rsv: 0x4, opcode: Op.text, payload: deflater.compress(text))
        let first = try ws.readMessage(inflater: inflater)
        #expect(first.opcode == Op.text && first.payload == text)
        try ws.sendFrame(opcode: Op.binary, payload: [9, 8, 7])
        let second = try ws.readMessage(inflater: inflater)
        #expect(second.opcode == Op.binary && second.payload == [9, 8, 7])
        try ws.sendFrame(rsv: 0x4, opcode: Op.text, payload: deflater.compress([]))
        let empty = try ws.readMessage(inflater: inflater)
        #expect(empty.opcode == Op.text && empty.payload.isEmpty)
        try ws.closeNormally()
    }

    @Test("§7.2.3.6 an empty message as a single 00 byte")
    func emptyBlock() throws {
        let (ws, _) = try open(extensions: "permessage-deflate")
        try ws.sendFrame(rsv: 0x4, opcode: Op.binary, payload: [0x00])
        let reply = try ws.readMessage(inflater: RawInflater())
        #expect(reply.opcode == Op.binary && reply.payload.isEmpty)
        try ws.closeNormally()
    }

    @Test("§7.1.1 client compression with and without context takeover", arguments: [false, true])
    func clientContextTakeover(noContextTakeover: Bool) throws {
        let offer = "permessage-deflate" + (noContextTakeover ? "; client_no_context_takeover" : "")
        let (ws, response) = try open(extensions: offer)
        #expect(response.value("Sec-WebSocket-Extensions")?.contains("client_no_context_takeover") == noContextTakeover)
        let deflater = RawDeflater(noContextTakeover: noContextTakeover)
        let inflater = RawInflater()
        let message = Array(String(repeating: "context takeover lets the second copy be tiny. ", count: 20).utf8)
        var sizes: [Int] = []
        for i in 0..<5 {
            let compressed = deflater.compress(message)
            sizes.append(compressed.count)
            try ws.sendFrame(rsv: 0x4, opcode: Op.text, payload: compressed)
            let reply = try ws.readMessage(inflater: inflater)
            #expect(reply.payload == message, "message \(i)")
        }
        // Sanity check of the test itself: with takeover, later messages refer to earlier ones.
        if noContextTakeover { #expect(Set(sizes).count == 1) } else { #expect(sizes[1] < sizes[0]) }
        try ws.closeNormally()
    }

    @Test("§7.1.2.2 the client compresses with the window it offered in client_max_window_bits",
          arguments: 8...15)
    func clientWindow(bits: Int) throws {
        let (ws, response) = try open(extensions: "permessage-deflate; client_max_window_bits=\(bits)")
        let header = try #require(response.value("Sec-WebSocket-Extensions"))
        // §7.1.2.2: offering a value already binds the client to it; the response may only lower it.
        let answered = parseDeflateResponse(header).parameters["client_max_window_bits"].flatMap { $0 }.flatMap(Int.init)
        #expect(answered ?? bits <= bits, "\(header)")
        let deflater = RawDeflater(windowBits: min(bits, answered ?? bits))
        let inflater = RawInflater()
        for message in windowProbeMessages.prefix(5) {
            try ws.sendFrame(rsv: 0x4, opcode: Op.binary, payload: deflater.compress(message))
            #expect(try ws.readMessage(inflater: inflater).payload == message)
        }
        try ws.closeNormally()
    }

    /// The server must compress within the window it agreed to: replies are inflated with
    /// exactly that window (zlib refuses distances beyond it). With server_no_context_takeover
    /// each reply must inflate with a fresh inflater.
    @Test("§7.1.2.1/§7.1.1.1 server replies respect server_max_window_bits and server_no_context_takeover",
          arguments: 8...15, [false, true])
    func serverWindow(bits: Int, noContextTakeover: Bool) throws {
        var offer = "permessage-deflate; server_max_window_bits=\(bits)"
        if noContextTakeover { offer += "; server_no_context_takeover" }
        let (ws, response) = try open(extensions: offer)
        let header = try #require(response.value("Sec-WebSocket-Extensions"))
        let parameters = parseDeflateResponse(header).parameters
        let agreed = parameters["server_max_window_bits"].flatMap { $0 }.flatMap(Int.init) ?? 15
        #expect(agreed <= bits, "\(header)")
        #expect((parameters["server_no_context_takeover"] != nil) == noContextTakeover, "\(header)")
        let deflater = RawDeflater()
        var inflater = RawInflater(windowBits: agreed)
        // Each message twice, so that with context takeover the second reply may refer to the first.
        for message in windowProbeMessages + windowProbeMessages {
            if noContextTakeover { inflater = RawInflater(windowBits: agreed) }
            try ws.sendFrame(rsv: 0x4, opcode: Op.binary, payload: deflater.compress(message))
            let reply = try ws.readMessage(inflater: inflater)
            #expect(reply.payload == message)
        }
        try ws.closeNormally()
    }

    @Test("§6.1 a fragmented compressed message: RSV1 on the first frame only", arguments: [2, 3, 7])
    func fragmentedCompressed(count: Int) throws {
        let (ws, _) = try open(extensions: "permessage-deflate")
        let message = Array(String(repeating: "fragmented and compressed ☃ ", count: 50).utf8)
        let compressed = RawDeflater().compress(message)
        let size = (compressed.count + count - 1) / count
        for i in 0..<count {
            let piece = Array(compressed[min(compressed.count, i * size)..<min(compressed.count, (i + 1) * size)])
            try ws.sendFrame(fin: i == count - 1, rsv: i == 0 ? 0x4 : 0,
                             opcode: i == 0 ? Op.text : Op.continuation, payload: piece)
        }
        let reply = try ws.readMessage(inflater: RawInflater())
        #expect(reply.opcode == Op.text && reply.payload == message)
        try ws.closeNormally()
    }

    @Test("§6.1 a compressed message with a ping between its fragments")
    func compressedWithInterleavedPing() throws {
        let (ws, _) = try open(extensions: "permessage-deflate")
        let message = Array(String(repeating: "interleaved ", count: 30).utf8)
        let compressed = RawDeflater().compress(message)
        let half = compressed.count / 2
        try ws.sendFrame(fin: false, rsv: 0x4, opcode: Op.binary, payload: Array(compressed[..<half]))
        try ws.sendFrame(opcode: Op.ping, payload: Array("mid".utf8))
        let pong = try ws.readFrame()
        #expect(pong.opcode == Op.pong && pong.rsv == 0 && pong.text == "mid", "\(pong)")
        try ws.sendFrame(fin: true, opcode: Op.continuation, payload: Array(compressed[half...]))
        #expect(try ws.readMessage(inflater: RawInflater()).payload == message)
        try ws.closeNormally()
    }

    @Test("§6.1 RSV1 on a continuation frame → 1002")
    func rsv1OnContinuation() throws {
        let (ws, _) = try open(extensions: "permessage-deflate")
        let compressed = RawDeflater().compress(Array("two halves of a message".utf8))
        try ws.sendFrame(fin: false, rsv: 0x4, opcode: Op.text, payload: Array(compressed.prefix(5)))
        try ws.sendFrame(fin: true, rsv: 0x4, opcode: Op.continuation, payload: Array(compressed.dropFirst(5)))
        try ws.expectClose(1002)
    }

    @Test("§6.1 RSV1 on a control frame → 1002", arguments: [Op.ping, Op.pong, Op.close])
    func rsv1OnControl(opcode: UInt8) throws {
        let (ws, _) = try open(extensions: "permessage-deflate")
        let payload = opcode == Op.close ? RawWebSocket.closePayload(1000) : Array("compressed?".utf8)
        try ws.sendFrame(rsv: 0x4, opcode: opcode, payload: payload)
        try ws.expectClose(1002)
    }

    @Test("RSV2 and RSV3 stay reserved when permessage-deflate is on → 1002", arguments: [UInt8(0x2), 0x1, 0x6])
    func otherReservedBits(rsv: UInt8) throws {
        let (ws, _) = try open(extensions: "permessage-deflate")
        try ws.sendFrame(rsv: rsv, opcode: Op.binary, payload: RawDeflater().compress([1, 2, 3]))
        try ws.expectClose(1002)
    }

    @Test("RSV1 without a negotiated permessage-deflate → 1002")
    func rsv1WithoutNegotiation() throws {
        let (ws, _) = try open(extensions: "permessage-deflate; server_max_window_bits=99")   // declined
        try ws.sendFrame(rsv: 0x4, opcode: Op.text, payload: RawDeflater().compress(Array("hi".utf8)))
        try ws.expectClose(1002)
    }

    @Test("§8.1 a compressed text that inflates to invalid UTF-8 → 1007")
    func compressedInvalidUTF8() throws {
        let (ws, _) = try open(extensions: "permessage-deflate")
        try ws.sendFrame(rsv: 0x4, opcode: Op.text, payload: RawDeflater().compress(Array("abc".utf8) + [0xED, 0xA0, 0x80]))
        try ws.expectClose(1007)
    }

    @Test("A compressed text split across fragments with a code point cut between them echoes")
    func compressedUTF8AcrossFragments() throws {
        let (ws, _) = try open(extensions: "permessage-deflate")
        let text = Array("𝄞𝄞𝄞".utf8)
        let deflater = RawDeflater()
        // Two fragments whose inflated contents split the first 4-byte character.
        let payload = deflater.compress(text)
        try ws.sendFrame(fin: false, rsv: 0x4, opcode: Op.text, payload: Array(payload.prefix(1)))
        try ws.sendFrame(fin: true, opcode: Op.continuation, payload: Array(payload.dropFirst(1)))
        #expect(try ws.readMessage(inflater: RawInflater()).payload == text)
        try ws.closeNormally()
    }

    @Test("Compressed data that does not inflate fails the connection (1007)")
    func corruptCompressedData() throws {
        let (ws, _) = try open(extensions: "permessage-deflate")
        // 0xFF: BTYPE 11, a reserved block type.
        try ws.sendFrame(rsv: 0x4, opcode: Op.binary, payload: [0xFF, 0xFF, 0xFF, 0xFF])
        try ws.expectClose(1007)
    }

    @Suite("With --no-deflate", .echoServer("--no-deflate"))
    struct Disabled {
        @Test("Offers are declined and RSV1 frames fail with 1002")
        func declined() throws {
            let ws = try RawWebSocket()
            let response = try ws.upgrade(extensions: "permessage-deflate; client_max_window_bits")
            #expect(response.value("Sec-WebSocket-Extensions") == nil)
            try ws.sendFrame(rsv: 0x4, opcode: Op.text, payload: RawDeflater().compress(Array("hi".utf8)))
            try ws.expectClose(1002)
        }
    }
}
