/// An append's attachment saying that the event publishes that entry of the store's activity
/// outbox (`IdentityStore.pendingActivity`), which the same transaction removes: the entry is
/// stored as an event exactly once, whatever moment the process dies at.
public struct OutboxRelay: DurableAppendAttachment, Equatable {
    /// The outbox entry's `seq`.
    public var seq: Int64
    public init(seq: Int64) { self.seq = seq }
}
