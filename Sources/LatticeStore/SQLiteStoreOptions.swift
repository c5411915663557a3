import Foundation

/// How much of one durable stream the store keeps. `nil` limits nothing. The newest event is
/// always kept, whatever the limits say, so a stream's head stays readable.
public struct StreamRetention: Sendable, Equatable {
    public var maxEvents: Int?
    public var maxAge: Duration?

    public init(maxEvents: Int?, maxAge: Duration?) {
        self.maxEvents = maxEvents
        self.maxAge = maxAge
    }

    /// One million events and thirty days.
    public static let standard = StreamRetention(maxEvents: 1_000_000, maxAge: .seconds(30 * 24 * 3600))
}

/// SQLite's `synchronous` setting. `.full` fsyncs the WAL at every commit (no acknowledged
/// event is lost on power failure); `.normal` only at checkpoints (safe against crashes of the
/// process, not of the machine).
public enum SQLiteSynchronous: String, Sendable {
    case full = "FULL"
    case normal = "NORMAL"
}

public struct SQLiteStoreOptions: Sendable {
    /// Collect the appends that queue up during a transaction into the next one. Off: exactly
    /// one append per transaction (for comparison in benchmarks).
    public var groupCommit: Bool
    /// Limits of one group commit.
    public var maxBatchEvents: Int
    public var maxBatchBytes: Int
    public var synchronous: SQLiteSynchronous
    /// The retention of each stream, by stream name.
    public var retention: @Sendable (String) -> StreamRetention
    /// How often the writer applies retention.
    public var retentionCheckInterval: Duration
    /// How long a connection waits for a lock held by another connection (or process).
    public var busyTimeout: Duration

    public init(groupCommit: Bool = true,
                maxBatchEvents: Int = 1024,
                maxBatchBytes: Int = 8 << 20,
                synchronous: SQLiteSynchronous = .full,
                retention: @escaping @Sendable (String) -> StreamRetention = { _ in .standard },
                retentionCheckInterval: Duration = .seconds(60),
                busyTimeout: Duration = .seconds(5)) {
        self.groupCommit = groupCommit
        self.maxBatchEvents = max(1, maxBatchEvents)
        self.maxBatchBytes = max(1, maxBatchBytes)
        self.synchronous = synchronous
        self.retention = retention
        self.retentionCheckInterval = retentionCheckInterval
        self.busyTimeout = busyTimeout
    }
}

extension Duration {
    /// The duration in seconds, as `TimeInterval`.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
