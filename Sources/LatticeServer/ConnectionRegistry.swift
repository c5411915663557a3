import NIOCore
import LatticeProtocol
import LatticeWebSocket
import Synchronization

/// Every open connection of a server, so shutdown can say goodbye to each:
/// WebSocket connections get a close frame with 1001, the rest are closed.
final class ConnectionRegistry: Sendable {
    /// Where a connection is in its life, as shutdown needs to know it.
    enum Phase {
        /// Plain HTTP: closed at shutdown.
        case http
        /// Its upgrade was accepted and the 101 may already be on the wire, but the WebSocket
        /// handlers are not in place yet: closing it now would cut a client that saw its 101.
        /// Shutdown leaves it be; `markWebSocket` then tells the initializer to say goodbye.
        case upgrading
        /// WebSocket: told goodbye with 1001 at shutdown.
        case webSocket
    }
    private struct Entry {
        var channel: any Channel
        var phase: Phase
    }
    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        /// Set by `closeAll`: connections that become WebSockets later are told goodbye at once.
        var shuttingDown = false
        /// Open connections per peer IP address (the per-address limit).
        var perAddress: [String: Int] = [:]
    }
    private let state = Mutex(State())
    /// Most connections one IP address may hold open; 0: no limit.
    let maxPerAddress: Int

    init(maxPerAddress: Int = 0) {
        self.maxPerAddress = maxPerAddress
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// Registers a new connection; false (and nothing registered) when its address already holds
    /// `maxPerAddress` connections — the caller closes it.
    func add(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let address = channel.remoteAddress?.ipAddress ?? ""
        let admitted = state.withLock { state -> Bool in
            let open = state.perAddress[address, default: 0]
            if maxPerAddress > 0, open >= maxPerAddress { return false }
            state.perAddress[address] = open + 1
            state.entries[id] = Entry(channel: channel, phase: .http)
            return true
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { _ in
            self.state.withLock { state in
                state.entries.removeValue(forKey: id)
                if let open = state.perAddress[address], open > 1 { state.perAddress[address] = open - 1 } else { state.perAddress.removeValue(forKey: address) }
            }
        }
        return true
    }

    func phase(of channel: any Channel) -> Phase? {
        state.withLock { $0.entries[ObjectIdentifier(channel)]?.phase }
    }

    /// The connection's upgrade was accepted: from now until `markWebSocket` shutdown waits for
    /// it instead of closing it.
    func markUpgrading(_ channel: any Channel) {
        state.withLock { state in
            let id = ObjectIdentifier(channel)
            if state.entries[id]?.phase == .http { state.entries[id]?.phase = .upgrading }
        }
    }

    /// The connection's WebSocket handlers are in place. Call it last in the pipeline initializer,
    /// on the channel's event loop. When shutdown has begun meanwhile, it already passed this
    /// connection by, so this sends the 1001 itself (on the next tick, once the HTTP handlers are
    /// gone from the pipeline).
    func markWebSocket(_ channel: any Channel) {
        let late = state.withLock { state -> Bool in
            state.entries[ObjectIdentifier(channel)]?.phase = .webSocket
            return state.shuttingDown
        }
        if late {
            channel.eventLoop.execute { Self.sayGoodbye(to: channel) }
        }
    }

    private static func sayGoodbye(to channel: any Channel) {
        channel.writeAndFlush(WebSocketOutbound.close(WebSocketCloseCode(LatticeCloseCode.goingAway), reason: "server shutting down"), promise: nil)
    }

    /// Sends 1001 to every WebSocket connection, leaves those mid-upgrade to `markWebSocket` and
    /// closes the others; resolves when all are closed or `timeout` has passed (then the
    /// stragglers are closed hard).
    func closeAll(eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<Void> {
        let all = state.withLock { state -> [Entry] in
            state.shuttingDown = true
            return Array(state.entries.values)
        }
        for entry in all {
            switch entry.phase {
            case .webSocket: Self.sayGoodbye(to: entry.channel)
            case .upgrading: break
            case .http: entry.channel.close(promise: nil)
            }
        }
        let closed = EventLoopFuture.andAllComplete(all.map { $0.channel.closeFuture }, on: eventLoop)
        let deadline = eventLoop.scheduleTask(in: timeout) {
            for entry in all { entry.channel.close(promise: nil) }
        }
        return closed.always { _ in deadline.cancel() }
    }
}
