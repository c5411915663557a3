public import LatticeProtocol
public import NIOCore

/// A subscribe's answer: what the client missed, and where live delivery starts.
public struct Attachment: Sendable {
    public var outcome: ResumeOutcome
    /// Exactly the events after the client's offset, oldest first (empty unless recovered). On a
    /// coalescing stream only the newest event of each key among them, and every keyless one.
    public var backlog: [StreamEvent]
    /// The newest offset at attach time: the first live event the subscriber gets is `liveFrom + 1`.
    public var liveFrom: UInt64
    /// The stream's epoch (for the `recovered` / subscribe answer).
    public var epoch: StreamEpoch

    /// The protocol's `recovered` flag (`false` means the client must refetch).
    public var recovered: Bool { outcome.recovered }
    /// The position the client holds once it has written the backlog.
    public var position: StreamPosition { StreamPosition(epoch: epoch, offset: liveFrom) }
}

/// The result of `StreamLog.attach`.
public enum AttachResult: Sendable {
    /// The subscriber is attached; write `backlog`, then live events follow.
    case attached(Attachment)
    /// Only from a history behind an asynchronous store: the subscriber is **not** attached yet.
    /// Read `range` from the store and write it, then call `attach` again with
    /// `since: StreamPosition(epoch: epoch, offset: range.upperBound)`.
    case needsStore(ClosedRange<UInt64>)
}

public enum StreamLogError: Error, Sendable, Equatable {
    case tooManySubscribers(limit: Int)
    case alreadyAttached(SubscriberID)
}

/// One stream: its epoch, its offsets, its history and its subscribers' backpressure state.
///
/// A value type with no locks: the hub keeps one per stream and calls it from that stream's
/// single event loop only. Every method is synchronous, so each call is atomic with respect to
/// publishes — in particular `attach` reads the backlog and registers the subscriber in one step.
public struct StreamLog<History: StreamHistory>: Sendable {
    public let epoch: StreamEpoch
    public let policy: StreamPolicy
    public private(set) var history: History
    private var flows: [SubscriberID: SubscriberFlow] = [:]

    public init(epoch: StreamEpoch, policy: StreamPolicy, history: History) {
        self.epoch = epoch
        self.policy = policy
        self.history = history
    }

    public var streamClass: StreamClass { policy.streamClass }
    public var newestOffset: UInt64 { history.newestOffset }
    public var position: StreamPosition { StreamPosition(epoch: epoch, offset: history.newestOffset) }
    public var subscriberCount: Int { flows.count }
    public var subscribers: Dictionary<SubscriberID, SubscriberFlow>.Keys { flows.keys }

    /// The backpressure state of one subscriber (metrics, tests).
    public func flow(_ id: SubscriberID) -> SubscriberFlow? { flows[id] }

    /// Appends an event (offset `newestOffset + 1`) and offers it to every subscriber;
    /// `deliver` is called, synchronously, once for each subscriber that must be written to now
    /// (`.event`, or `.close` for one stalled too long — that one is detached already).
    /// Returns the event, for the hub's own use (acknowledging the publisher).
    @discardableResult
    public mutating func publish(
        _ payload: ByteBuffer, key: String? = nil, now: NIODeadline,
        deliver: (SubscriberID, FlowOutput) -> Void
    ) -> StreamEvent {
        let event = StreamEvent(offset: history.newestOffset + 1, payload: payload, key: key, timestamp: now)
        history.append(event)
        var closed: [SubscriberID] = []
        var index = flows.values.startIndex
        while index != flows.values.endIndex {
            if let output = flows.values[index].offer(event, now: now) {
                let id = flows.keys[index]
                if case .close = output { closed.append(id) }
                deliver(id, output)
            }
            flows.values.formIndex(after: &index)
        }
        for id in closed { flows.removeValue(forKey: id) }
        return event
    }

    /// Subscribes `id`, resuming from `since` when given. Reading the backlog and registering the
    /// subscriber happen in this one call, so the backlog and the live events that follow meet
    /// exactly: no gap, no duplicate. Not recovered (epoch changed, history trimmed, offset
    /// ahead): empty backlog, live from the newest offset; the client refetches.
    public mutating func attach(
        _ id: SubscriberID, since: StreamPosition?, now: NIODeadline
    ) throws(StreamLogError) -> AttachResult {
        guard flows[id] == nil else { throw .alreadyAttached(id) }
        guard flows.count < policy.maxSubscribers else { throw .tooManySubscribers(limit: policy.maxSubscribers) }
        history.trim(now: now)
        let newest = history.newestOffset
        var outcome = ResumeDecision.decide(
            since: since, epoch: epoch, oldestOffset: history.oldestOffset, newestOffset: newest)
        var backlog: [StreamEvent] = []
        if outcome == .recovered, let since, since.offset < newest {
            switch history.read(after: since.offset, limit: Int.max) {
            case .events(let events):
                backlog = policy.streamClass == .coalescing ? SubscriberFlow.coalesced(events) : events
            case .unavailable:
                outcome = .notRecovered(.historyTrimmed)
            case .needsStore(let range):
                return .needsStore(range)
            }
        }
        flows[id] = SubscriberFlow(streamClass: policy.streamClass, limits: policy.flow, lastDelivered: newest)
        return .attached(Attachment(outcome: outcome, backlog: backlog, liveFrom: newest, epoch: epoch))
    }

    /// Unsubscribes `id`; returns whether it was attached.
    @discardableResult
    public mutating func detach(_ id: SubscriberID) -> Bool {
        flows.removeValue(forKey: id) != nil
    }

    /// `id`'s socket is not writable past the high-water mark.
    public mutating func pause(_ id: SubscriberID, now: NIODeadline) {
        flows[id]?.pause(now: now)
    }

    /// `id`'s socket drained: what to write now (see `FlowDrain.more`). A `.close` output means
    /// the subscriber is detached already.
    public mutating func drain(_ id: SubscriberID, now: NIODeadline) -> FlowDrain {
        guard var flow = flows.removeValue(forKey: id) else { return FlowDrain() }
        let result = flow.drain(history: history, now: now)
        if flow.state != .closed { flows[id] = flow }
        return result
    }

    /// After a `.fetch(range)` output: the hub wrote the store's events through `offset`.
    public mutating func fetched(_ id: SubscriberID, through offset: UInt64, now: NIODeadline) -> FlowDrain {
        guard var flow = flows.removeValue(forKey: id) else { return FlowDrain() }
        let result = flow.fetched(through: offset, history: history, now: now)
        flows[id] = flow
        return result
    }

    /// Closes every subscriber paused longer than its class allows; call it on a timer (every
    /// second is plenty). `close` gets each one's `.close` output; they are detached already.
    public mutating func checkStalls(now: NIODeadline, close: (SubscriberID, FlowOutput) -> Void) {
        var closed: [SubscriberID] = []
        for (id, flow) in flows {
            guard flow.isPaused, flow.limits.closeAfterStall != nil else { continue }
            var copy = flow
            if let output = copy.checkStall(now: now) {
                closed.append(id)
                close(id, output)
            }
        }
        for id in closed { flows.removeValue(forKey: id) }
    }

    /// Changes the history in place (a durable stream's store bounds, after retention).
    public mutating func updateHistory(_ body: (inout History) -> Void) {
        body(&history)
    }

    /// Drops history older than the policy's age bound.
    public mutating func trim(now: NIODeadline) {
        history.trim(now: now)
    }
}

extension StreamLog where History == MemoryStreamHistory {
    /// A stream with an in-memory history bounded by `policy.history`.
    public init(epoch: StreamEpoch = .random(), policy: StreamPolicy, newestOffset: UInt64 = 0) {
        self.init(epoch: epoch, policy: policy, history: MemoryStreamHistory(limits: policy.history, newestOffset: newestOffset))
    }
}
