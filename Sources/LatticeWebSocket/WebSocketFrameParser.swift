public import NIOCore

/// Incremental frame parser. Feed it the bytes received so far in one
/// `ByteBuffer` (any split, byte by byte included); it consumes every complete
/// frame, unmasks payloads in place 8 bytes at a time and hands them out as
/// slices of that buffer. The bytes of a frame still in flight stay in the
/// buffer (already unmasked as far as they go) for the next call.
public struct WebSocketFrameParser: Sendable {
    public enum Role: Sendable {
        /// We are the server: every received frame must be masked.
        case server
        /// We are the client: no received frame may be masked.
        case client
    }

    /// What one call to `parse` reports.
    public enum Event {
        /// A complete frame.
        case frame(WebSocketFrame)
        /// More payload bytes of a frame that is not complete yet (already
        /// unmasked), so a text message can be checked before its frame ends.
        case partialPayload(WebSocketFrameHeader, ByteBuffer)
    }

    public let role: Role
    public var maxFrameSize: Int
    /// RSV bits a negotiated extension allows (0x40 when permessage-deflate is on).
    public var allowedReservedBits: UInt8

    /// Payload bytes of the frame at the front of the buffer that were already
    /// unmasked (and reported) by an earlier call.
    private var pendingProcessed = 0
    /// Complete frames found in the current call, kept to reuse their storage.
    private var spans: [Span] = []

    private struct Span {
        var header: WebSocketFrameHeader
    }

    public init(role: Role, maxFrameSize: Int = 16 << 20, allowedReservedBits: UInt8 = 0) {
        self.role = role
        self.maxFrameSize = maxFrameSize
        self.allowedReservedBits = allowedReservedBits
    }

    /// Parses every complete frame in `buffer` and reports them in order through
    /// `body`, then reports newly arrived payload bytes of an incomplete last
    /// frame. A framing error is thrown after the frames that precede it.
    ///
    /// All unmasking for one call happens under a single mutable access to the
    /// buffer, before any slice is taken, so the buffer is copied at most once
    /// (and only if the caller still holds slices of it from an earlier call).
    public mutating func parse(
        _ buffer: inout ByteBuffer,
        _ body: (Event) throws -> Void
    ) throws {
        spans.removeAll(keepingCapacity: true)
        // The incomplete last frame: its header and the payload range (relative to its
        // payload start) unmasked in this call.
        var partial: (header: WebSocketFrameHeader, from: Int, to: Int)? = nil
        var failure: WebSocketProtocolError? = nil
        let alreadyProcessed = pendingProcessed

        if buffer.readableBytes > 0 {
            buffer.withUnsafeMutableReadableBytes { bytes in
                var offset = 0
                var processedOfFirst = alreadyProcessed
                while true {
                    let header: WebSocketFrameHeader
                    do throws(WebSocketProtocolError) {
                        guard let h = try self.parseHeader(UnsafeRawBufferPointer(bytes), at: offset) else { break }
                        header = h
                    } catch {
                        failure = error
                        break
                    }
                    let payloadStart = offset + header.headerLength
                    let available = min(bytes.count - payloadStart, header.payloadLength)
                    let done = offset == 0 ? processedOfFirst : 0
                    if available > done, let key = header.maskKey {
                        let region = UnsafeMutableRawBufferPointer(
                            rebasing: bytes[(payloadStart + done)..<(payloadStart + available)])
                        key.apply(to: region, startingAt: done)
                    }
                    if available < header.payloadLength {
                        if available > done {
                            partial = (header, done, available)
                        }
                        self.pendingProcessed = available
                        break
                    }
                    spans.append(Span(header: header))
                    offset = payloadStart + header.payloadLength
                    processedOfFirst = 0
                    self.pendingProcessed = 0
                }
            }
        }

        for span in spans {
            buffer.moveReaderIndex(forwardBy: span.header.headerLength)
            let payload = buffer.readSlice(length: span.header.payloadLength)!
            try body(.frame(WebSocketFrame(
                fin: span.header.fin, rsv1: span.header.rsv1, opcode: span.header.opcode, payload: payload)))
        }
        if let failure { throw failure }
        if let partial {
            // Complete frames were consumed, so the incomplete frame now starts at the reader index.
            let slice = buffer.getSlice(
                at: buffer.readerIndex + partial.header.headerLength + partial.from,
                length: partial.to - partial.from)!
            try body(.partialPayload(partial.header, slice))
        }
        if buffer.readableBytes == 0 {
            pendingProcessed = 0
        }
    }

    /// Parses one header at `offset`; nil when more bytes are needed.
    @inline(__always)
    private func parseHeader(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(WebSocketProtocolError) -> WebSocketFrameHeader? {
        let available = bytes.count - offset
        guard available >= 2 else { return nil }
        let b0 = bytes[offset]
        let b1 = bytes[offset + 1]
        let fin = b0 & 0x80 != 0
        let rsv = b0 & 0x70
        let opcode = WebSocketOpcode(rawValue: b0 & 0x0F)
        if rsv & ~allowedReservedBits != 0 { throw .reservedBitsSet }
        guard opcode.isKnown else { throw .unknownOpcode(opcode.rawValue) }
        let masked = b1 & 0x80 != 0
        switch role {
        case .server: if !masked { throw .maskRequired }
        case .client: if masked { throw .maskForbidden }
        }
        let length7 = Int(b1 & 0x7F)
        if opcode.isControl {
            if !fin { throw .controlFrameFragmented }
            if rsv != 0 { throw .compressedControlFrame }
            if length7 > 125 { throw .controlFrameTooLong(length7) }
        } else if opcode == .continuation && rsv & 0x40 != 0 {
            throw .compressedContinuation
        }
        let extended = length7 == 126 ? 2 : (length7 == 127 ? 8 : 0)
        let headerLength = 2 + extended + (masked ? 4 : 0)
        guard available >= headerLength else { return nil }
        var payloadLength = length7
        var cursor = offset + 2
        if extended == 2 {
            payloadLength = Int(bytes[cursor]) << 8 | Int(bytes[cursor + 1])
            if payloadLength < 126 { throw .nonMinimalLength }
            cursor += 2
        } else if extended == 8 {
            var value: UInt64 = 0
            for i in 0..<8 { value = value << 8 | UInt64(bytes[cursor + i]) }
            if value & (1 << 63) != 0 { throw .lengthHighBitSet }
            if value <= 0xFFFF { throw .nonMinimalLength }
            if value > UInt64(maxFrameSize) { throw .frameTooLarge(Int(clamping: value)) }
            payloadLength = Int(value)
            cursor += 8
        }
        if payloadLength > maxFrameSize { throw .frameTooLarge(payloadLength) }
        var key: WebSocketMaskKey? = nil
        if masked {
            key = WebSocketMaskKey(bytes[cursor], bytes[cursor + 1], bytes[cursor + 2], bytes[cursor + 3])
        }
        return WebSocketFrameHeader(
            fin: fin, reservedBits: rsv, opcode: opcode, maskKey: key,
            payloadLength: payloadLength, headerLength: headerLength)
    }
}
