// libFuzzer target for the frame parser and the message assembler.
//
// Built by scripts/fuzz.sh together with the LatticeWebSocket sources it needs,
// as one module, so it uses the engine's types directly (no import).
//
// Input layout: byte 0 chooses the limits and options, the rest is the byte
// stream a peer sends. For both roles the stream is parsed three ways (in one
// piece, in chunks derived from the input, and byte by byte when short) and
// every way must give the same frames and the same error. Every frame is
// checked against an independent decoding of the raw bytes, and data frames go
// through a WebSocketMessageAssembler (with and without permessage-deflate).

import NIOCore

@_cdecl("LLVMFuzzerTestOneInput")
public func latticeFrameParserFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let control = data[0]
    let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let options = FuzzOptions(control)
    for role in [WebSocketFrameParser.Role.server, .client] {
        let whole = runParser(stream, chunks: [stream.count], role: role, options: options)
        let chunked = runParser(stream, chunks: fuzzChunks(stream, seed: control), role: role, options: options)
        check(whole == chunked, "chunked parse differs from whole parse")
        if stream.count <= 600 {
            let single = runParser(stream, chunks: Array(repeating: 1, count: stream.count), role: role, options: options)
            check(whole == single, "byte-by-byte parse differs from whole parse")
        }
    }
    return 0
}

struct FuzzOptions {
    var allowedReservedBits: UInt8
    var maxFrameSize: Int
    var maxMessageSize: Int
    var deflate: PerMessageDeflateParameters?

    init(_ control: UInt8) {
        let rsvChoices: [UInt8] = [0, 0x40, 0x40, 0x70]
        let frameSizes = [0, 1, 125, 126, 1000, 65_535, 65_536, 1 << 20]
        let messageSizes = [0, 10, 1000, 1 << 20]
        allowedReservedBits = rsvChoices[Int(control & 0x03)]
        maxFrameSize = frameSizes[Int(control >> 2) & 0x07]
        maxMessageSize = messageSizes[Int(control >> 5) & 0x03]
        switch control >> 7 {
        case 0: deflate = allowedReservedBits & 0x40 != 0 ? PerMessageDeflateParameters() : nil
        default: deflate = allowedReservedBits & 0x40 != 0
            ? PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true) : nil
        }
    }
}

/// What one way of feeding the stream produced.
struct FuzzOutcome: Equatable {
    struct Frame: Equatable {
        var fin: Bool, rsv1: Bool, opcode: UInt8, payload: [UInt8]
    }
    var frames: [Frame] = []
    var error: WebSocketProtocolError? = nil
    /// Messages each assembler (without, with deflate) delivered, and whether it failed.
    /// (Which error it failed with may depend on the chunking: a partial frame is
    /// checked for UTF-8 before its completion is checked for size.)
    var messages: [[[UInt8]]] = [[], []]
    var assemblerFailed = [false, false]
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant violated: \(message())") }
}

/// Chunk sizes from a small PRNG seeded with the input, so the fuzzer controls them.
func fuzzChunks(_ stream: [UInt8], seed: UInt8) -> [Int] {
    var state: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(seed)
    for b in stream.prefix(64) { state = (state ^ UInt64(b)) &* 0x100_0000_01B3 }
    var chunks: [Int] = []
    var left = stream.count
    while left > 0 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let r = Int(truncatingIfNeeded: state >> 33)
        let size = r & 1 == 0 ? 1 + (r >> 1) % 7 : 1 + (r >> 1) % 200
        let n = min(size, left)
        chunks.append(n)
        left -= n
    }
    return chunks
}

/// An independent decoding of a header that the parser accepted.
struct ReferenceHeader {
    var fin: Bool, rsv: UInt8, opcode: UInt8, mask: [UInt8]?, payloadLength: Int, headerLength: Int

    init?(_ bytes: [UInt8], at offset: Int) {
        guard bytes.count - offset >= 2 else { return nil }
        let b0 = bytes[offset], b1 = bytes[offset + 1]
        fin = b0 & 0x80 != 0
        rsv = b0 & 0x70
        opcode = b0 & 0x0F
        var length = UInt64(b1 & 0x7F)
        var cursor = offset + 2
        let extra = length == 126 ? 2 : (length == 127 ? 8 : 0)
        guard bytes.count - cursor >= extra else { return nil }
        if extra > 0 {
            length = 0
            for i in 0..<extra { length = length << 8 | UInt64(bytes[cursor + i]) }
            cursor += extra
        }
        if b1 & 0x80 != 0 {
            guard bytes.count - cursor >= 4 else { return nil }
            mask = Array(bytes[cursor..<(cursor + 4)])
            cursor += 4
        } else {
            mask = nil
        }
        guard length < UInt64(Int.max) else { return nil }
        payloadLength = Int(length)
        headerLength = cursor - offset
    }
}

func runParser(_ stream: [UInt8], chunks: [Int], role: WebSocketFrameParser.Role, options: FuzzOptions) -> FuzzOutcome {
    var parser = WebSocketFrameParser(role: role, maxFrameSize: options.maxFrameSize,
                                      allowedReservedBits: options.allowedReservedBits)
    var assemblers = [
        WebSocketMessageAssembler(maxMessageSize: options.maxMessageSize, deflate: nil, role: role),
        WebSocketMessageAssembler(maxMessageSize: options.maxMessageSize, deflate: options.deflate, role: role),
    ]
    var outcome = FuzzOutcome()
    var buffer = ByteBufferAllocator().buffer(capacity: 0)
    var position = 0
    var consumed = 0
    var partial: [UInt8] = []
    var partialHeader: WebSocketFrameHeader? = nil

    func feedAssemblers(_ body: (inout WebSocketMessageAssembler) throws(WebSocketProtocolError) -> WebSocketMessage?) {
        for i in assemblers.indices where !outcome.assemblerFailed[i] {
            do {
                if let message = try body(&assemblers[i]) {
                    check(message.data.readableBytes <= options.maxMessageSize, "message over the size limit")
                    if message.kind == .text {
                        check(String(validating: Array(buffer: message.data), as: UTF8.self) != nil, "invalid UTF-8 delivered")
                    }
                    outcome.messages[i].append(Array(buffer: message.data))
                }
            } catch {
                outcome.assemblerFailed[i] = true
            }
        }
    }

    for chunk in chunks {
        buffer.writeBytes(stream[position..<(position + chunk)])
        position += chunk
        let readerBefore = buffer.readerIndex
        var consumedThisCall = 0
        do {
            try parser.parse(&buffer) { event in
                switch event {
                case .frame(let frame):
                    guard let ref = ReferenceHeader(stream, at: consumed) else {
                        check(false, "frame delivered without a complete header in the input")
                        return
                    }
                    let payload = Array(buffer: frame.payload)
                    check(ref.payloadLength == payload.count, "payload length \(payload.count) != header \(ref.payloadLength)")
                    check(consumed + ref.headerLength + ref.payloadLength <= position, "consumed more than the input")
                    check(payload.count <= options.maxFrameSize, "frame over the size limit")
                    check(frame.fin == ref.fin && frame.opcode.rawValue == ref.opcode && frame.rsv1 == (ref.rsv & 0x40 != 0),
                          "header bits differ")
                    check(ref.rsv & ~options.allowedReservedBits == 0, "reserved bits accepted")
                    check(frame.opcode.isKnown, "unknown opcode accepted")
                    check(role == .server ? ref.mask != nil : ref.mask == nil, "mask rule broken")
                    if frame.opcode.isControl { check(frame.fin && payload.count <= 125 && !frame.rsv1, "bad control frame") }
                    let start = consumed + ref.headerLength
                    for i in 0..<payload.count {
                        let raw = stream[start + i] ^ (ref.mask?[i & 3] ?? 0)
                        check(payload[i] == raw, "payload byte \(i) wrongly unmasked")
                    }
                    if partialHeader != nil {
                        check(payload.starts(with: partial), "partial payloads are not a prefix of the payload")
                    }
                    partialHeader = nil
                    partial = []
                    consumed += ref.headerLength + ref.payloadLength
                    consumedThisCall += ref.headerLength + ref.payloadLength
                    outcome.frames.append(.init(fin: frame.fin, rsv1: frame.rsv1, opcode: frame.opcode.rawValue, payload: payload))
                    if !frame.opcode.isControl {
                        feedAssemblers { a throws(WebSocketProtocolError) in try a.receive(frame) }
                    }
                case .partialPayload(let header, let bytes):
                    check(bytes.readableBytes > 0, "empty partial")
                    if let partialHeader { check(partialHeader == header, "partial header changed") }
                    partialHeader = header
                    partial += Array(buffer: bytes)
                    check(partial.count < header.payloadLength, "partial covers the whole payload")
                    check(consumed + header.headerLength + partial.count <= position, "partial beyond the input")
                    feedAssemblers { a throws(WebSocketProtocolError) in try a.receivePartial(header, bytes); return nil }
                }
            }
        } catch let error as WebSocketProtocolError {
            outcome.error = error
            check(buffer.readerIndex - readerBefore == consumedThisCall, "reader index does not match the frames delivered")
            return outcome
        } catch {
            check(false, "parser threw a foreign error")
        }
        check(buffer.readerIndex - readerBefore == consumedThisCall, "reader index does not match the frames delivered")
        check(buffer.readableBytes == position - consumed, "bytes kept do not match the bytes not consumed")
    }
    return outcome
}
