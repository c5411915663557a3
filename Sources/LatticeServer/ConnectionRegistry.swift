import NIOConcurrencyHelpers
import NIOCore
import LatticeWebSocket

/// Every open connection of a server, so shutdown can say goodbye to each:
/// WebSocket connections get a close frame with 1001, the rest are closed.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        var channel: Channel
        var isWebSocket: Bool
    }
    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

    var count: Int { entries.withLockedValue { $0.count } }

    func add(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        entries.withLockedValue { $0[id] = Entry(channel: channel, isWebSocket: false) }
        channel.closeFuture.whenComplete { _ in
            _ = self.entries.withLockedValue { $0.removeValue(forKey: id) }
        }
    }

    func markWebSocket(_ channel: Channel) {
        entries.withLockedValue { $0[ObjectIdentifier(channel)]?.isWebSocket = true }
    }

    /// Sends 1001 to every WebSocket connection and closes the others; resolves when all are closed
    /// or `timeout` has passed (then the stragglers are closed hard).
    func closeAll(eventLoop: EventLoop, timeout: TimeAmount) -> EventLoopFuture<Void> {
        let all = entries.withLockedValue { Array($0.values) }
        for entry in all {
            if entry.isWebSocket {
                entry.channel.writeAndFlush(WebSocketOutbound.close(.goingAway, reason: "server shutting down"), promise: nil)
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
