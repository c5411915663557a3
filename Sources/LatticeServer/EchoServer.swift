import NIOCore
import NIOHTTP1
import LatticeWebSocket

/// `lattice echo`: the WebSocket engine alone. Every text or binary message
/// goes back to its sender unchanged, on any path. Used for conformance runs
/// and to measure the wire.
public enum EchoServer {
    public static func start(settings: ServerSettings) async throws -> RunningServer {
        let configuration = settings.webSocket
        return try await ServerBinding.bind(settings: settings) { channel, registry in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureWebSocketServerPipeline(
                    configuration: configuration,
                    requestTimeout: settings.requestTimeout,
                    shouldUpgrade: { _, channel in channel.eventLoop.makeSucceededFuture(.accept(context: nil)) },
                    initializer: { channel, _, _ in
                        registry.markWebSocket(channel)
                        try channel.pipeline.syncOperations.addHandler(EchoHandler())
                    },
                    httpHandlers: [PlainHTTPHandler(routes: .upgradeOnly)]
                )
            }
        }
    }
}

/// Sends every message back; writes are flushed once per read batch by the protocol handler's
/// read-complete, so a burst of messages costs one syscall.
final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = WebSocketMessage
    typealias OutboundOut = WebSocketOutbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(wrapOutboundOut(.message(unwrapInboundIn(data))), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}
