import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import LatticeWebSocket
@testable import LatticeServer

/// What shutdown does to each connection, by where the connection is in its life. The upgrade
/// case is the race a signal right after a 101 used to lose: the connection was closed hard,
/// without its 1001, because its WebSocket handlers were not in place yet.
@Suite("ConnectionRegistry: goodbyes at shutdown")
struct ConnectionRegistryTests {
    /// The close frame `channel` was asked to write, if any.
    func goodbye(_ channel: EmbeddedChannel) throws -> (code: UInt16, reason: String)? {
        guard let outbound = try channel.readOutbound(as: WebSocketOutbound.self) else { return nil }
        guard case .close(let code, let reason) = outbound else {
            Issue.record("expected a close, got \(outbound)")
            return nil
        }
        return (code.rawValue, reason)
    }

    @Test("a WebSocket gets 1001, a plain HTTP connection is closed")
    func byPhase() throws {
        let registry = ConnectionRegistry()
        let webSocket = try EmbeddedChannel.connected()
        let http = try EmbeddedChannel.connected()
        #expect(registry.add(webSocket) && registry.add(http))
        registry.markUpgrading(webSocket)
        registry.markWebSocket(webSocket)
        #expect(registry.phase(of: webSocket) == .webSocket && registry.phase(of: http) == .http)

        let loop = EmbeddedEventLoop()
        let resolved = Mutex(false)
        registry.closeAll(eventLoop: loop, timeout: .seconds(30)).whenComplete { _ in resolved.withLock { $0 = true } }
        webSocket.embeddedEventLoop.run()
        let sent = try goodbye(webSocket)
        #expect(sent?.code == 1001 && sent?.reason == "server shutting down")
        #expect(webSocket.isActive, "open until the peer answers")
        #expect(!http.isActive, "closed")
        _ = try webSocket.finish(acceptAlreadyClosed: false)
        #expect(!webSocket.isActive)
        http.embeddedEventLoop.run()
        loop.run()
        #expect(resolved.withLock { $0 }, "resolves once every connection is closed")
        #expect(registry.count == 0)
    }

    @Test("a connection whose 101 is on its way is left open, then told goodbye once its handlers are in place")
    func midUpgrade() throws {
        let registry = ConnectionRegistry()
        let channel = try EmbeddedChannel.connected()
        #expect(registry.add(channel))
        registry.markUpgrading(channel)

        _ = registry.closeAll(eventLoop: channel.eventLoop, timeout: .seconds(30))
        channel.embeddedEventLoop.run()
        #expect(channel.isActive, "not closed while its upgrade completes")
        #expect(try goodbye(channel) == nil, "nothing written into the HTTP pipeline")

        registry.markWebSocket(channel)
        #expect(try goodbye(channel) == nil, "not from inside the initializer: the HTTP handlers are still there")
        channel.embeddedEventLoop.run()
        let sent = try goodbye(channel)
        #expect(sent?.code == 1001 && sent?.reason == "server shutting down")
        _ = try? channel.finish()
    }

    @Test("a WebSocket never goes back to upgrading")
    func upgradingOnlyMovesForward() throws {
        let registry = ConnectionRegistry()
        let channel = try EmbeddedChannel.connected()
        #expect(registry.add(channel))
        registry.markWebSocket(channel)
        registry.markUpgrading(channel)
        #expect(registry.phase(of: channel) == .webSocket, "a WebSocket never goes back to upgrading")
        _ = try? channel.finish()
    }
}

extension EmbeddedChannel {
    static func connected() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return channel
    }
}
