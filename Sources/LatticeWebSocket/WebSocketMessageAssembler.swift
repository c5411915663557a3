public import NIOCore

/// Turns data frames into messages: fragmentation rules (RFC 6455 §5.4),
/// permessage-deflate inflation (RFC 7692), incremental UTF-8 validation that
/// fails at the first impossible byte, and the message size limit.
/// No I/O: it only transforms bytes, so it can be tested exhaustively.
public struct WebSocketMessageAssembler {
    public var maxMessageSize: Int
    private let decompressor: DeflateDecompressor?
    private let allocator: ByteBufferAllocator

    private var inProgress = false
    private var kind: WebSocketMessage.Kind = .binary
    private var compressed = false
    private var buffer: ByteBuffer
    private var validator = UTF8Validator()
    /// Payload bytes of the frame still arriving that were already validated.
    private var validatedOfPendingFrame = 0

    public init(maxMessageSize: Int, deflate: PerMessageDeflateParameters?, role: WebSocketFrameParser.Role,
                allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.maxMessageSize = maxMessageSize
        self.allocator = allocator
        self.buffer = allocator.buffer(capacity: 0)
        if let deflate {
            // We inflate what the peer compressed: the client's parameters if we are the server.
            let peerResets = role == .server ? deflate.clientNoContextTakeover : deflate.serverNoContextTakeover
            self.decompressor = DeflateDecompressor(noContextTakeover: peerResets)
        } else {
            self.decompressor = nil
        }
    }

    /// Checks bytes of an uncompressed text frame before the frame is complete,
    /// so that invalid UTF-8 is refused without waiting for the rest.
    public mutating func receivePartial(_ header: WebSocketFrameHeader, _ bytes: ByteBuffer) throws(WebSocketProtocolError) {
        guard !header.opcode.isControl else { return }
        if header.opcode == .continuation {
            guard inProgress else { throw .unexpectedContinuation }
            guard kind == .text, !compressed else { return }
        } else {
            guard !inProgress else { throw .expectedContinuation }
            guard header.opcode == .text, !header.rsv1 else { return }
            if validatedOfPendingFrame == 0 { validator.reset() }
        }
        let ok = bytes.withUnsafeReadableBytes { validator.validate($0) }
        guard ok else { throw .invalidUTF8 }
        validatedOfPendingFrame += bytes.readableBytes
    }

    /// Takes a complete data frame; returns the message it completes, if any.
    public mutating func receive(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> WebSocketMessage? {
        let alreadyValidated = validatedOfPendingFrame
        validatedOfPendingFrame = 0
        if frame.opcode == .continuation {
            guard inProgress else { throw .unexpectedContinuation }
        } else {
            guard !inProgress else { throw .expectedContinuation }
            kind = frame.opcode == .text ? .text : .binary
            compressed = frame.rsv1
            if alreadyValidated == 0 { validator.reset() }
            if frame.fin && !compressed {
                // The common case: one uncompressed frame is the message. Deliver the slice as is.
                if kind == .text {
                    try validate(frame.payload, skipping: alreadyValidated)
                    guard validator.isComplete else { throw .invalidUTF8 }
                }
                if frame.payload.readableBytes > maxMessageSize { throw .messageTooLarge }
                return WebSocketMessage(kind: kind, data: frame.payload)
            }
            inProgress = true
            buffer.clear()
        }

        if compressed {
            guard let decompressor else { throw .reservedBitsSet }
            let before = buffer.writerIndex
            do {
                try decompressor.inflate(frame.payload, final: frame.fin, into: &buffer, limit: maxMessageSize)
            } catch .tooLarge {
                throw .messageTooLarge
            } catch {
                throw .invalidCompressedData
            }
            if kind == .text {
                let fresh = buffer.getSlice(at: before, length: buffer.writerIndex - before)!
                try validate(fresh, skipping: 0)
            }
        } else {
            if buffer.readableBytes + frame.payload.readableBytes > maxMessageSize { throw .messageTooLarge }
            if kind == .text { try validate(frame.payload, skipping: alreadyValidated) }
            var payload = frame.payload
            buffer.writeBuffer(&payload)
        }

        guard frame.fin else { return nil }
        inProgress = false
        if kind == .text && !validator.isComplete { throw .invalidUTF8 }
        // Hand the assembled bytes over and start the next message in a fresh buffer.
        let message = WebSocketMessage(kind: kind, data: buffer)
        buffer = allocator.buffer(capacity: 0)
        return message
    }

    private mutating func validate(_ bytes: ByteBuffer, skipping: Int) throws(WebSocketProtocolError) {
        let ok = bytes.withUnsafeReadableBytes { raw in
            validator.validate(UnsafeRawBufferPointer(rebasing: raw[skipping...]))
        }
        if !ok { throw .invalidUTF8 }
    }
}
