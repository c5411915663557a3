public import NIOCore

/// Bounds on what one paused subscriber may hold, by stream class.
///
/// Memory held per stalled subscriber, whatever is published (payloads are shared with the
/// history and other subscribers, so these are upper bounds on what it keeps alive):
/// - durable: nothing but its position — O(1), about 100 bytes;
/// - ephemeral: at most `maxQueuedEvents` events and `maxQueuedBytes` payload bytes
///   (defaults 256 events / 1 MiB, plus ~40 bytes of bookkeeping per queued event);
/// - coalescing: at most `maxQueuedEvents` keys and `maxQueuedBytes` payload bytes
///   (defaults 1,024 keys / 1 MiB, plus the keys' strings and ~80 bytes per entry).
public struct FlowLimits: Sendable, Equatable {
    /// Ephemeral: most queued events. Coalescing: most distinct keys held. Durable: unused.
    public var maxQueuedEvents: Int
    /// Ephemeral and coalescing: most payload bytes held. Durable: unused.
    public var maxQueuedBytes: Int
    /// Close the subscriber (4001 `slow_consumer`) once it has been paused this long;
    /// `nil`: never close for slowness.
    public var closeAfterStall: TimeAmount?
    /// Durable: most events handed out per catch-up step (the hub writes them and calls `drain`
    /// again while `more` is set).
    public var catchUpBatch: Int

    public init(maxQueuedEvents: Int, maxQueuedBytes: Int, closeAfterStall: TimeAmount?, catchUpBatch: Int) {
        precondition(maxQueuedEvents >= 0 && maxQueuedBytes >= 0, "queue limits must not be negative")
        precondition(catchUpBatch >= 1, "catch-up batch must be at least 1")
        self.maxQueuedEvents = maxQueuedEvents
        self.maxQueuedBytes = maxQueuedBytes
        self.closeAfterStall = closeAfterStall
        self.catchUpBatch = catchUpBatch
    }

    /// Holds nothing while paused; catches up 512 events per step; never closed for slowness
    /// (it falls off history instead and gets a `recovered: false` notice).
    public static let durable = FlowLimits(maxQueuedEvents: 0, maxQueuedBytes: 0, closeAfterStall: nil, catchUpBatch: 512)
    /// 256 events / 1 MiB queued; closed with 4001 after 30 s paused.
    public static let ephemeral = FlowLimits(
        maxQueuedEvents: 256, maxQueuedBytes: 1 << 20, closeAfterStall: .seconds(30), catchUpBatch: 512)
    /// 1,024 keys / 1 MiB held; never closed for slowness (its memory is bounded by keys).
    public static let coalescing = FlowLimits(
        maxQueuedEvents: 1024, maxQueuedBytes: 1 << 20, closeAfterStall: nil, catchUpBatch: 512)
}

/// Everything a `StreamLog` needs to know about its stream's class.
public struct StreamPolicy: Sendable, Equatable {
    public var streamClass: StreamClass
    public var history: HistoryLimits
    public var flow: FlowLimits
    /// Most subscribers attached at once (`attach` refuses beyond).
    public var maxSubscribers: Int

    public init(streamClass: StreamClass, history: HistoryLimits, flow: FlowLimits, maxSubscribers: Int = 100_000) {
        precondition(maxSubscribers >= 0, "maxSubscribers must not be negative")
        self.streamClass = streamClass
        self.history = history
        self.flow = flow
        self.maxSubscribers = maxSubscribers
    }

    /// The documented defaults for a class.
    public static func defaults(for streamClass: StreamClass) -> StreamPolicy {
        switch streamClass {
        case .durable: StreamPolicy(streamClass: .durable, history: .durable, flow: .durable)
        case .ephemeral: StreamPolicy(streamClass: .ephemeral, history: .ephemeral, flow: .ephemeral)
        case .coalescing: StreamPolicy(streamClass: .coalescing, history: .coalescing, flow: .coalescing)
        }
    }
}
