import NIOCore
import NIOHTTP1
import NIOPosix
import LatticeWebSocket

/// `lattice serve`: the HTTP server (health, the web app) and the WebSocket
/// endpoint where clients speak `lattice.v1` (sessions on a `StreamHub`).
public enum LatticeHTTPServer {
    public static let webSocketPath = "/ws"
    public static let subprotocol = "lattice.v1"

    public static func start(settings: ServerSettings, webRoot: String?, authorizer: any Authorizer = AllowAllAuthorizer()) async throws -> RunningServer {
        var configuration = settings.webSocket
        if !configuration.subprotocols.contains(subprotocol) { configuration.subprotocols.append(subprotocol) }
        let files = try webRoot.map { try StaticFiles(directory: $0) } ?? StaticFiles()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, settings.threads))
        var hubSettings = settings.hub
        hubSettings.heartbeatSeconds = configuration.pingInterval.map { Int($0.nanoseconds / 1_000_000_000) } ?? 0
        let hub: StreamHub
        do {
            hub = try await StreamHub.make(group: group, settings: hubSettings, authorizer: authorizer)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: hubSettings.lowWaterMark, high: hubSettings.highWaterMark)
        return try await ServerBinding.bind(settings: settings, group: group) { [configuration] channel, registry in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureWebSocketServerPipeline(
                    configuration: configuration,
                    requestTimeout: settings.requestTimeout,
                    shouldUpgrade: { head, channel in
                        let path = String(head.uri.prefix { $0 != "?" })
                        guard path == webSocketPath else {
                            return channel.eventLoop.makeSucceededFuture(
                                .reject(.init(status: .notFound, reason: "no WebSocket endpoint at \(path); use \(webSocketPath)")))
                        }
                        switch DeclaredIdentity.parse(uri: head.uri) {
                        case .success(let identity):
                            return channel.eventLoop.makeSucceededFuture(.accept(context: identity))
                        case .failure(let invalid):
                            return channel.eventLoop.makeSucceededFuture(.reject(.init(status: .badRequest, reason: invalid.reason)))
                        }
                    },
                    initializer: { channel, accepted, context in
                        registry.markWebSocket(channel)
                        try channel.syncOptions?.setOption(.writeBufferWaterMark, value: waterMark)
                        let declared = context as? DeclaredIdentity ?? DeclaredIdentity(name: nil, kind: .user)
                        try channel.pipeline.syncOperations.addHandler(
                            SessionHandler(hub: hub, subprotocol: accepted.subprotocol, declared: declared))
                    },
                    httpHandlers: [PlainHTTPHandler(routes: .lattice(files, webSocketPath: webSocketPath))]
                )
            }
        }
    }
}
