import NIOCore
import NIOHTTP1
import LatticeWebSocket

/// `lattice echo`: the WebSocket engine alone. Every text or binary message
/// goes back to its sender unchanged, on any path. Used for conformance runs
/// and to measure the wire. Browser origins: any, unless `--allowed-origins` names some.
public enum EchoServer {
    public static func start(settings: ServerSettings) async throws -> RunningServer {
        let configuration = settings.webSocket
        let origins = OriginPolicy(allowedOrigins: settings.allowedOrigins, sameOriginOnly: false)
        let routes = HTTPRouteTable.echo(origins: origins)
        return try await ServerBinding.bind(settings: settings) { channel, registry in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureWebSocketServerPipeline(
                    configuration: configuration,
                    requestTimeout: settings.requestTimeout,
                    shouldUpgrade: { head, channel in
                        if let origin = head.headers.first(name: "Origin"), !origins.allows(origin, host: head.headers.first(name: "Host")) {
                            return channel.eventLoop.makeSucceededFuture(.reject(.init(status: .forbidden, reason: OriginPolicy.refusal(origin))))
                        }
                        registry.markUpgrading(channel)
                        return channel.eventLoop.makeSucceededFuture(.accept(context: nil))
                    },
                    initializer: { channel, _, _ in
                        try channel.pipeline.syncOperations.addHandler(EchoHandler())
                        registry.markWebSocket(channel)
                    },
                    httpHandlers: [HTTPRequestHandler(routes: routes)]
                )
            }
        }
    }
}

extension HTTPRouteTable {
    /// `lattice echo`'s one route: every plain request, on any path, is told to upgrade.
    static func echo(origins: OriginPolicy) -> HTTPRouteTable {
        let upgradeRequired = HTTPRoute.onLoop(.anyPath, .any) { _ in
            .text(.upgradeRequired, "this endpoint speaks WebSocket; send an upgrade request",
                  headers: ["Upgrade": "websocket", "Sec-WebSocket-Version": "13"])
        }
        return HTTPRouteTable(routes: [upgradeRequired], guard: HTTPRouteGuard(origins: origins, access: nil))
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
