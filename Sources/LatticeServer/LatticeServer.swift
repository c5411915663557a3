import NIOCore
import NIOHTTP1
import LatticeWebSocket

/// `lattice serve`: the HTTP server (health, the web app) and the WebSocket
/// endpoint where clients speak `lattice.v1`.
public enum LatticeHTTPServer {
    public static let webSocketPath = "/ws"
    public static let subprotocol = "lattice.v1"

    public static func start(settings: ServerSettings, webRoot: String?) async throws -> RunningServer {
        var configuration = settings.webSocket
        if !configuration.subprotocols.contains(subprotocol) { configuration.subprotocols.append(subprotocol) }
        let files = try webRoot.map { try StaticFiles(directory: $0) } ?? StaticFiles()
        return try await ServerBinding.bind(settings: settings) { [configuration] channel, registry in
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
                        return channel.eventLoop.makeSucceededFuture(.accept(context: nil))
                    },
                    initializer: { channel, accepted, _ in
                        registry.markWebSocket(channel)
                        try channel.pipeline.syncOperations.addHandler(SessionHandler(subprotocol: accepted.subprotocol))
                    },
                    httpHandlers: [PlainHTTPHandler(routes: .lattice(files, webSocketPath: webSocketPath))]
                )
            }
        }
    }
}
