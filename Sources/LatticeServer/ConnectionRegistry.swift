import NIOCore
import LatticeProtocol
import LatticeWebSocket
import Synchronization

/// Every open connection of a server, so shutdown can say goodbye to each:
/// WebSocket connections get a close frame with 1001, the rest are closed.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var channel: any Channel
        var isWebSocket: Bool
    }
    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
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
            state.entries[id] = Entry(channel: channel, isWebSocket: false)
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

    func markWebSocket(_ channel: any Channel) {
        state.withLock { $0.entries[ObjectIdentifier(channel)]?.isWebSocket = true }
    }

    /// Sends 1001 to every WebSocket connection and closes the others; resolves when all are closed
    /// or `timeout` has passed (then the stragglers are closed hard).
    func closeAll(eventLoop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<Void> {
        let all = state.withLock { Array($0.entries.values) }
        for entry in all {
            if entry.isWebSocket {
                entry.channel.writeAndFlush(WebSocketOutbound.close(WebSocketCloseCode(LatticeCloseCode.goingAway), reason: "server shutting down"), promise: nil)
            } else {
                entry.channel.close(promise: nil)
            }
        }
        let closed = EventLoopFuture.andAllComplete(all.map { $0.channel.closeFuture }, on: eventLoop)
        let deadline = eventLoop.scheduleTask(in: timeout) {
            for entry in all { entry.channel.close(promise: nil) }
        }
        return closed.always { _ in deadline.cancel() }
    }
}
