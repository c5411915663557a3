import LatticeProtocol
import NIOCore

/// What the REST API asks of the hub: class changes and counts.
extension StreamHub {
    /// How many streams are loaded in memory, over every home loop.
    public struct LoadedStreams: Sendable, Equatable {
        public var total: Int
        public var durable: Int
        public var subscriptions: Int
    }

    /// `stream` (a channel) was made durable, coalescing or ephemeral: applies it to the loaded stream now.
    public func reclassify(_ stream: String) {
        guard case .success(let name) = StreamName.parse(stream) else { return }
        onHome(name) { $0.reclassify(name) }
    }

    /// Counts the loaded streams on each home loop (a task on each loop).
    public func loadedStreams() async -> LoadedStreams {
        var sum = LoadedStreams(total: 0, durable: 0, subscriptions: 0)
        for (index, loop) in loops.enumerated() {
            let home = homes[index]
            let counts = try? await loop.submit {
                let streams = home.value.streams.values
                return (streams.count, streams.filter(\.isDurable).count, streams.reduce(0) { $0 + $1.subscribers.count })
            }.get()
            if let counts {
                sum.total += counts.0
                sum.durable += counts.1
                sum.subscriptions += counts.2
            }
        }
        return sum
    }
}
