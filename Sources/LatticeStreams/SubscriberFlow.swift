public import NIOCore

/// The backpressure state of one subscriber of one stream: a pure state machine.
///
/// The hub offers it every published event and tells it when the subscriber's socket stops
/// being writable past the high-water mark (`pause`) and when it drains (`drain`). While live it
/// passes events straight through; while paused it applies its class's policy:
///
/// - **durable**: holds nothing, only its last delivered offset; on drain it catches up from
///   history in batches of `catchUpBatch` (ignoring live offers meanwhile — history has them);
///   if history no longer reaches, it reports `.gap(.historyLost)` once and continues from the
///   newest offset.
/// - **ephemeral**: queues events, at most `maxQueuedEvents` and `maxQueuedBytes`; overflow
///   drops the oldest and counts them; on drain it emits one `.gap(.dropped)` (if any were
///   dropped) and then the queue.
/// - **coalescing**: keeps only the latest event per key and every keyless event, at most
///   `maxQueuedEvents` entries and `maxQueuedBytes`; a keyed event replaces the held event of its
///   key (the older one is skipped, not a gap); overflow evicts the entry with the oldest offset
///   (reported as a gap); on drain it emits the held events in offset order.
///
/// Any class with `closeAfterStall` set is closed (4001 `slow_consumer`) once it has stayed
/// paused longer than that; the check runs on every offer while paused and on `checkStall`.
///
/// Delivered offsets are strictly increasing for every class; for durable they are contiguous
/// except across a `.historyLost` gap.
public struct SubscriberFlow: Sendable {
    public enum State: Sendable, Equatable {
        case live
        case paused(since: NIODeadline)
        /// Durable only: draining from history.
        case catchingUp
        case closed
    }

    public let streamClass: StreamClass
    public let limits: FlowLimits
    public private(set) var state: State = .live
    /// The highest offset handed to the hub (as an event, or skipped past by a gap).
    public private(set) var lastDelivered: UInt64
    /// Durable: a `.fetch` is outstanding.
    public private(set) var awaitingFetch = false

    private var queue: [StreamEvent] = []
    private var queueHead = 0
    /// Coalescing while paused: the held events in offset order from `queueHead`; a slot whose
    /// key got a newer event is nil. `slotOfKey` maps each held key to its slot.
    private var slots: [StreamEvent?] = []
    private var slotOfKey: [String: Int] = [:]
    private var heldCount = 0
    /// Payload bytes held while paused (ephemeral queue or coalescing entries).
    public private(set) var queuedBytes = 0
    private var dropped = 0
    private var lastOffered: UInt64

    /// A live flow whose subscriber has everything up to `lastDelivered`.
    public init(streamClass: StreamClass, limits: FlowLimits, lastDelivered: UInt64) {
        self.streamClass = streamClass
        self.limits = limits
        self.lastDelivered = lastDelivered
        self.lastOffered = lastDelivered
    }

    /// Events held while paused (ephemeral queue length or coalescing keys).
    public var queuedEvents: Int {
        switch streamClass {
        case .durable: 0
        case .ephemeral: queue.count - queueHead
        case .coalescing: heldCount
        }
    }

    public var isPaused: Bool {
        if case .paused = state { return true }
        return false
    }

    /// A newly published event. Returns what to write now, if anything.
    public mutating func offer(_ event: StreamEvent, now: NIODeadline) -> FlowOutput? {
        if state == .live {
            assert(event.offset > lastDelivered, "offers must come in offset order")
            assert(streamClass != .durable || event.offset == lastDelivered + 1, "durable offers must be contiguous")
            lastDelivered = event.offset
            return .event(event)
        }
        return offerSlow(event, now: now)
    }

    private mutating func offerSlow(_ event: StreamEvent, now: NIODeadline) -> FlowOutput? {
        guard case .paused = state else { return nil }  // catching up (history has it) or closed
        if let close = checkStall(now: now) { return close }
        lastOffered = event.offset
        switch streamClass {
        case .durable:
            break
        case .ephemeral:
            queue.append(event)
            queuedBytes += event.byteCount
            while queue.count - queueHead > limits.maxQueuedEvents || queuedBytes > limits.maxQueuedBytes {
                queuedBytes -= queue[queueHead].byteCount
                queueHead += 1
                dropped += 1
            }
            if queueHead >= 32, queueHead * 2 >= queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
        case .coalescing:
            hold(event)
        }
        return nil
    }

    /// The subscriber's socket is not writable past the high-water mark.
    public mutating func pause(now: NIODeadline) {
        switch state {
        case .live, .catchingUp: state = .paused(since: now)
        case .paused, .closed: break
        }
    }

    /// Closes the flow if it has been paused longer than `closeAfterStall`.
    public mutating func checkStall(now: NIODeadline) -> FlowOutput? {
        guard case .paused(let since) = state, let limit = limits.closeAfterStall, since + limit < now else {
            return nil
        }
        state = .closed
        queue = []
        queueHead = 0
        clearHeld()
        queuedBytes = 0
        return .close(FlowClose(stalledFor: now - since))
    }

    /// The subscriber's socket drained: what to write now. Durable flows read `history`.
    public mutating func drain(history: some StreamHistory, now: NIODeadline) -> FlowDrain {
        switch state {
        case .live, .closed:
            return FlowDrain()
        case .paused, .catchingUp:
            break
        }
        if let close = checkStall(now: now) { return FlowDrain(outputs: [close]) }
        switch streamClass {
        case .durable:
            return catchUp(history: history)
        case .ephemeral:
            var outputs: [FlowOutput] = []
            outputs.reserveCapacity(queue.count - queueHead + 1)
            if dropped > 0 {
                let resumesAfter = queueHead < queue.count ? queue[queueHead].offset - 1 : lastOffered
                outputs.append(.gap(FlowGap(reason: .dropped(count: dropped), lastDelivered: lastDelivered, resumesAfter: resumesAfter)))
            }
            for i in queueHead..<queue.count { outputs.append(.event(queue[i])) }
            queue = []
            queueHead = 0
            return finishQueueDrain(outputs)
        case .coalescing:
            var outputs: [FlowOutput] = []
            outputs.reserveCapacity(heldCount + 1)
            if dropped > 0 {
                let first = slots[queueHead...].first { $0 != nil }??.offset
                let resumesAfter = first.map { $0 - 1 } ?? lastOffered
                outputs.append(.gap(FlowGap(reason: .dropped(count: dropped), lastDelivered: lastDelivered, resumesAfter: resumesAfter)))
            }
            for i in queueHead..<slots.count { if let event = slots[i] { outputs.append(.event(event)) } }
            clearHeld()
            return finishQueueDrain(outputs)
        }
    }

    // MARK: coalescing

    /// Holds `event`: it replaces the held event of its key (whose offset is then skipped), a
    /// keyless one is appended; then the oldest entries go while over the bounds.
    private mutating func hold(_ event: StreamEvent) {
        if let key = event.key {
            if let old = slotOfKey[key], let replaced = slots[old] {
                queuedBytes -= replaced.byteCount
                slots[old] = nil
                heldCount -= 1
            }
            slotOfKey[key] = slots.count
        }
        slots.append(event)
        heldCount += 1
        queuedBytes += event.byteCount
        while heldCount > limits.maxQueuedEvents || queuedBytes > limits.maxQueuedBytes {
            while slots[queueHead] == nil { queueHead += 1 }
            let oldest = slots[queueHead]!
            slots[queueHead] = nil
            queueHead += 1
            if let key = oldest.key { slotOfKey.removeValue(forKey: key) }
            heldCount -= 1
            queuedBytes -= oldest.byteCount
            dropped += 1
        }
        // Superseded and evicted slots are reclaimed once they are as many as the held ones, so
        // the array stays within twice the held entries (plus 32) at amortised O(1) per event.
        let dead = slots.count - heldCount
        if dead >= 32, dead >= heldCount { compactHeld() }
    }

    private mutating func compactHeld() {
        var kept: [StreamEvent?] = []
        kept.reserveCapacity(heldCount)
        slotOfKey.removeAll(keepingCapacity: true)
        for i in queueHead..<slots.count {
            guard let event = slots[i] else { continue }
            if let key = event.key { slotOfKey[key] = kept.count }
            kept.append(event)
        }
        slots = kept
        queueHead = 0
    }

    /// `events` (in offset order) as a coalescing subscriber that is behind gets them: the newest
    /// event of each key and every keyless event, in offset order.
    public static func coalesced(_ events: [StreamEvent]) -> [StreamEvent] {
        guard events.contains(where: { $0.key != nil }) else { return events }
        var seen: Set<String> = []
        var kept: [StreamEvent] = []
        kept.reserveCapacity(events.count)
        for event in events.reversed() {
            if let key = event.key, !seen.insert(key).inserted { continue }
            kept.append(event)
        }
        kept.reverse()
        return kept
    }

    private mutating func clearHeld() {
        slots = []
        slotOfKey = [:]
        heldCount = 0
        if streamClass == .coalescing { queueHead = 0 }
    }

    private mutating func finishQueueDrain(_ outputs: [FlowOutput]) -> FlowDrain {
        queuedBytes = 0
        dropped = 0
        lastDelivered = max(lastDelivered, lastOffered)
        state = .live
        return FlowDrain(outputs: outputs)
    }

    private mutating func catchUp(history: some StreamHistory) -> FlowDrain {
        state = .catchingUp
        if awaitingFetch { return FlowDrain() }
        let newest = history.newestOffset
        if lastDelivered >= newest {
            state = .live
            return FlowDrain()
        }
        switch history.read(after: lastDelivered, limit: limits.catchUpBatch) {
        case .events(let events):
            lastDelivered = events.last?.offset ?? lastDelivered
            if lastDelivered >= newest { state = .live }
            return FlowDrain(outputs: events.map { .event($0) }, more: state == .catchingUp)
        case .unavailable:
            let gap = FlowGap(reason: .historyLost, lastDelivered: lastDelivered, resumesAfter: newest)
            lastDelivered = newest
            state = .live
            return FlowDrain(outputs: [.gap(gap)])
        case .needsStore(let range):
            awaitingFetch = true
            return FlowDrain(outputs: [.fetch(range)])
        }
    }

    /// Durable: the hub wrote the fetched events up to `offset`. Continues the catch-up unless
    /// the subscriber was paused meanwhile.
    public mutating func fetched(through offset: UInt64, history: some StreamHistory, now: NIODeadline) -> FlowDrain {
        guard awaitingFetch else { return FlowDrain() }
        awaitingFetch = false
        lastDelivered = max(lastDelivered, offset)
        return state == .catchingUp ? catchUp(history: history) : FlowDrain()
    }
}
