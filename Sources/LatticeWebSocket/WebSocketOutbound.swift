public import NIOCore

/// What the application writes into a WebSocket pipeline.
public enum WebSocketOutbound: Sendable {
    /// A message; the handler compresses (if negotiated), masks (client role) and frames it.
    case message(WebSocketMessage)
    /// Bytes of one or more frames encoded in advance with `WebSocketFrameEncoder`
    /// (server role only): the same buffer can be written to many connections.
    case encodedFrames(ByteBuffer)
    case ping(ByteBuffer)
    /// Starts the closing handshake.
    case close(WebSocketCloseCode, reason: String)
}

/// Events the handler passes up the pipeline besides messages (as user inbound events).
public enum WebSocketEvent: Sendable, Equatable {
    /// The peer sent a close frame (code nil when it carried none).
    case closeReceived(WebSocketCloseCode?, reason: String)
    /// We failed the connection for this reason (a close frame with its code was sent).
    case protocolError(WebSocketProtocolError)
    /// A pong arrived.
    case pong(ByteBuffer)
}

/// Writes refused because the closing handshake has started.
public struct WebSocketClosedError: Error, Sendable {}
