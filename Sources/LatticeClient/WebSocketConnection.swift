public import NIOCore
public import LatticeWebSocket
import Synchronization

/// One client connection with an async API. Messages arrive on `messages`;
/// the stream finishes when the connection closes (with the close code in
/// `closeCode` when the server sent one).
public final class WebSocketConnection: Sendable {
    public let channel: any Channel
    public let handshake: WebSocketClientHandshakeResult
    public let messages: AsyncThrowingStream<WebSocketMessage, any Error>
    private let state: State

    /// What the pipeline learns about the connection (close code, pongs), shared with the bridge.
    final class State: Sendable {
        private let box = Mutex<(code: WebSocketCloseCode?, reason: String, pongs: Int)>((nil, "", 0))
        func withLock<T>(_ body: (inout (code: WebSocketCloseCode?, reason: String, pongs: Int)) -> T) -> T {
            box.withLock { body(&$0) }
        }
    }

    init(channel: any Channel, handshake: WebSocketClientHandshakeResult, messages: AsyncThrowingStream<WebSocketMessage, any Error>,
         state: State) {
        self.channel = channel
        self.handshake = handshake
        self.messages = messages
        self.state = state
    }

    /// The close code the server sent, once it has.
    public var closeCode: WebSocketCloseCode? { state.withLock { $0.code } }
    public var closeReason: String { state.withLock { $0.reason } }
    public var pongsReceived: Int { state.withLock { $0.pongs } }

    public func send(_ message: WebSocketMessage) async throws {
        try await channel.writeAndFlush(WebSocketOutbound.message(message))
    }

    public func send(text: String) async throws {
        try await send(.text(text))
    }

    public func send(binary bytes: [UInt8]) async throws {
        try await send(.binary(ByteBuffer(bytes: bytes)))
    }

    public func ping(_ payload: [UInt8] = []) async throws {
        try await channel.writeAndFlush(WebSocketOutbound.ping(ByteBuffer(bytes: payload)))
    }

    /// Starts the closing handshake and waits for the connection to end.
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") async throws {
        do {
            try await channel.writeAndFlush(WebSocketOutbound.close(code, reason: reason))
        } catch {
            // Already closing: nothing more to send.
        }
        try await channel.closeFuture.get()
    }

    /// Feeds received messages into the async stream.
    final class InboundBridge: ChannelInboundHandler, Sendable {
        typealias InboundIn = WebSocketMessage
        private let continuation: AsyncThrowingStream<WebSocketMessage, any Error>.Continuation
        private let state: State

        init(_ continuation: AsyncThrowingStream<WebSocketMessage, any Error>.Continuation, state: State) {
            self.continuation = continuation
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(unwrapInboundIn(data))
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            switch event as? WebSocketEvent {
            case .closeReceived(let code, let reason)?: state.withLock { $0.code = code; $0.reason = reason }
            case .pong?: state.withLock { $0.pongs += 1 }
            default: context.fireUserInboundEventTriggered(event)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            continuation.finish()
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            continuation.finish(throwing: error)
            context.close(promise: nil)
        }
    }
}
