public import LatticeProtocol
public import LatticeStreams
public import NIOCore
import Synchronization

/// The fan-out hub: every stream of the server, each owned by one *home* event loop.
///
/// Threading (docs/architecture.md, "Streams and fan-out"): a stream's `StreamLog`,
/// `PresenceTable` and reducer state live in the `HomeLoop` of its home loop — chosen by a
/// stable hash of its name over the server's loops — and are touched only there, without locks.
///
/// Every event takes one path: a request (a session's `publish`, or a server component's
/// `append`) → the home loop → the store, for a durable stream → the log and the reducer → the
/// fan-out to subscribers, grouped by their loop → the answer to whoever asked. Subscribers
/// (`HubSubscriber`) live on their own loops; the home loop reaches them by one task per
/// (event, remote loop) carrying every delivery for that loop, or directly on its own loop.
public final class StreamHub: Sendable {
    let settings: HubSettings
    /// The store behind durable streams; nil keeps every stream in memory only.
    let durable: DurableStreams?
    let loops: [any EventLoop]
    let homes: [NIOLoopBound<HomeLoop>]
    private let indexOfLoop: [ObjectIdentifier: Int]
    private let nextID = Atomic<UInt64>(1)

    private init(settings: HubSettings, durable: DurableStreams?, loops: [any EventLoop], homes: [NIOLoopBound<HomeLoop>]) {
        self.settings = settings
        self.durable = durable
        self.loops = loops
        self.homes = homes
        var index: [ObjectIdentifier: Int] = [:]
        for (i, loop) in loops.enumerated() { index[ObjectIdentifier(loop)] = i }
        self.indexOfLoop = index
    }

    /// A hub over every loop of `group` (one `HomeLoop` made on each loop).
    public static func make(group: any EventLoopGroup, settings: HubSettings, durable: DurableStreams? = nil) async throws -> StreamHub {
        try await make(loops: Array(group.makeIterator()), settings: settings, durable: durable)
    }

    /// A hub over `loops` (in-process tests use one `EmbeddedEventLoop` or a few loops).
    static func make(loops: [any EventLoop], settings: HubSettings, durable: DurableStreams?) async throws -> StreamHub {
        var homes: [NIOLoopBound<HomeLoop>] = []
        for (index, loop) in loops.enumerated() {
            let count = loops.count
            homes.append(try await loop.submit { NIOLoopBound(HomeLoop(index: index, loop: loop, loopCount: count), eventLoop: loop) }.get())
        }
        let hub = StreamHub(settings: settings, durable: durable, loops: loops, homes: homes)
        for (index, loop) in loops.enumerated() {
            let home = homes[index]
            try await loop.submit { home.value.start(hub: hub) }.get()
        }
        return hub
    }

    /// Stops every home loop's timers (before the event loops shut down).
    public func stop() async {
        for (index, loop) in loops.enumerated() {
            let home = homes[index]
            try? await loop.submit { home.value.stop() }.get()
        }
    }

    // MARK: server-side append

    /// Appends one event to `stream` as the server (no session involved): the run executor,
    /// the document sequencer and workspace activity publish through this. It takes the same
    /// path as a session's `publish` — home loop, store, log, reducer, fan-out — and returns the
    /// event's position once it is published; for a durable stream that is after its commit.
    /// `data` must be one JSON value (`RawJSON` guarantees it). Unlike a session's publish it
    /// is not limited to channels: it is how `run/…`, `doc/…` and `workspace/…` get events.
    /// With an `attachment` (`OutboxRelay`, `RunRowWrite`), the store makes that write in the
    /// event's own transaction (`DurableStreamStore.append`); the stream must be durable.
    public func append(_ stream: StreamName, data: RawJSON, key: String? = nil,
                       attachment: (any DurableAppendAttachment)? = nil) async throws(StreamAppendError) -> StreamPosition {
        let result: Result<StreamPosition, StreamAppendError> = await withCheckedContinuation { continuation in
            append(stream, data: data, key: key, attachment: attachment) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// The same append, answered through `completion` (on the stream's home loop). Appends to
    /// one stream made one after another from one thread are stored, and published, in that
    /// order — what the run executor relies on to append a step's events without waiting for
    /// each commit.
    public func append(_ stream: StreamName, data: RawJSON, key: String? = nil, attachment: (any DurableAppendAttachment)? = nil,
                       completion: @escaping @Sendable (Result<StreamPosition, StreamAppendError>) -> Void) {
        onHome(stream) {
            $0.publish(stream, data: data, key: key, attachment: attachment, origin: .server(completion))
        }
    }

    // MARK: what subscribers ask (each runs on the stream's home loop)

    /// Attaches `sub` — resuming after `since`, or from a snapshot — and answers in slot `seq`.
    func subscribe(_ stream: StreamName, sub: SubscriberID, ref: SubscriberRef, since: StreamPosition?, snapshot: Bool,
                   requestID: RequestID?, seq: UInt64) {
        onHome(stream) { $0.subscribe(stream, sub: sub, ref: ref, since: since, snapshot: snapshot, requestID: requestID, seq: seq) }
    }

    /// Detaches `sub` and removes its presence; answers `ok` in slot `seq` when given.
    func unsubscribe(_ stream: StreamName, sub: SubscriberID, ref: SubscriberRef, requestID: RequestID?, seq: UInt64?) {
        onHome(stream) { $0.unsubscribe(stream, sub: sub, ref: ref, requestID: requestID, seq: seq) }
    }

    /// A subscriber's publish; answered in slot `seq`.
    func publish(_ stream: StreamName, data: RawJSON, key: String?, ref: SubscriberRef, requestID: RequestID?, seq: UInt64) {
        onHome(stream) { $0.publish(stream, data: data, key: key, origin: .request(ref, seq: seq, id: requestID)) }
    }

    /// Replaces the connection's presence state on `stream`; answered in slot `seq`.
    func setPresence(_ stream: StreamName, state: ByteBuffer, ref: SubscriberRef, identity: Identity, requestID: RequestID?, seq: UInt64) {
        onHome(stream) { $0.presenceSet(stream, state: state, ref: ref, identity: identity, requestID: requestID, seq: seq) }
    }

    /// The subscriber can take no more for now (its socket is past its high-water mark).
    func pause(_ stream: StreamName, sub: SubscriberID) {
        onHome(stream) { $0.pause(stream, sub: sub) }
    }

    /// The subscriber can take more: the next drain step (`HubSubscriber.hubDrained`).
    func drain(_ stream: StreamName, sub: SubscriberID) {
        onHome(stream) { $0.drain(stream, sub: sub) }
    }

    /// The next step of a replay from the store, after `after` (`HubSubscriber.hubCaughtUp`).
    func catchUp(_ stream: StreamName, sub: SubscriberID, ref: SubscriberRef, after: UInt64) {
        onHome(stream) { $0.catchUp(stream, sub: sub, ref: ref, after: after) }
    }

    // MARK: routing

    /// Whether `stream` keeps its events in the durable store: every non-channel stream, and
    /// channels marked durable — when there is a store.
    func isDurable(_ stream: StreamName) -> Bool {
        guard let durable else { return false }
        return stream.kind != .channel || durable.isDurableChannel(stream.name)
    }

    /// The class `stream` is loaded with: durable when it keeps its events in the store; a channel
    /// marked coalescing is coalescing; otherwise by its name (`HubSettings.streamClass(of:)`).
    func streamClass(of stream: StreamName) -> StreamClass {
        if isDurable(stream) { return .durable }
        if stream.kind == .channel, settings.isCoalescingChannel(stream.name) { return .coalescing }
        return HubSettings.streamClass(of: stream)
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
    /// caller), with that loop's state.
    func onHome(_ stream: StreamName, _ body: @escaping @Sendable (HomeLoop) -> Void) {
        let home = homeIndex(of: stream)
        let bound = homes[home]
        loops[home].execute { body(bound.value) }
    }

    /// Runs `body` with a subscriber on its loop: directly when the caller (home loop `from`)
    /// is that loop, else as one task there. All traffic from one home loop to one subscriber
    /// takes the same route, so it stays in order.
    func onSubscriber(_ ref: SubscriberRef, from home: Int, _ body: @escaping @Sendable (any HubSubscriber) -> Void) {
        if ref.loopIndex == home {
            body(ref.subscriber.value)
        } else {
            loops[ref.loopIndex].execute { body(ref.subscriber.value) }
        }
    }

    /// Sends per-loop batches of deliveries: one task per remote loop, direct on the home loop.
    func dispatch(_ batches: [[Delivery]], stream: StreamName, epoch: StreamEpoch, from home: Int) {
        for (index, items) in batches.enumerated() where !items.isEmpty {
            if index == home {
                for item in items { item.subscriber.subscriber.value.hubDeliver(item.item, stream: stream, sub: item.sub, epoch: epoch) }
            } else {
                loops[index].execute {
                    for item in items { item.subscriber.subscriber.value.hubDeliver(item.item, stream: stream, sub: item.sub, epoch: epoch) }
                }
            }
        }
    }
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
