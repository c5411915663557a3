public import NIOCore

/// Writes frames. Server frames are encoded once into a `ByteBuffer` that can
/// be written, unchanged, to any number of connections.
public enum WebSocketFrameEncoder {
    /// Bytes a header takes for this payload length.
    @inlinable
    public static func headerLength(payloadLength: Int, masked: Bool) -> Int {
        let base = payloadLength < 126 ? 2 : (payloadLength <= 0xFFFF ? 4 : 10)
        return masked ? base + 4 : base
    }

    /// Appends a frame header to `buffer`.
    @inlinable
    public static func writeHeader(
        into buffer: inout ByteBuffer,
        fin: Bool = true,
        rsv1: Bool = false,
        opcode: WebSocketOpcode,
        payloadLength: Int,
        maskKey: WebSocketMaskKey? = nil
    ) {
        var b0 = opcode.rawValue
        if fin { b0 |= 0x80 }
        if rsv1 { b0 |= 0x40 }
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        if payloadLength < 126 {
            buffer.writeMultipleIntegers(b0, maskBit | UInt8(payloadLength))
        } else if payloadLength <= 0xFFFF {
            buffer.writeMultipleIntegers(b0, maskBit | 126, UInt16(payloadLength))
        } else {
            buffer.writeMultipleIntegers(b0, maskBit | 127, UInt64(payloadLength))
        }
        if let key = maskKey {
            buffer.writeMultipleIntegers(key.b0, key.b1, key.b2, key.b3)
        }
    }

    /// Encodes a whole frame (header and payload) into one new buffer. With a
    /// mask key the payload is masked in the new buffer; `payload` is untouched.
    @inlinable
    public static func encode(
        fin: Bool = true,
        rsv1: Bool = false,
        opcode: WebSocketOpcode,
        payload: ByteBuffer,
        maskKey: WebSocketMaskKey? = nil,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        let length = payload.readableBytes
        var out = allocator.buffer(capacity: headerLength(payloadLength: length, masked: maskKey != nil) + length)
        writeHeader(into: &out, fin: fin, rsv1: rsv1, opcode: opcode, payloadLength: length, maskKey: maskKey)
        if let key = maskKey {
            let payloadOffset = out.writerIndex - out.readerIndex
            out.writeImmutableBuffer(payload)
            out.withUnsafeMutableReadableBytes { bytes in
                key.apply(to: UnsafeMutableRawBufferPointer(rebasing: bytes[payloadOffset...]))
            }
        } else {
            out.writeImmutableBuffer(payload)
        }
        return out
    }

    /// The payload of a close frame: the code in network order, then the reason.
    public static func closePayload(code: WebSocketCloseCode?, reason: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard let code else { return allocator.buffer(capacity: 0) }
        var reasonBytes = Array(reason.utf8)
        if reasonBytes.count > 123 {
            // Control frames carry at most 125 bytes; cut the reason on a character boundary.
            var cut = 123
            while cut > 0 && reasonBytes[cut] & 0xC0 == 0x80 { cut -= 1 }
            reasonBytes.removeSubrange(cut...)
        }
        var buffer = allocator.buffer(capacity: 2 + reasonBytes.count)
        buffer.writeInteger(code.rawValue)
        buffer.writeBytes(reasonBytes)
        return buffer
    }
}
