public import NIOCore
public import NIOHTTP1
public import NIOPosix
public import LatticeWebSocket

/// Client options: what to offer in the handshake and the connection limits.
public struct WebSocketClientOptions: Sendable {
    public var headers: HTTPHeaders
    public var subprotocols: [String]
    public var deflate: Bool
    public var connection: WebSocketConnectionOptions
    public var connectTimeout: TimeAmount

    public init(headers: HTTPHeaders = [:], subprotocols: [String] = [], deflate: Bool = false,
                connection: WebSocketConnectionOptions = WebSocketConnectionOptions(pingInterval: nil),
                connectTimeout: TimeAmount = .seconds(10)) {
        self.headers = headers
        self.subprotocols = subprotocols
        self.deflate = deflate
        self.connection = connection
        self.connectTimeout = connectTimeout
    }
}

/// Opens client WebSocket connections on our engine.
public enum WebSocketClient {
    /// Connects, performs the handshake, then runs `initializer` to add the
    /// application's handlers after the protocol handler. For callers that want
    /// NIO handlers directly (benchmarks, bots with their own pipeline).
    public static func connect(
        to url: WebSocketURL,
        options: WebSocketClientOptions = WebSocketClientOptions(),
        on group: any EventLoopGroup,
        initializer: @escaping @Sendable (any Channel, WebSocketClientHandshakeResult) throws -> Void
    ) -> EventLoopFuture<(any Channel, WebSocketClientHandshakeResult)> {
        let eventLoop = group.next()
        let handshake = eventLoop.makePromise(of: WebSocketClientHandshakeResult.self)
        let request = WebSocketClientRequest(host: url.host, port: url.port, path: url.path, headers: options.headers,
                                             subprotocols: options.subprotocols, offerDeflate: options.deflate)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(options.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureWebSocketClientPipeline(
                        request: request, options: options.connection, promise: handshake, initializer: initializer)
                }
            }
        return bootstrap.connect(host: url.host, port: url.port).flatMap { channel in
            handshake.futureResult.map { (channel, $0) }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }.flatMapError { error in
            handshake.fail(error)
            return eventLoop.makeFailedFuture(error)
        }
    }

    /// Connects and returns an async connection: send, receive, ping, close.
    public static func connect(
        to url: WebSocketURL,
        options: WebSocketClientOptions = WebSocketClientOptions(),
        on group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WebSocketConnection {
        let (stream, continuation) = AsyncThrowingStream<WebSocketMessage, any Error>.makeStream()
        let state = WebSocketConnection.State()
        let (channel, result) = try await connect(to: url, options: options, on: group) { channel, _ in
            try channel.pipeline.syncOperations.addHandler(WebSocketConnection.InboundBridge(continuation, state: state))
        }.get()
        return WebSocketConnection(channel: channel, handshake: result, messages: stream, state: state)
    }
}
