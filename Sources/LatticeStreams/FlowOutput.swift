public import NIOCore
import LatticeProtocol

/// What the hub must do for one subscriber, in order.
public enum FlowOutput: Sendable {
    /// Write this event (its shared payload) to the subscriber.
    case event(StreamEvent)
    /// Tell the subscriber that events were skipped (a `recovered: false`-style notice carrying
    /// the stream's epoch and `gap.resumesAfter`); delivery continues after it.
    case gap(FlowGap)
    /// Close the subscriber's connection with `close.code` (4001) and `close.reason`
    /// (`slow_consumer`). The subscriber is already detached from the log.
    case close(FlowClose)
    /// Durable history behind an asynchronous store: read these events from the store, write
    /// them, then call `StreamLog.fetched(_:through:now:)`.
    case fetch(ClosedRange<UInt64>)
}

/// Events a subscriber will never get, and where its delivery picks up again.
public struct FlowGap: Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        /// Durable: history no longer reached back to the subscriber's position when it drained.
        case historyLost
        /// Ephemeral or coalescing: this many events were dropped from the bounded queue.
        case dropped(count: Int)
    }

    public var reason: Reason
    /// The last offset the subscriber had been given before the gap.
    public var lastDelivered: UInt64
    /// Delivery continues after this offset: every later event has a higher offset.
    public var resumesAfter: UInt64

    public init(reason: Reason, lastDelivered: UInt64, resumesAfter: UInt64) {
        self.reason = reason
        self.lastDelivered = lastDelivered
        self.resumesAfter = resumesAfter
    }
}

/// The hub must close the subscriber's connection.
public struct FlowClose: Sendable, Equatable {
    public var code: UInt16
    public var reason: String
    /// How long the subscriber had been paused.
    public var stalledFor: TimeAmount

    public init(stalledFor: TimeAmount) {
        // A consumer that stayed stalled too long: 4001 slow_consumer, from the table of codes.
        self.code = LatticeCloseCode.slowConsumer.rawValue
        self.reason = LatticeCloseCode.slowConsumer.reason
        self.stalledFor = stalledFor
    }
}

/// The outputs of one drain step.
public struct FlowDrain: Sendable {
    public var outputs: [FlowOutput]
    /// Durable catch-up is not finished: after writing `outputs`, call `drain` again (for example
    /// from the write's completion) while the socket stays writable.
    public var more: Bool

    public init(outputs: [FlowOutput] = [], more: Bool = false) {
        self.outputs = outputs
        self.more = more
    }
}
