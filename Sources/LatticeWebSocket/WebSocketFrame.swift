public import NIOCore

/// A parsed frame header (RFC 6455 §5.2).
public struct WebSocketFrameHeader: Equatable, Sendable {
    public var fin: Bool
    /// RSV1–RSV3 as the high nibble of the first byte leaves them: 0x40, 0x20, 0x10.
    public var reservedBits: UInt8
    public var opcode: WebSocketOpcode
    public var maskKey: WebSocketMaskKey?
    public var payloadLength: Int
    /// Bytes the header occupies on the wire (2–14).
    public var headerLength: Int

    @inlinable public var rsv1: Bool { reservedBits & 0x40 != 0 }
}

/// One frame with its payload already unmasked. `payload` is a slice of the
/// bytes the parser was given, not a copy.
public struct WebSocketFrame: Sendable {
    public var fin: Bool
    public var rsv1: Bool
    public var opcode: WebSocketOpcode
    public var payload: ByteBuffer

    public init(fin: Bool = true, rsv1: Bool = false, opcode: WebSocketOpcode, payload: ByteBuffer) {
        self.fin = fin
        self.rsv1 = rsv1
        self.opcode = opcode
        self.payload = payload
    }
}

/// A complete message delivered to the application: text or binary, already
/// reassembled, inflated and (for text) UTF-8 validated.
public struct WebSocketMessage: Sendable {
    public enum Kind: Sendable, Equatable { case text, binary }
    public var kind: Kind
    public var data: ByteBuffer

    public init(kind: Kind, data: ByteBuffer) {
        self.kind = kind
        self.data = data
    }

    public static func text(_ string: String) -> WebSocketMessage {
        WebSocketMessage(kind: .text, data: ByteBuffer(string: string))
    }

    public static func binary(_ data: ByteBuffer) -> WebSocketMessage {
        WebSocketMessage(kind: .binary, data: data)
    }

    /// The text of a text message (UTF-8 was validated on receipt).
    public var text: String { String(buffer: data) }
}
