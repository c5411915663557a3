public import LatticeProtocol
public import NIOCore

/// Where a durable stream stands in its store: its epoch, its newest committed offset and the
/// oldest offset retention has kept.
public struct DurableStreamHead: Sendable, Equatable {
    public var epoch: StreamEpoch
    /// The newest committed offset (0 before the first event).
    public var newestOffset: UInt64
    /// The oldest offset still stored; `newestOffset + 1` when nothing is stored.
    public var oldestOffset: UInt64

    public init(epoch: StreamEpoch, newestOffset: UInt64, oldestOffset: UInt64) {
        self.epoch = epoch
        self.newestOffset = newestOffset
        self.oldestOffset = oldestOffset
    }
}

/// One event as a durable store keeps it: the publisher's JSON `data`, not the encoded frame
/// (the frame is rebuilt from it, so the store does not depend on the wire format).
public struct StoredStreamEvent: Sendable, Equatable {
    public var offset: UInt64
    /// The event's `data`: one JSON value, as published.
    public var data: ByteBuffer
    public var key: String?
    /// When it was committed, in milliseconds since 1970 (retention by age, history reads).
    public var timeMillis: Int64

    public init(offset: UInt64, data: ByteBuffer, key: String?, timeMillis: Int64) {
        self.offset = offset
        self.data = data
        self.key = key
        self.timeMillis = timeMillis
    }
}

/// Why an append was not stored.
public enum DurableAppendError: Error, Sendable, Equatable {
    /// The store failed (disk full, I/O error, closed); nothing of this append is stored.
    case storeFailed(String)
}

/// The persistent side of durable streams. The hub (`LatticeServer`) uses it; `LatticeStore`
/// implements it on SQLite.
///
/// ## Offsets are assigned by the store, at commit
/// `append` does not take an offset: the store's single writer assigns `newest + 1` inside the
/// transaction that stores the event, so only committed events ever have offsets, and a failed
/// transaction leaves no hole. Completions are called **in commit order** (for one stream: in
/// offset order), from the store's writer thread — never from an event loop; the caller hops
/// to its loop. An event is acknowledged to its publisher only from its completion, i.e. after
/// its transaction committed: a crash at any moment loses no acknowledged event.
///
/// ## Group commit
/// Appends that arrive while a transaction is being written are collected and written together
/// in the next one (one fsync for many events), up to a batch limit.
public protocol DurableStreamStore: Sendable {
    /// The head of `stream`. A stream the store has never seen gets a fresh random epoch, kept
    /// (in memory) so every caller sees the same one; it is persisted with its first event.
    /// Synchronous and cheap (an in-memory table under a lock): callable on an event loop.
    func head(of stream: String) -> DurableStreamHead

    /// Stores one event of `stream` in the next group commit; `completion` gets its offset once
    /// the transaction committed, or the error. With an `attachment` (`OutboxRelay`, a domain
    /// module's row write), the store makes that write in the same transaction as the event, so
    /// both are committed or neither is; an attachment the store does not know fails the append
    /// (`.storeFailed`) without storing its event.
    func append(stream: String, data: ByteBuffer, key: String?, attachment: (any DurableAppendAttachment)?,
                completion: @escaping @Sendable (Result<UInt64, DurableAppendError>) -> Void)

    /// The stored events of `stream` with offsets `after + 1 …`, oldest first, at most `limit`.
    /// Events trimmed by retention are absent (the result then starts above `after + 1`).
    /// Reads run off the event loops and see only committed events.
    func read(stream: String, after: UInt64, limit: Int) async throws -> [StoredStreamEvent]
}
