/// What the writer has done since the store opened (tests and benchmarks read it).
public struct WriterStats: Sendable, Equatable {
    /// Committed append transactions.
    public var transactions: Int = 0
    /// Events committed in them.
    public var events: Int = 0
    /// The most events one transaction committed.
    public var largestBatch: Int = 0
    /// Transactions that failed (their appends got `.storeFailed`).
    public var failedTransactions: Int = 0

    public init() {}
}
