public import NIOCore

/// A stream's history in memory: a ring buffer of the newest events, bounded by count, bytes and
/// age (`HistoryLimits`).
///
/// Append is O(1) amortised (the ring grows by doubling up to `maxEvents`, so an idle stream
/// does not reserve its full bound); lookup by offset is O(1), since retained offsets are
/// contiguous: the event at `offset` sits `offset - oldestOffset` slots after the head.
public struct MemoryStreamHistory: StreamHistory {
    public let limits: HistoryLimits
    private var ring: [StreamEvent?] = []
    private var head = 0
    /// Events retained.
    public private(set) var count = 0
    /// Payload bytes retained.
    public private(set) var byteCount = 0
    public private(set) var newestOffset: UInt64

    /// An empty history whose next event will have offset `newestOffset + 1`.
    public init(limits: HistoryLimits, newestOffset: UInt64 = 0) {
        self.limits = limits
        self.newestOffset = newestOffset
    }

    public var oldestOffset: UInt64 { newestOffset - UInt64(count) + 1 }

    /// The retained event at `offset`, if any.
    public subscript(offset: UInt64) -> StreamEvent? {
        guard count > 0, offset >= oldestOffset, offset <= newestOffset else { return nil }
        return ring[slot(Int(offset - oldestOffset))]
    }

    public mutating func append(_ event: StreamEvent) {
        precondition(event.offset == newestOffset + 1, "offsets must grow by exactly 1")
        newestOffset = event.offset
        guard limits.maxEvents > 0 else { return }
        if count == limits.maxEvents { removeOldest() }
        if count == ring.count { grow() }
        ring[slot(count)] = event
        count += 1
        byteCount += event.byteCount
        while byteCount > limits.maxBytes, count > 0 { removeOldest() }
        trim(now: event.timestamp)
    }

    public func read(after offset: UInt64, limit: Int) -> HistoryRead {
        precondition(offset <= newestOffset, "cannot read after an offset not yet published")
        precondition(limit >= 1, "read limit must be at least 1")
        if offset == newestOffset { return .events([]) }
        guard offset + 1 >= oldestOffset else { return .unavailable }
        let first = Int(offset + 1 - oldestOffset)
        let n = Int(min(UInt64(limit), newestOffset - offset))
        var events: [StreamEvent] = []
        events.reserveCapacity(n)
        for i in first..<(first + n) {
            events.append(ring[slot(i)]!)
        }
        return .events(events)
    }

    public mutating func trim(now: NIODeadline) {
        guard let maxAge = limits.maxAge else { return }
        while count > 0, ring[head]!.timestamp + maxAge < now {
            removeOldest()
        }
    }

    private func slot(_ index: Int) -> Int {
        let s = head + index
        return s < ring.count ? s : s - ring.count
    }

    private mutating func removeOldest() {
        byteCount -= ring[head]!.byteCount
        ring[head] = nil
        head = head + 1 == ring.count ? 0 : head + 1
        count -= 1
        if count == 0 { head = 0 }
    }

    private mutating func grow() {
        let capacity = min(max(8, ring.count * 2), limits.maxEvents)
        var bigger = [StreamEvent?](repeating: nil, count: capacity)
        for i in 0..<count { bigger[i] = ring[slot(i)] }
        ring = bigger
        head = 0
    }
}
