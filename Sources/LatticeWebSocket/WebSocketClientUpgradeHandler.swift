public import NIOCore
public import NIOHTTP1

/// What a client asks for in its opening handshake.
public struct WebSocketClientRequest: Sendable {
    public var host: String
    public var port: Int
    public var path: String
    public var headers: HTTPHeaders
    public var subprotocols: [String]
    /// Offer permessage-deflate (with client_max_window_bits, and these flags).
    public var offerDeflate: Bool
    public var requestServerNoContextTakeover: Bool
    public var clientNoContextTakeover: Bool

    public init(host: String, port: Int, path: String = "/", headers: HTTPHeaders = [:], subprotocols: [String] = [],
                offerDeflate: Bool = false, requestServerNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false) {
        self.host = host
        self.port = port
        self.path = path
        self.headers = headers
        self.subprotocols = subprotocols
        self.offerDeflate = offerDeflate
        self.requestServerNoContextTakeover = requestServerNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
    }
}

/// The server's answer, once verified.
public struct WebSocketClientHandshakeResult: Sendable {
    public var subprotocol: String?
    public var deflate: PerMessageDeflateParameters?
    public var responseHeaders: HTTPHeaders
}

public enum WebSocketClientHandshakeError: Error, Sendable, Equatable {
    /// The server answered with another status (401, 403, 426…) and this body.
    case rejected(status: UInt, body: String)
    case invalidAcceptKey
    case missingUpgradeHeaders
    case unexpectedExtension(String)
    case unexpectedSubprotocol(String)
    case connectionClosed
}

/// Client role of the opening handshake: sends the request, verifies the
/// 101 (status, Upgrade/Connection, the accept key, extensions, subprotocol),
/// then leaves only the WebSocket handlers in the pipeline.
public final class WebSocketClientUpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPClientResponsePart
    public typealias OutboundOut = HTTPClientRequestPart
    public typealias Initializer = @Sendable (any Channel, WebSocketClientHandshakeResult) throws -> Void

    public static let decoderName = "lattice-http-client-decoder"
    public static let encoderName = "lattice-http-client-encoder"

    private let request: WebSocketClientRequest
    private let options: WebSocketConnectionOptions
    private let key = WebSocketAcceptKey.makeKey()
    private let initializer: Initializer
    private let promise: EventLoopPromise<WebSocketClientHandshakeResult>
    private var response: HTTPResponseHead?
    private var body = ByteBuffer()
    private var finished = false

    public init(request: WebSocketClientRequest, options: WebSocketConnectionOptions,
                promise: EventLoopPromise<WebSocketClientHandshakeResult>, initializer: @escaping Initializer) {
        self.request = request
        self.options = options
        self.promise = promise
        self.initializer = initializer
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendRequest(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        sendRequest(context: context)
        context.fireChannelActive()
    }

    private var sent = false

    private func sendRequest(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: request.port == 80 ? request.host : "\(request.host):\(request.port)")
        headers.add(name: "Upgrade", value: "websocket")
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "Sec-WebSocket-Key", value: key)
        headers.add(name: "Sec-WebSocket-Version", value: "13")
        if !request.subprotocols.isEmpty {
            headers.add(name: "Sec-WebSocket-Protocol", value: request.subprotocols.joined(separator: ", "))
        }
        if request.offerDeflate {
            var offer = "permessage-deflate; client_max_window_bits"
            if request.requestServerNoContextTakeover { offer += "; server_no_context_takeover" }
            if request.clientNoContextTakeover { offer += "; client_no_context_takeover" }
            headers.add(name: "Sec-WebSocket-Extensions", value: offer)
        }
        headers.add(contentsOf: request.headers)
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: request.path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            response = head
        case .body(var chunk):
            if body.readableBytes < 4096 { body.writeBuffer(&chunk) }
        case .end:
            guard let head = response else { return fail(context: context, .connectionClosed) }
            finished = true
            switch verify(head) {
            case .failure(let error): fail(context: context, error)
            case .success(let result): upgrade(context: context, result)
            }
        }
    }

    private func verify(_ head: HTTPResponseHead) -> Result<WebSocketClientHandshakeResult, WebSocketClientHandshakeError> {
        guard head.status == .switchingProtocols else {
            return .failure(.rejected(status: head.status.code, body: String(buffer: body)))
        }
        let headers = head.headers
        guard headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }),
              headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }) else {
            return .failure(.missingUpgradeHeaders)
        }
        guard headers["sec-websocket-accept"] == [WebSocketAcceptKey.accept(forKey: key)] else {
            return .failure(.invalidAcceptKey)
        }
        var deflate: PerMessageDeflateParameters? = nil
        let extensions = WebSocketExtensionOffer.parse(headers["sec-websocket-extensions"])
        for ext in extensions {
            guard request.offerDeflate, deflate == nil, let params = PerMessageDeflateParameters.fromServerResponse(ext) else {
                return .failure(.unexpectedExtension(ext.name))
            }
            deflate = params
        }
        let subprotocol = headers.first(name: "sec-websocket-protocol")
        if let subprotocol, !request.subprotocols.contains(subprotocol) {
            return .failure(.unexpectedSubprotocol(subprotocol))
        }
        return .success(WebSocketClientHandshakeResult(subprotocol: subprotocol, deflate: deflate, responseHeaders: headers))
    }

    private func upgrade(context: ChannelHandlerContext, _ result: WebSocketClientHandshakeResult) {
        do {
            let handler = WebSocketProtocolHandler(role: .client, options: options, deflate: result.deflate)
            try context.pipeline.syncOperations.addHandler(handler, position: .after(self))
            try initializer(context.channel, result)
            _ = context.pipeline.syncOperations.removeHandler(name: Self.encoderName)
            _ = context.pipeline.syncOperations.removeHandler(context: context)
            _ = context.pipeline.syncOperations.removeHandler(name: Self.decoderName)
            promise.succeed(result)
        } catch {
            promise.fail(error)
            context.close(promise: nil)
        }
    }

    private func fail(context: ChannelHandlerContext, _ error: WebSocketClientHandshakeError) {
        finished = true
        promise.fail(error)
        context.close(promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            finished = true
            promise.fail(WebSocketClientHandshakeError.connectionClosed)
        }
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !finished {
            finished = true
            promise.fail(error)
        }
        context.close(promise: nil)
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Sets up a client connection that performs the opening handshake, then
    /// runs `initializer` to add the application's handlers.
    public func configureWebSocketClientPipeline(
        request: WebSocketClientRequest,
        options: WebSocketConnectionOptions,
        promise: EventLoopPromise<WebSocketClientHandshakeResult>,
        initializer: @escaping WebSocketClientUpgradeHandler.Initializer
    ) throws {
        try addHandler(HTTPRequestEncoder(), name: WebSocketClientUpgradeHandler.encoderName)
        try addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes)),
                       name: WebSocketClientUpgradeHandler.decoderName)
        try addHandler(WebSocketClientUpgradeHandler(request: request, options: options, promise: promise,
                                                     initializer: initializer))
    }
}
