public import NIOCore
public import NIOHTTP1

/// What the application decides about an upgrade request that passed the
/// protocol checks (authentication happens here, before the 101).
public enum WebSocketUpgradeDecision: Sendable {
    /// Upgrade; `context` is handed to the pipeline initializer (e.g. the authenticated identity).
    case accept(context: (any Sendable)?)
    case reject(WebSocketHandshakeRejection)
}

/// The HTTP/1.1 side of a WebSocket server connection. Sits after NIO's
/// request decoder and response encoder; the first request of a connection may
/// upgrade, any other request goes on to the next handler (the HTTP app).
///
/// On an upgrade request it validates the handshake (`WebSocketServerHandshake`),
/// asks `shouldUpgrade` (authentication, routing), then answers 101 and swaps
/// the pipeline so that only the WebSocket handlers remain. Every refusal is
/// answered with its status and a plain-text reason, then the connection closes.
public final class WebSocketServerUpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias InboundOut = HTTPServerRequestPart
    public typealias OutboundOut = HTTPServerResponsePart

    public typealias ShouldUpgrade = @Sendable (HTTPRequestHead, any Channel) -> EventLoopFuture<WebSocketUpgradeDecision>
    /// Adds the application's handlers after the protocol handler.
    public typealias Initializer = @Sendable (any Channel, WebSocketHandshakeAccepted, (any Sendable)?) throws -> Void

    /// Names of the HTTP handlers removed once upgraded.
    public static let decoderName = "lattice-http-decoder"
    public static let encoderName = "lattice-http-encoder"
    public static let idleName = "lattice-http-idle"
    static func appHandlerName(_ index: Int) -> String { "lattice-http-app-\(index)" }

    private enum State {
        case awaitingFirstRequest
        /// Validated; waiting for the request's end and the application's decision.
        case upgrading(WebSocketHandshakeAccepted, requestEnded: Bool, decision: WebSocketUpgradeDecision?)
        case rejecting
        /// Not an upgrade: everything goes to the next handler.
        case passThrough
        case upgraded
    }

    private let configuration: WebSocketConfiguration
    private let shouldUpgrade: ShouldUpgrade
    private let initializer: Initializer
    private var state = State.awaitingFirstRequest
    private let httpAppHandlerCount: Int

    public init(configuration: WebSocketConfiguration, httpAppHandlerCount: Int = 0,
                shouldUpgrade: @escaping ShouldUpgrade, initializer: @escaping Initializer) {
        self.configuration = configuration
        self.httpAppHandlerCount = httpAppHandlerCount
        self.shouldUpgrade = shouldUpgrade
        self.initializer = initializer
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .awaitingFirstRequest:
            guard case .head(let head) = part, WebSocketServerHandshake.isUpgradeRequest(head) else {
                state = .passThrough
                context.fireChannelRead(data)
                return
            }
            switch WebSocketServerHandshake.evaluate(head, configuration: configuration) {
            case .failure(let rejection):
                reject(context: context, rejection)
            case .success(let accepted):
                state = .upgrading(accepted, requestEnded: false, decision: nil)
                let channel = context.channel
                shouldUpgrade(head, channel).hop(to: context.eventLoop).assumeIsolated().whenComplete { result in
                    switch result {
                    case .success(let decision): self.decided(context: context, decision)
                    case .failure: self.decided(context: context, .reject(.init(status: .internalServerError, reason: "upgrade check failed")))
                    }
                }
            }
        case .upgrading(let accepted, _, let decision):
            if case .end = part {
                state = .upgrading(accepted, requestEnded: true, decision: decision)
                proceedIfReady(context: context)
            } else if case .body = part {
                // A WebSocket handshake has no body.
                reject(context: context, .init(status: .badRequest, reason: "a WebSocket handshake has no body"))
            }
        case .passThrough:
            context.fireChannelRead(data)
        case .rejecting, .upgraded:
            break
        }
    }

    private func decided(context: ChannelHandlerContext, _ decision: WebSocketUpgradeDecision) {
        guard case .upgrading(let accepted, let ended, _) = state else { return }
        state = .upgrading(accepted, requestEnded: ended, decision: decision)
        proceedIfReady(context: context)
    }

    private func proceedIfReady(context: ChannelHandlerContext) {
        guard case .upgrading(let accepted, true, let decision?) = state else { return }
        switch decision {
        case .reject(let rejection):
            reject(context: context, rejection)
        case .accept(let userContext):
            state = .upgraded
            let head = HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: accepted.responseHeaders)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
            written.futureResult.assumeIsolated().whenComplete { result in
                switch result {
                case .success: self.switchPipeline(context: context, accepted, userContext)
                case .failure: context.close(promise: nil)
                }
            }
        }
    }

    private func switchPipeline(context: ChannelHandlerContext, _ accepted: WebSocketHandshakeAccepted, _ userContext: (any Sendable)?) {
        let pipeline = context.pipeline.syncOperations
        do {
            let protocolHandler = WebSocketProtocolHandler(role: .server, options: WebSocketConnectionOptions(configuration),
                                                           deflate: accepted.deflate)
            try pipeline.addHandler(protocolHandler, position: .after(self))
            try initializer(context.channel, accepted, userContext)
            removeHTTPHandlers(context: context)
        } catch {
            context.close(promise: nil)
        }
    }

    private func removeHTTPHandlers(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        for index in 0..<httpAppHandlerCount {
            _ = pipeline.removeHandler(name: Self.appHandlerName(index))
        }
        _ = pipeline.removeHandler(name: Self.idleName)
        _ = pipeline.removeHandler(name: Self.encoderName)
        _ = pipeline.removeHandler(context: context)
        // Removed last: the decoder forwards bytes that arrived after the request
        // (early frames) to the next inbound handler, which is now the protocol handler.
        // The decoder leaves the pipeline (and hands over those early bytes) on a later tick, as a
        // channelRead with no channelReadComplete after it; the protocol and application handlers
        // flush their replies on read-complete, so send one once the bytes are through.
        let channel = context.channel
        pipeline.removeHandler(name: Self.decoderName).assumeIsolated().whenSuccess {
            channel.pipeline.syncOperations.fireChannelReadComplete()
        }
    }

    private func reject(context: ChannelHandlerContext, _ rejection: WebSocketHandshakeRejection) {
        state = .rejecting
        var headers = rejection.headers
        var body = context.channel.allocator.buffer(capacity: rejection.reason.utf8.count + 1)
        body.writeString(rejection.reason + "\n")
        headers.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
        headers.replaceOrAdd(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: rejection.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, case .awaitingFirstRequest = state {
            // A connection that never sends its request does not hold a slot forever.
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Sets up an HTTP/1.1 server connection that can upgrade to WebSocket.
    /// `httpHandlers` serve requests that are not upgrades (they receive
    /// `HTTPServerRequestPart` and write `HTTPServerResponsePart`).
    public func configureWebSocketServerPipeline(
        configuration: WebSocketConfiguration,
        requestTimeout: TimeAmount = .seconds(30),
        shouldUpgrade: @escaping WebSocketServerUpgradeHandler.ShouldUpgrade,
        initializer: @escaping WebSocketServerUpgradeHandler.Initializer,
        httpHandlers: [any ChannelHandler] = []
    ) throws {
        try addHandler(IdleStateHandler(readTimeout: requestTimeout), name: WebSocketServerUpgradeHandler.idleName)
        try addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)),
                       name: WebSocketServerUpgradeHandler.decoderName)
        try addHandler(HTTPResponseEncoder(), name: WebSocketServerUpgradeHandler.encoderName)
        try addHandler(WebSocketServerUpgradeHandler(configuration: configuration, httpAppHandlerCount: httpHandlers.count,
                                                     shouldUpgrade: shouldUpgrade, initializer: initializer))
        for (index, handler) in httpHandlers.enumerated() {
            try addHandler(handler, name: WebSocketServerUpgradeHandler.appHandlerName(index))
        }
    }
}
