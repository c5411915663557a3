public import NIOCore

/// A stream's history as the hub keeps it: the newest events in memory (a `MemoryStreamHistory`
/// tail, bounded as usual) and, for a durable stream, everything retention kept in a store.
///
/// Reads the tail reaches are answered at once (`.events`); older offsets the store still has
/// are `.needsStore(range)` — the hub reads them off the loop and asks again — and offsets below
/// the store's oldest are `.unavailable`. Without a store (`storeOldestOffset == nil`) it is
/// exactly its memory tail.
public struct TieredStreamHistory: StreamHistory {
    public private(set) var tail: MemoryStreamHistory
    /// The oldest offset the store still holds; nil: no store behind this history.
    public var storeOldestOffset: UInt64?

    public init(limits: HistoryLimits, newestOffset: UInt64 = 0, storeOldestOffset: UInt64? = nil) {
        self.tail = MemoryStreamHistory(limits: limits, newestOffset: newestOffset)
        self.storeOldestOffset = storeOldestOffset
    }

    public var newestOffset: UInt64 { tail.newestOffset }

    public var oldestOffset: UInt64 {
        guard let storeOldestOffset else { return tail.oldestOffset }
        return min(storeOldestOffset, tail.oldestOffset)
    }

    public mutating func append(_ event: StreamEvent) {
        tail.append(event)
    }

    public func read(after offset: UInt64, limit: Int) -> HistoryRead {
        if offset + 1 >= tail.oldestOffset { return tail.read(after: offset, limit: limit) }
        guard let storeOldestOffset, offset + 1 >= storeOldestOffset else { return .unavailable }
        return .needsStore((offset + 1)...(tail.oldestOffset - 1))
    }

    public mutating func trim(now: NIODeadline) {
        tail.trim(now: now)
    }
}
