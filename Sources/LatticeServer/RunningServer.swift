public import NIOCore
public import NIOPosix
public import ServiceLifecycle

/// A bound server: its address, and an orderly way to stop it. As a `Service` it serves until
/// its service group shuts it down gracefully (or is cancelled), then stops with `shutdown()`.
public final class RunningServer: Service {
    public let group: MultiThreadedEventLoopGroup
    let listener: any Channel
    let registry: ConnectionRegistry
    let shutdownTimeout: TimeAmount
    /// The hub of `lattice serve` (nil for `lattice echo`): what publishes as the server.
    public let hub: StreamHub?
    /// The run executor of `lattice serve` (nil when it runs no workflows).
    public let runs: RunService?

    init(group: MultiThreadedEventLoopGroup, listener: any Channel, registry: ConnectionRegistry, shutdownTimeout: TimeAmount,
         hub: StreamHub? = nil, runs: RunService? = nil) {
        self.group = group
        self.listener = listener
        self.registry = registry
        self.shutdownTimeout = shutdownTimeout
        self.hub = hub
        self.runs = runs
    }

    /// The port actually bound (useful with port 0).
    public var port: Int { listener.localAddress?.port ?? 0 }
    public var host: String { listener.localAddress?.ipAddress ?? "" }
    public var openConnections: Int { registry.count }

    /// Graceful stop: stop accepting, close WebSockets with 1001 (waiting for
    /// their answers up to the shutdown timeout), then stop the event loops.
    public func shutdown() async throws {
        try? await listener.close()
        let loop = group.next()
        try? await registry.closeAll(eventLoop: loop, timeout: shutdownTimeout).get()
        try await group.shutdownGracefully()
    }

    public func run() async throws {
        // Returns at graceful shutdown; throws when the group is cancelled instead, and the
        // server stops the same way then.
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Resolves when the listening socket closes.
    public var closeFuture: EventLoopFuture<Void> { listener.closeFuture }
}

enum ServerBinding {
    /// Binds a server whose every connection is set up by `childInitializer`.
    static func bind(
        settings: ServerSettings,
        group existing: MultiThreadedEventLoopGroup? = nil,
        hub: StreamHub? = nil,
        runs: RunService? = nil,
        childInitializer: @escaping @Sendable (any Channel, ConnectionRegistry) -> EventLoopFuture<Void>
    ) async throws -> RunningServer {
        let group = existing ?? MultiThreadedEventLoopGroup(numberOfThreads: max(1, settings.threads))
        let registry = ConnectionRegistry(maxPerAddress: settings.maxConnectionsPerAddress)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Start reads small: NIO keeps a connection's last read buffer for reuse, so the initial
            // size is paid by every idle connection. The allocator grows it as soon as reads fill it.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
            .childChannelInitializer { channel in
                guard registry.add(channel) else {
                    // Over the per-address limit: refused at accept (docs/security.md).
                    return channel.close()
                }
                return childInitializer(channel, registry)
            }
        do {
            let listener = try await bootstrap.bind(host: settings.host, port: settings.port).get()
            return RunningServer(group: group, listener: listener, registry: registry, shutdownTimeout: settings.shutdownTimeout, hub: hub, runs: runs)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }
}
