import NIOCore
import NIOHTTP1
import NIOPosix
import LatticeAuth
import LatticeProtocol
import LatticeWebSocket

/// `lattice serve`: the collaboration server — HTTP (health, the web app, the REST API) and the WebSocket
/// endpoint where clients speak `lattice.v1` (sessions on a `StreamHub`).
public enum CollaborationServer {
    public static let webSocketPath = "/ws"
    public static let subprotocol = "lattice.v1"

    public static func start(settings: ServerSettings, webRoot: String?, services: ServerServices) async throws -> RunningServer {
        var configuration = settings.webSocket
        if !configuration.subprotocols.contains(subprotocol) { configuration.subprotocols.append(subprotocol) }
        // lattice.v1 sessions that stop answering pings are told 4002 heartbeat_timeout.
        configuration.keepaliveTimeoutClose = WebSocketKeepaliveTimeoutClose(
            code: WebSocketCloseCode(.heartbeatTimeout), reason: LatticeCloseCode.heartbeatTimeout.reason)
        let files = try webRoot.map { try StaticFiles(directory: $0) } ?? StaticFiles()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, settings.threads))
        var hubSettings = settings.hub
        hubSettings.heartbeatSeconds = configuration.pingInterval.map { Int($0.nanoseconds / 1_000_000_000) } ?? 0
        hubSettings.isCoalescingChannel = services.isCoalescingChannel
        let hub: StreamHub
        do {
            hub = try await StreamHub.make(group: group, settings: hubSettings,
                                           durable: DurableStreams(store: services.streams, isDurableChannel: services.isDurableChannel))
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let access = services.access
        // Live access changes reach each loop's sessions there.
        let sessionLoops: SessionLoops
        do {
            sessionLoops = try await SessionLoops.make(on: hub.loops, access: access)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        // Runs recover before the server accepts anyone: a monitor never sees a run that is
        // about to be reconciled.
        let runs: RunService?
        do {
            if let store = services.runs {
                runs = try await RunService.start(store: store, streams: services.streams, hub: hub, resources: access.resources, limits: services.runLimits,
                                                  leaseMillis: services.taskLeaseMillis)
            } else {
                runs = nil
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let rateLimits = settings.rateLimits
        let origins = OriginPolicy(allowedOrigins: settings.allowedOrigins, sameOriginOnly: settings.sameOriginOnly)
        let upgrade = UpgradeAuthentication(webSocketPath: webSocketPath, access: access, origins: origins)
        let routes = HTTPRouteTable.serve(files: files, webSocketPath: webSocketPath, services: services, hub: hub, runs: runs, origins: origins)
        let waterMark = ChannelOptions.Types.WriteBufferWaterMark(low: hubSettings.lowWaterMark, high: hubSettings.highWaterMark)
        let server = try await ServerBinding.bind(settings: settings, group: group, hub: hub, runs: runs) { [configuration] channel, registry in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureWebSocketServerPipeline(
                    configuration: configuration,
                    requestTimeout: settings.requestTimeout,
                    shouldUpgrade: { head, channel in
                        upgrade.decide(head, channel: channel).map { decision in
                            if case .accept = decision { registry.markUpgrading(channel) }
                            return decision
                        }
                    },
                    initializer: { channel, accepted, context in
                        guard let principal = context as? Principal else {
                            throw ChannelError.inappropriateOperationForState
                        }
                        try channel.syncOptions?.setOption(.writeBufferWaterMark, value: waterMark)
                        try channel.pipeline.syncOperations.addHandler(
                            SessionHandler(hub: hub, sessionLoops: sessionLoops, access: access, subprotocol: accepted.subprotocol, principal: principal,
                                           rateLimits: rateLimits, runs: runs))
                        registry.markWebSocket(channel)
                    },
                    httpHandlers: [HTTPRequestHandler(routes: routes)]
                )
            }
        }
        return server
    }
}
