public import NIOCore

/// What a history can say about the events after an offset.
public enum HistoryRead: Sendable {
    /// The events `after + 1 …` in order, contiguous, at most `limit` of them; empty exactly when
    /// `after` is the newest offset.
    case events([StreamEvent])
    /// The events right after `after` are gone (trimmed by count, bytes, age or retention):
    /// the reader cannot be brought up to date from this history.
    case unavailable
    /// The events in `range` exist, but only in an asynchronous store; the caller reads them there
    /// (off the stream's event loop) and then asks again from `range.upperBound`.
    /// `MemoryStreamHistory` never answers this.
    case needsStore(ClosedRange<UInt64>)
}

/// The retained events of one stream, behind which a persistent store can later sit.
///
/// ## Why synchronous, with `.needsStore`
/// Every call is made from the stream's one event loop, inside operations that must be atomic
/// with respect to publishes (`StreamLog.attach` reads the backlog and registers the subscriber
/// in one step, so no event can fall between them). An `async` requirement would break that
/// atomicity (publishes could interleave at every suspension point) and would force every
/// publish through a hop. So the protocol stays synchronous and describes the *in-memory window*
/// of a stream; a durable implementation (SQLite, later) keeps a recent tail in memory and, when a
/// reader needs older events, answers `.needsStore(range)` instead of blocking. The hub then
/// fetches `range` asynchronously, writes those events, and repeats the call from the end of the
/// range; each round moves the reader forward, and once it is inside the memory tail the final
/// step (`.events`) is atomic again. Publishing is synchronous: the durable implementation
/// appends to its tail and hands the write to its own group-commit writer.
///
/// Implementations are values used from one thread at a time; they need no locks.
public protocol StreamHistory: Sendable {
    /// The offset of the newest event ever appended (0 before the first).
    var newestOffset: UInt64 { get }
    /// The first offset that can still be read (from memory or, for a durable history, its store);
    /// `newestOffset + 1` when nothing is retained.
    var oldestOffset: UInt64 { get }
    /// Appends the next event. Precondition: `event.offset == newestOffset + 1`.
    /// May trim older events to stay within the implementation's bounds.
    mutating func append(_ event: StreamEvent)
    /// The events after `offset`, at most `limit` (≥ 1) of them.
    /// Precondition: `offset <= newestOffset`.
    func read(after offset: UInt64, limit: Int) -> HistoryRead
    /// Drops what has grown older than the implementation's age bound at `now`.
    mutating func trim(now: NIODeadline)
}

extension StreamHistory {
    /// Whether every event after `offset` can still be read (`offset ≥ oldestOffset - 1`).
    public func reaches(after offset: UInt64) -> Bool {
        offset <= newestOffset && offset &+ 1 >= oldestOffset
    }
}
