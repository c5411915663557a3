import LatticeProtocol
import LatticeStreams
import NIOCore
import Synchronization

/// The fan-out hub: every stream of the server, each owned by one *home* event loop.
///
/// Threading (docs/architecture.md, "Streams and fan-out"): a stream's `StreamLog` and
/// `PresenceTable` live in the `LoopContext` of its home loop — chosen by a stable hash of its
/// name over the server's loops — and are touched only there, without locks. A session lives on
/// its connection's loop; it reaches a stream by `onHome` (one task on the home loop), and the
/// home loop reaches sessions by one task per (event, remote loop) carrying every delivery for
/// that loop, or directly when the session shares the home loop.
public final class StreamHub: Sendable {
    let settings: HubSettings
    /// The store behind durable streams; nil keeps every stream in memory only.
    let durable: DurableStreams?
    let loops: [any EventLoop]
    let contexts: [NIOLoopBound<LoopContext>]
    private let indexOfLoop: [ObjectIdentifier: Int]
    private let nextID = Atomic<UInt64>(1)

    private init(settings: HubSettings, durable: DurableStreams?, loops: [any EventLoop], contexts: [NIOLoopBound<LoopContext>]) {
        self.settings = settings
        self.durable = durable
        self.loops = loops
        self.contexts = contexts
        var index: [ObjectIdentifier: Int] = [:]
        for (i, loop) in loops.enumerated() { index[ObjectIdentifier(loop)] = i }
        self.indexOfLoop = index
    }

    /// A hub over every loop of `group` (one `LoopContext` made on each loop).
    public static func make(group: any EventLoopGroup, settings: HubSettings, durable: DurableStreams? = nil) async throws -> StreamHub {
        let loops = Array(group.makeIterator())
        var contexts: [NIOLoopBound<LoopContext>] = []
        for (index, loop) in loops.enumerated() {
            let count = loops.count
            contexts.append(try await loop.submit { NIOLoopBound(LoopContext(index: index, loop: loop, loopCount: count), eventLoop: loop) }.get())
        }
        let hub = StreamHub(settings: settings, durable: durable, loops: loops, contexts: contexts)
        for (index, loop) in loops.enumerated() {
            let bound = contexts[index]
            try await loop.submit { bound.value.start(hub: hub) }.get()
        }
        return hub
    }

    /// Whether `stream` keeps its events in the durable store: every non-channel stream, and
    /// channels marked durable — when there is a store.
    func isDurable(_ stream: StreamName) -> Bool {
        guard let durable else { return false }
        return stream.kind != .channel || durable.isDurableChannel(stream.name)
    }

    /// A fresh id for one subscription (unique on this server).
    func makeSubscriberID() -> SubscriberID {
        SubscriberID(nextID.add(1, ordering: .relaxed).oldValue)
    }

    /// The index of `loop` among the hub's loops.
    func index(of loop: any EventLoop) -> Int {
        indexOfLoop[ObjectIdentifier(loop)] ?? 0
    }

    /// The stream's home loop: FNV-1a of its name, modulo the number of loops (stable for a
    /// given thread count, independent of the process's hash seed).
    func homeIndex(of stream: StreamName) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stream.name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Int(hash % UInt64(loops.count))
    }

    /// Runs `body` on the stream's home loop (always as a new task, so it never re-enters the
    /// caller), with that loop's context.
    func onHome(_ stream: StreamName, _ body: @escaping @Sendable (LoopContext) -> Void) {
        let home = homeIndex(of: stream)
        let context = contexts[home]
        loops[home].execute { body(context.value) }
    }

    /// Runs `body` with a session on its loop: directly when the caller (home loop `from`) is that
    /// loop, else as one task there. All traffic from one home loop to one session takes the same
    /// route, so it stays in order.
    func onSession(_ session: SessionRef, from home: Int, _ body: @escaping @Sendable (SessionHandler) -> Void) {
        if session.loopIndex == home {
            body(session.handler.value)
        } else {
            loops[session.loopIndex].execute { body(session.handler.value) }
        }
    }

    /// Sends per-loop batches of deliveries: one task per remote loop, direct on the home loop.
    func dispatch(_ batches: [[Delivery]], stream: StreamName, epoch: StreamEpoch, from home: Int) {
        for (index, items) in batches.enumerated() where !items.isEmpty {
            if index == home {
                for item in items { item.session.handler.value.receive(item, stream: stream, epoch: epoch) }
            } else {
                loops[index].execute {
                    for item in items { item.session.handler.value.receive(item, stream: stream, epoch: epoch) }
                }
            }
        }
    }

    /// The loop context of the caller's loop (session side: the flush coalescer).
    func context(of index: Int) -> NIOLoopBound<LoopContext> { contexts[index] }
}

/// The durable side of the hub: the store and which channels are durable.
public struct DurableStreams: Sendable {
    public var store: any DurableStreamStore
    public var isDurableChannel: @Sendable (String) -> Bool

    public init(store: any DurableStreamStore, isDurableChannel: @escaping @Sendable (String) -> Bool) {
        self.store = store
        self.isDurableChannel = isDurableChannel
    }
}

/// How the hub reaches one session: its handler, bound to its loop, and that loop's index.
struct SessionRef: Sendable {
    let handler: NIOLoopBound<SessionHandler>
    let loopIndex: Int
    let conn: ConnectionID
}

/// One thing to write to one subscriber.
struct Delivery: Sendable {
    enum Item: Sendable {
        /// A backpressure output (an event, a gap notice, a close).
        case flow(FlowOutput)
        /// A pre-encoded frame outside the log (presence).
        case frame(ByteBuffer)
    }
    let session: SessionRef
    let sub: SubscriberID
    let item: Item
}
