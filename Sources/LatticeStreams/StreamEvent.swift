public import NIOCore

/// One event of a stream, as the log holds it and hands it out.
///
/// `payload` is the already-encoded event frame (or its body): the same `ByteBuffer` is shared by
/// reference with the history and every subscriber — nothing here copies its bytes.
public struct StreamEvent: Sendable {
    /// The event's offset in its stream: 1 for the first event, then +1 each.
    public let offset: UInt64
    public let payload: ByteBuffer
    /// The coalescing key (presence, cursors, progress); `nil` for plain events.
    public let key: String?
    /// When the event was published, on the caller's monotonic clock (history age trimming).
    public let timestamp: NIODeadline

    public init(offset: UInt64, payload: ByteBuffer, key: String? = nil, timestamp: NIODeadline) {
        self.offset = offset
        self.payload = payload
        self.key = key
        self.timestamp = timestamp
    }

    /// The size counted against byte limits: the payload's readable bytes.
    @inlinable public var byteCount: Int { payload.readableBytes }
}
