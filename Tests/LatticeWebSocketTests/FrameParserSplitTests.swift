import NIOCore
import Testing

@testable import LatticeWebSocket

/// The parser must give the same frames (and the same error) whatever way the
/// byte stream is cut into reads.
@Suite struct FrameParserSplitTests {
    static let keyA: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
    static let keyB: [UInt8] = [0x00, 0xFF, 0x80, 0x01]

    static func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func pattern(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix(seed: seed)
        return randomBytes(count, using: &rng)
    }

    /// Streams of valid frames, unmasked; each is sent masked to a server and unmasked to a client.
    static let corpus: [(name: String, frames: [WireFrame], allowedRSV: UInt8)] = [
        ("text", [WireFrame(opcode: 0x1, payload: text("Hello"))], 0),
        ("empty binary", [WireFrame(opcode: 0x2, payload: [])], 0),
        ("125-byte ping", [WireFrame(opcode: 0x9, payload: pattern(125, seed: 1))], 0),
        ("empty pong and close", [WireFrame(opcode: 0xA, payload: []),
                                  WireFrame(opcode: 0x8, payload: [0x03, 0xE8] + text("bye"))], 0),
        ("126 bytes (16-bit length)", [WireFrame(opcode: 0x2, payload: pattern(126, seed: 2))], 0),
        ("1000 bytes", [WireFrame(opcode: 0x1, payload: Array(repeating: 0x61, count: 1000))], 0),
        ("65535 bytes (largest 16-bit length)", [WireFrame(opcode: 0x2, payload: pattern(65535, seed: 3))], 0),
        ("65536 bytes (64-bit length)", [WireFrame(opcode: 0x2, payload: pattern(65536, seed: 4))], 0),
        ("fragmented text with interleaved control frames", [
            WireFrame(fin: false, opcode: 0x1, payload: text("Hel")),
            WireFrame(opcode: 0x9, payload: text("ping")),
            WireFrame(fin: false, opcode: 0x0, payload: text("lo, ")),
            WireFrame(opcode: 0xA, payload: []),
            WireFrame(fin: false, opcode: 0x0, payload: []),
            WireFrame(opcode: 0x0, payload: text("wörld")),
        ], 0),
        ("fragmented binary across length forms", [
            WireFrame(fin: false, opcode: 0x2, payload: pattern(7, seed: 5)),
            WireFrame(fin: false, opcode: 0x0, payload: pattern(300, seed: 6)),
            WireFrame(opcode: 0x0, payload: pattern(1, seed: 7)),
        ], 0),
        ("many small frames back to back", (0..<40).map { i in
            WireFrame(opcode: i % 3 == 0 ? 0x9 : 0x1, payload: Array(repeating: UInt8(0x41 + i % 26), count: i % 9))
        }, 0),
        ("compressed frames with RSV1 allowed", [
            WireFrame(rsv: 0x40, opcode: 0x1, payload: [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]),
            WireFrame(fin: false, rsv: 0x40, opcode: 0x2, payload: pattern(200, seed: 8)),
            WireFrame(opcode: 0x0, payload: pattern(3, seed: 9)),
        ], 0x40),
        ("mixed sizes back to back", [
            WireFrame(opcode: 0x2, payload: pattern(125, seed: 10)),
            WireFrame(opcode: 0x2, payload: pattern(126, seed: 11)),
            WireFrame(opcode: 0x9, payload: []),
            WireFrame(opcode: 0x2, payload: pattern(127, seed: 12)),
            WireFrame(opcode: 0x1, payload: text("é")),
        ], 0),
    ]

    static let cases: [(name: String, stream: [UInt8], expected: [SeenFrame], role: WebSocketFrameParser.Role, allowedRSV: UInt8)] = {
        var cases: [(String, [UInt8], [SeenFrame], WebSocketFrameParser.Role, UInt8)] = []
        for (name, frames, rsv) in corpus {
            let expected = frames.map(\.expected)
            var masked = frames
            for i in masked.indices { masked[i].mask = i % 2 == 0 ? keyA : keyB }
            cases.append(("\(name), masked, server", masked.flatMap(\.bytes), expected, .server, rsv))
            cases.append(("\(name), unmasked, client", frames.flatMap(\.bytes), expected, .client, rsv))
        }
        return cases
    }()

    @Test(arguments: 0..<cases.count)
    func sameFramesForEverySplit(_ index: Int) {
        let c = Self.cases[index]
        for chunks in chunkings(for: c.stream.count, seed: UInt64(index)) {
            let outcome = parse(c.stream, chunks: chunks, role: c.role, allowedReservedBits: c.allowedRSV)
            #expect(outcome.error == nil, "\(c.name), chunks \(chunks.prefix(8))")
            #expect(outcome.frames == c.expected, "\(c.name), chunks \(chunks.prefix(8))")
            if outcome.frames != c.expected || outcome.error != nil { return }
        }
    }

    // MARK: errors

    struct BadCase {
        var name: String
        var bad: WireFrame
        var role: WebSocketFrameParser.Role = .server
        var maxFrameSize = 16 << 20
        var allowedRSV: UInt8 = 0
        var error: WebSocketProtocolError
    }

    static let badCases: [BadCase] = [
        BadCase(name: "RSV1 without extension", bad: WireFrame(rsv: 0x40, opcode: 0x1, payload: text("x"), mask: keyA),
                error: .reservedBitsSet),
        BadCase(name: "RSV2 with deflate", bad: WireFrame(rsv: 0x20, opcode: 0x1, payload: text("x"), mask: keyA),
                allowedRSV: 0x40, error: .reservedBitsSet),
        BadCase(name: "RSV3", bad: WireFrame(rsv: 0x10, opcode: 0x2, payload: [], mask: keyA), role: .server,
                error: .reservedBitsSet),
        BadCase(name: "RSV1 on client side", bad: WireFrame(rsv: 0x40, opcode: 0x2, payload: [1, 2]), role: .client,
                error: .reservedBitsSet),
        BadCase(name: "opcode 3", bad: WireFrame(opcode: 0x3, payload: [], mask: keyA), error: .unknownOpcode(3)),
        BadCase(name: "opcode 7", bad: WireFrame(opcode: 0x7, payload: [9]), role: .client, error: .unknownOpcode(7)),
        BadCase(name: "opcode B", bad: WireFrame(opcode: 0xB, payload: [], mask: keyA), error: .unknownOpcode(0xB)),
        BadCase(name: "opcode F", bad: WireFrame(opcode: 0xF, payload: [1]), role: .client, error: .unknownOpcode(0xF)),
        BadCase(name: "ping of 126 bytes", bad: WireFrame(opcode: 0x9, payload: pattern(126, seed: 20), mask: keyA),
                error: .controlFrameTooLong(126)),
        BadCase(name: "close with 64-bit length", bad: WireFrame(opcode: 0x8, payload: [3, 0xE8], lengthForm: .sixtyFour), role: .client,
                error: .controlFrameTooLong(127)),
        BadCase(name: "fragmented ping", bad: WireFrame(fin: false, opcode: 0x9, payload: [1], mask: keyA),
                error: .controlFrameFragmented),
        BadCase(name: "fragmented close", bad: WireFrame(fin: false, opcode: 0x8, payload: []), role: .client,
                error: .controlFrameFragmented),
        BadCase(name: "compressed pong", bad: WireFrame(rsv: 0x40, opcode: 0xA, payload: [], mask: keyA),
                allowedRSV: 0x40, error: .compressedControlFrame),
        BadCase(name: "compressed continuation", bad: WireFrame(rsv: 0x40, opcode: 0x0, payload: [1], mask: keyA),
                allowedRSV: 0x40, error: .compressedContinuation),
        BadCase(name: "unmasked frame to a server", bad: WireFrame(opcode: 0x1, payload: text("hi")),
                error: .maskRequired),
        BadCase(name: "unmasked ping to a server", bad: WireFrame(opcode: 0x9, payload: []), error: .maskRequired),
        BadCase(name: "masked frame to a client", bad: WireFrame(opcode: 0x2, payload: [1, 2, 3], mask: keyB),
                role: .client, error: .maskForbidden),
        BadCase(name: "16-bit length for 125 bytes",
                bad: WireFrame(opcode: 0x2, payload: pattern(125, seed: 21), mask: keyA, lengthForm: .sixteen),
                error: .nonMinimalLength),
        BadCase(name: "16-bit length for 0 bytes", bad: WireFrame(opcode: 0x2, payload: [], lengthForm: .sixteen),
                role: .client, error: .nonMinimalLength),
        BadCase(name: "64-bit length for 65535 bytes",
                bad: WireFrame(opcode: 0x2, payload: [], mask: keyA, lengthForm: .sixtyFour, declaredLength: 65535),
                error: .nonMinimalLength),
        BadCase(name: "64-bit length for 5 bytes",
                bad: WireFrame(opcode: 0x1, payload: text("hello"), lengthForm: .sixtyFour), role: .client,
                error: .nonMinimalLength),
        BadCase(name: "64-bit length with the high bit set",
                bad: WireFrame(opcode: 0x2, payload: [], mask: keyA, lengthForm: .sixtyFour, declaredLength: 1 << 63),
                error: .lengthHighBitSet),
        BadCase(name: "64-bit length all ones",
                bad: WireFrame(opcode: 0x2, payload: [], lengthForm: .sixtyFour, declaredLength: .max), role: .client,
                error: .lengthHighBitSet),
        BadCase(name: "7-bit length over the limit", bad: WireFrame(opcode: 0x2, payload: pattern(101, seed: 22), mask: keyA),
                maxFrameSize: 100, error: .frameTooLarge(101)),
        BadCase(name: "16-bit length over the limit",
                bad: WireFrame(opcode: 0x1, payload: [], lengthForm: .sixteen, declaredLength: 4000), role: .client,
                maxFrameSize: 3999, error: .frameTooLarge(4000)),
        BadCase(name: "64-bit length over the limit",
                bad: WireFrame(opcode: 0x2, payload: [], mask: keyA, lengthForm: .sixtyFour, declaredLength: 1 << 40),
                error: .frameTooLarge(1 << 40)),
        BadCase(name: "64-bit length just over the limit",
                bad: WireFrame(opcode: 0x0, payload: [], lengthForm: .sixtyFour, declaredLength: 70_001), role: .client,
                maxFrameSize: 70_000, error: .frameTooLarge(70_001)),
        BadCase(name: "largest 63-bit length",
                bad: WireFrame(opcode: 0x2, payload: [], mask: keyA, lengthForm: .sixtyFour, declaredLength: UInt64(Int.max)),
                error: .frameTooLarge(Int.max)),
        BadCase(name: "control frame limit is checked before the frame size limit",
                bad: WireFrame(opcode: 0x9, payload: pattern(126, seed: 23), mask: keyA), maxFrameSize: 10,
                error: .controlFrameTooLong(126)),
    ]

    @Test(arguments: 0..<badCases.count)
    func errorForEverySplitAfterTheGoodFrames(_ index: Int) {
        let c = Self.badCases[index]
        let masked = c.role == .server
        var good = [
            WireFrame(opcode: 0x1, payload: Self.text("before")),
            WireFrame(opcode: 0x9, payload: [7]),
            WireFrame(fin: false, opcode: 0x2, payload: Self.pattern(9, seed: 30)),
        ]
        if masked { for i in good.indices { good[i].mask = Self.keyA } }
        // Good frames, the bad one, and a good frame after it that must never be delivered.
        var after = WireFrame(opcode: 0x2, payload: [1, 2, 3])
        if masked { after.mask = Self.keyB }
        let stream = good.flatMap(\.bytes) + c.bad.bytes + after.bytes
        let expected = good.map(\.expected)
        for chunks in chunkings(for: stream.count, seed: UInt64(index), random: 8) {
            let outcome = parse(stream, chunks: chunks, role: c.role, maxFrameSize: c.maxFrameSize,
                                allowedReservedBits: c.allowedRSV)
            #expect(outcome == ParseOutcome(frames: expected, error: c.error), "\(c.name), chunks \(chunks.prefix(8))")
            if outcome != ParseOutcome(frames: expected, error: c.error) { return }
        }
    }

    @Test func errorIsRaisedAsSoonAsTheHeaderIsKnown() throws {
        // Only the two first bytes of a frame with a reserved opcode: no need to wait for the rest.
        var parser = WebSocketFrameParser(role: .server)
        var buffer = ByteBuffer(bytes: [0x83, 0x85])
        #expect(throws: WebSocketProtocolError.unknownOpcode(3)) { try parser.parse(&buffer) { _ in } }
        // A too-large 64-bit length is refused once the whole header (mask key included) is in.
        var parser2 = WebSocketFrameParser(role: .server, maxFrameSize: 1000)
        var buffer2 = ByteBuffer(bytes: [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0])
        try parser2.parse(&buffer2) { _ in Issue.record("no event expected") }
        buffer2.writeBytes([1, 2, 3, 4])
        #expect(throws: WebSocketProtocolError.frameTooLarge(65536)) { try parser2.parse(&buffer2) { _ in } }
    }
}

/// `.partialPayload` events and in-place unmasking at odd offsets.
@Suite struct PartialPayloadTests {
    @Test func partialsConcatenateToThePayloadAtEveryMaskOffset() throws {
        var rng = SplitMix(seed: 99)
        let payload = randomBytes(1000, using: &rng)
        let key: [UInt8] = [0xA1, 0xB2, 0xC3, 0xD4]
        let stream = WireFrame(opcode: 0x2, payload: payload, mask: key).bytes
        let headerLength = stream.count - payload.count
        // Cut after the header at every offset 0…40, then in steps of 1, 2, 3, 5, 7 and 13 bytes.
        for first in 0...40 {
            for step in [1, 2, 3, 5, 7, 13] {
                var parser = WebSocketFrameParser(role: .server)
                var buffer = ByteBufferAllocator().buffer(capacity: 0)
                var partials: [[UInt8]] = []
                var frame: SeenFrame? = nil
                var position = 0
                var cuts = [headerLength + first]
                while cuts.last! < stream.count { cuts.append(min(stream.count, cuts.last! + step)) }
                for cut in cuts {
                    buffer.writeBytes(stream[position..<cut])
                    position = cut
                    try parser.parse(&buffer) { event in
                        switch event {
                        case .frame(let f): frame = SeenFrame(f)
                        case .partialPayload(let header, let bytes):
                            #expect(header.payloadLength == 1000 && header.maskKey == WebSocketMaskKey(0xA1, 0xB2, 0xC3, 0xD4))
                            partials.append(Array(buffer: bytes))
                        }
                    }
                }
                let joined = partials.flatMap { $0 }
                #expect(frame?.payload == payload, "first \(first), step \(step)")
                #expect(joined == Array(payload.prefix(joined.count)), "first \(first), step \(step)")
                // Every byte but those of the last read was reported as partial.
                let lastRead = stream.count - (cuts.count >= 2 ? cuts[cuts.count - 2] : headerLength)
                #expect(joined.count == payload.count - lastRead, "first \(first), step \(step)")
            }
        }
    }

    @Test func partialSlicesHeldByTheCallerStayValid() throws {
        // The caller keeps the partial slices (the buffer is then shared) while more bytes arrive.
        let payload = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        let stream = WireFrame(opcode: 0x1, payload: payload, mask: [9, 8, 7, 6]).bytes
        var parser = WebSocketFrameParser(role: .server)
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        var kept: [ByteBuffer] = []
        var frame: WebSocketFrame? = nil
        for i in 0..<stream.count {
            buffer.writeBytes(stream[i...i])
            try parser.parse(&buffer) { event in
                switch event {
                case .frame(let f): frame = f
                case .partialPayload(_, let bytes): kept.append(bytes)
                }
            }
        }
        #expect(kept.flatMap { Array(buffer: $0) } == Array(payload.dropLast()))
        #expect(frame.map { Array(buffer: $0.payload) } == payload)
        #expect(buffer.readableBytes == 0)
    }

    @Test func noPartialForAHeaderAloneOrACompleteFrame() throws {
        var parser = WebSocketFrameParser(role: .client)
        // A whole frame then only the header of the next: one frame, no partial.
        var buffer = ByteBuffer(bytes: WireFrame(opcode: 0x1, payload: [0x61]).bytes + [0x82, 0x05])
        var events: [String] = []
        try parser.parse(&buffer) { event in
            switch event {
            case .frame: events.append("frame")
            case .partialPayload: events.append("partial")
            }
        }
        #expect(events == ["frame"])
        #expect(buffer.readableBytes == 2)
        // The same call with nothing new reports nothing.
        try parser.parse(&buffer) { _ in events.append("again") }
        #expect(events == ["frame"])
    }
}
