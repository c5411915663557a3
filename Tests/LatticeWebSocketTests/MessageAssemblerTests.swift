import NIOCore
import Testing

@testable import LatticeWebSocket

func frame(_ opcode: WebSocketOpcode, _ bytes: [UInt8], fin: Bool = true, rsv1: Bool = false) -> WebSocketFrame {
    WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, payload: ByteBuffer(bytes: bytes))
}

func frame(_ opcode: WebSocketOpcode, _ text: String, fin: Bool = true) -> WebSocketFrame {
    frame(opcode, Array(text.utf8), fin: fin)
}

func header(_ opcode: WebSocketOpcode, fin: Bool = true, rsv1: Bool = false, length: Int) -> WebSocketFrameHeader {
    WebSocketFrameHeader(fin: fin, reservedBits: rsv1 ? 0x40 : 0, opcode: opcode, maskKey: nil,
                         payloadLength: length, headerLength: 2)
}

/// Compresses `messages` with one compressor, as a peer would, each as one payload.
func compressAll(_ messages: [[UInt8]], windowBits: Int = 15, noContextTakeover: Bool) -> [[UInt8]] {
    let compressor = DeflateCompressor(windowBits: windowBits, noContextTakeover: noContextTakeover)
    return messages.map { Array(buffer: compressor.compress(ByteBuffer(bytes: $0), allocator: ByteBufferAllocator())) }
}

@Suite struct MessageAssemblerTests {
    static let deflate = PerMessageDeflateParameters()
    static let deflateNoTakeover = PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true)

    func assembler(max: Int = 1 << 20, deflate: PerMessageDeflateParameters? = nil,
                   role: WebSocketFrameParser.Role = .server) -> WebSocketMessageAssembler {
        WebSocketMessageAssembler(maxMessageSize: max, deflate: deflate, role: role)
    }

    @Test func singleFrameMessagesAreDeliveredAsIs() throws {
        var a = assembler()
        let text = try #require(try a.receive(frame(.text, "héllo")))
        #expect(text.kind == .text && text.text == "héllo")
        let binary = try #require(try a.receive(frame(.binary, [0xFF, 0x00, 0xC0])))
        #expect(binary.kind == .binary && Array(buffer: binary.data) == [0xFF, 0x00, 0xC0])
        let empty = try #require(try a.receive(frame(.text, [])))
        #expect(empty.kind == .text && empty.data.readableBytes == 0)
    }

    @Test func fragmentsAreJoined() throws {
        var a = assembler()
        #expect(try a.receive(frame(.text, "Hel", fin: false)) == nil)
        #expect(try a.receive(frame(.continuation, "", fin: false)) == nil)
        #expect(try a.receive(frame(.continuation, "lo ", fin: false)) == nil)
        let m = try #require(try a.receive(frame(.continuation, "wörld")))
        #expect(m.kind == .text && m.text == "Hello wörld")
        // Then a binary message in two fragments, and the assembler is ready again.
        #expect(try a.receive(frame(.binary, [1, 2], fin: false)) == nil)
        let b = try #require(try a.receive(frame(.continuation, [3])))
        #expect(b.kind == .binary && Array(buffer: b.data) == [1, 2, 3])
        #expect(try a.receive(frame(.text, "next"))?.text == "next")
    }

    @Test func aCharacterMaySpanFragments() throws {
        var a = assembler()
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        #expect(try a.receive(frame(.text, [0x41, euro[0]], fin: false)) == nil)
        #expect(try a.receive(frame(.continuation, [euro[1]], fin: false)) == nil)
        #expect(try a.receive(frame(.continuation, [euro[2]]))?.text == "A€")
    }

    @Test func continuationWithoutAMessage() {
        var a = assembler()
        #expect(throws: WebSocketProtocolError.unexpectedContinuation) { try a.receive(frame(.continuation, "x")) }
        var b = assembler()
        #expect(throws: WebSocketProtocolError.unexpectedContinuation) {
            try b.receivePartial(header(.continuation, length: 10), ByteBuffer(string: "abc"))
        }
    }

    @Test func newMessageDuringAFragmentedOne() throws {
        var a = assembler()
        _ = try a.receive(frame(.text, "a", fin: false))
        #expect(throws: WebSocketProtocolError.expectedContinuation) { try a.receive(frame(.binary, [1])) }
        var b = assembler()
        _ = try b.receive(frame(.binary, [1], fin: false))
        #expect(throws: WebSocketProtocolError.expectedContinuation) {
            try b.receivePartial(header(.text, length: 10), ByteBuffer(string: "abc"))
        }
    }

    @Test func invalidUTF8() throws {
        var a = assembler()
        #expect(throws: WebSocketProtocolError.invalidUTF8) { try a.receive(frame(.text, [0x41, 0xC0, 0x80])) }
        // Truncated at the end of the message.
        var b = assembler()
        #expect(throws: WebSocketProtocolError.invalidUTF8) { try b.receive(frame(.text, [0x41, 0xE2, 0x82])) }
        var c = assembler()
        _ = try c.receive(frame(.text, [0x41, 0xE2], fin: false))
        #expect(throws: WebSocketProtocolError.invalidUTF8) { try c.receive(frame(.continuation, [0x82])) }
        // Fails fast: in the first fragment already.
        var d = assembler()
        #expect(throws: WebSocketProtocolError.invalidUTF8) { try d.receive(frame(.text, [0xED, 0xA0], fin: false)) }
        // Binary messages are not checked.
        var e = assembler()
        #expect(try e.receive(frame(.binary, [0xC0, 0x80])) != nil)
    }

    @Test func partialPayloadsAreValidatedBeforeTheFrameEnds() throws {
        var a = assembler()
        let bytes = Array("naïve café".utf8)
        // The parser reports the first 7 bytes early, then the whole frame.
        try a.receivePartial(header(.text, length: bytes.count), ByteBuffer(bytes: bytes[0..<3]))
        try a.receivePartial(header(.text, length: bytes.count), ByteBuffer(bytes: bytes[3..<7]))
        #expect(try a.receive(frame(.text, bytes))?.text == "naïve café")
        // Bad bytes are refused in the partial already.
        var b = assembler()
        #expect(throws: WebSocketProtocolError.invalidUTF8) {
            try b.receivePartial(header(.text, length: 100), ByteBuffer(bytes: [0x41, 0xF5]))
        }
        // A continuation's partial bytes carry on the message's validation state.
        var c = assembler()
        #expect(try c.receive(frame(.text, [0x41, 0xE2], fin: false)) == nil)
        try c.receivePartial(header(.continuation, length: 5), ByteBuffer(bytes: [0x82]))
        #expect(throws: WebSocketProtocolError.invalidUTF8) {
            try c.receivePartial(header(.continuation, length: 5), ByteBuffer(bytes: [0x41]))
        }
        // Partials of a binary message, a compressed text or a control frame are not checked.
        var d = assembler(deflate: Self.deflate)
        try d.receivePartial(header(.binary, length: 5), ByteBuffer(bytes: [0xFF]))
        try d.receivePartial(header(.text, rsv1: true, length: 5), ByteBuffer(bytes: [0xFF]))
        try d.receivePartial(header(.ping, length: 5), ByteBuffer(bytes: [0xFF]))
    }

    @Test func partialThenCompleteFrameInAFragmentedMessage() throws {
        var a = assembler()
        let first = Array("€uro ".utf8), second = Array("and ünïcode".utf8)
        try a.receivePartial(header(.text, fin: false, length: first.count), ByteBuffer(bytes: first.prefix(2)))
        #expect(try a.receive(frame(.text, first, fin: false)) == nil)
        try a.receivePartial(header(.continuation, length: second.count), ByteBuffer(bytes: second.prefix(6)))
        #expect(try a.receive(frame(.continuation, second))?.text == "€uro and ünïcode")
    }

    @Test func sizeLimits() throws {
        var a = assembler(max: 10)
        #expect(try a.receive(frame(.binary, Array(repeating: 1, count: 10))) != nil)
        #expect(throws: WebSocketProtocolError.messageTooLarge) { try a.receive(frame(.binary, Array(repeating: 1, count: 11))) }
        var b = assembler(max: 10)
        _ = try b.receive(frame(.text, "12345", fin: false))
        _ = try b.receive(frame(.continuation, "12345", fin: false))
        #expect(throws: WebSocketProtocolError.messageTooLarge) { try b.receive(frame(.continuation, "1")) }
        var c = assembler(max: 10)
        _ = try c.receive(frame(.binary, [1, 2, 3, 4, 5], fin: false))
        #expect(try c.receive(frame(.continuation, [6, 7, 8, 9, 10]))?.data.readableBytes == 10)
    }

    @Test(arguments: [false, true])
    func compressedMessages(noContextTakeover: Bool) throws {
        let params = noContextTakeover ? Self.deflateNoTakeover : Self.deflate
        let texts = ["Hello, hello, hello!", "Hello, hello, hello!", "", "ünïcödé ünïcödé", String(repeating: "abc", count: 5000)]
        let compressed = compressAll(texts.map { Array($0.utf8) }, noContextTakeover: noContextTakeover)
        if !noContextTakeover {
            // With context takeover the repeated message refers back to the first one.
            #expect(compressed[1].count < compressed[0].count)
        }
        var a = assembler(deflate: params)
        for (text, payload) in zip(texts, compressed) {
            #expect(try a.receive(frame(.text, payload, rsv1: true))?.text == text)
        }
        // The same, each message fragmented into 1–3 byte frames.
        let again = compressAll(texts.map { Array($0.utf8) }, noContextTakeover: noContextTakeover)
        var b = assembler(deflate: params)
        for (text, payload) in zip(texts, again) {
            var rest = payload[...]
            var first = true
            var message: WebSocketMessage? = nil
            repeat {
                let n = min(rest.count, 1 + rest.count % 3)
                let part = Array(rest.prefix(n))
                rest = rest.dropFirst(n)
                message = try b.receive(frame(first ? .text : .continuation, part, fin: rest.isEmpty, rsv1: first))
                first = false
            } while !rest.isEmpty
            #expect(message?.text == text)
        }
    }

    @Test func compressedBinaryAndUncompressedMixed() throws {
        let compressed = compressAll([[1, 2, 3, 1, 2, 3, 1, 2, 3], [4, 4, 4, 4]], noContextTakeover: false)
        var a = assembler(deflate: Self.deflate)
        #expect(try a.receive(frame(.binary, compressed[0], rsv1: true)).map { Array(buffer: $0.data) } == [1, 2, 3, 1, 2, 3, 1, 2, 3])
        #expect(try a.receive(frame(.text, "plain"))?.text == "plain")
        #expect(try a.receive(frame(.binary, compressed[1], rsv1: true)).map { Array(buffer: $0.data) } == [4, 4, 4, 4])
    }

    @Test func roleSelectsThePeersContextTakeover() throws {
        // As a client we inflate what the server compressed: server_no_context_takeover applies.
        let params = PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: false)
        let messages = [Array("repeat repeat repeat".utf8), Array("repeat repeat repeat".utf8)]
        let compressed = compressAll(messages, noContextTakeover: true)
        var client = assembler(deflate: params, role: .client)
        for (m, c) in zip(messages, compressed) {
            #expect(try client.receive(frame(.text, c, rsv1: true)).map { Array(buffer: $0.data) } == m)
        }
    }

    @Test func compressionBombIsStoppedAtTheLimit() throws {
        let big = [UInt8](repeating: 0x61, count: 1 << 20)
        let compressed = compressAll([big], noContextTakeover: true)[0]
        #expect(compressed.count < 2000)
        var a = assembler(max: 64 * 1024, deflate: Self.deflate)
        #expect(throws: WebSocketProtocolError.messageTooLarge) { try a.receive(frame(.text, compressed, rsv1: true)) }
        // Fragmented bomb: stopped in the fragment that crosses the limit.
        var b = assembler(max: 64 * 1024, deflate: Self.deflate)
        let half = compressed.count / 2
        #expect(throws: WebSocketProtocolError.messageTooLarge) {
            _ = try b.receive(frame(.binary, Array(compressed[..<half]), fin: false, rsv1: true))
            _ = try b.receive(frame(.continuation, Array(compressed[half...])))
        }
        // Exactly at the limit is fine.
        let exact = [UInt8](repeating: 0x62, count: 5000)
        var c = assembler(max: 5000, deflate: Self.deflate)
        #expect(try c.receive(frame(.binary, compressAll([exact], noContextTakeover: true)[0], rsv1: true))?.data.readableBytes == 5000)
        var d = assembler(max: 4999, deflate: Self.deflate)
        #expect(throws: WebSocketProtocolError.messageTooLarge) {
            try d.receive(frame(.binary, compressAll([exact], noContextTakeover: true)[0], rsv1: true))
        }
    }

    @Test func invalidUTF8InCompressedText() throws {
        let bad: [UInt8] = Array("valid start ".utf8) + [0xED, 0xA0, 0x80] + Array(" end".utf8)
        var a = assembler(deflate: Self.deflate)
        #expect(throws: WebSocketProtocolError.invalidUTF8) {
            try a.receive(frame(.text, compressAll([bad], noContextTakeover: false)[0], rsv1: true))
        }
        // Truncated character at the end of a compressed message.
        var b = assembler(deflate: Self.deflate)
        #expect(throws: WebSocketProtocolError.invalidUTF8) {
            try b.receive(frame(.text, compressAll([[0x41, 0xF0, 0x9F]], noContextTakeover: false)[0], rsv1: true))
        }
        // As binary the same bytes are fine.
        var c = assembler(deflate: Self.deflate)
        #expect(try c.receive(frame(.binary, compressAll([bad], noContextTakeover: false)[0], rsv1: true))?.data.readableBytes == bad.count)
    }

    @Test func corruptCompressedData() {
        var a = assembler(deflate: Self.deflate)
        // Block type 3 is reserved in deflate.
        #expect(throws: WebSocketProtocolError.invalidCompressedData) { try a.receive(frame(.binary, [0xFF, 0xFF, 0xFF], rsv1: true)) }
    }

    @Test func compressedFrameWithoutNegotiatedDeflate() {
        var a = assembler()
        #expect(throws: WebSocketProtocolError.reservedBitsSet) { try a.receive(frame(.text, [0xF2, 0x48, 0x05, 0x00], rsv1: true)) }
    }

    @Test func rfc7692Examples() throws {
        // RFC 7692 §7.2.3.1: "Hello" compressed, in one frame and in two fragments.
        let hello: [UInt8] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        var a = assembler(deflate: Self.deflate, role: .client)
        #expect(try a.receive(frame(.text, hello, rsv1: true))?.text == "Hello")
        var b = assembler(deflate: Self.deflate, role: .client)
        #expect(try b.receive(frame(.text, [0xf2, 0x48, 0xcd], fin: false, rsv1: true)) == nil)
        #expect(try b.receive(frame(.continuation, [0xc9, 0xc9, 0x07, 0x00]))?.text == "Hello")
        // §7.2.3.2: the second "Hello" with context takeover refers back to the first.
        #expect(try a.receive(frame(.text, [0xf2, 0x00, 0x11, 0x00, 0x00], rsv1: true))?.text == "Hello")
        // §7.2.3.3: a stored (uncompressed) block.
        var c = assembler(deflate: Self.deflate, role: .client)
        #expect(try c.receive(frame(.text, [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00], rsv1: true))?.text == "Hello")
        // §7.2.3.4: BFINAL set, then the tail is still appended.
        var d = assembler(deflate: Self.deflate, role: .client)
        #expect(try d.receive(frame(.text, [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00], rsv1: true))?.text == "Hello")
        #expect(try d.receive(frame(.text, hello, rsv1: true))?.text == "Hello")
    }
}
