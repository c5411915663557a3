/// An append's attachment saying that the event publishes that entry of the store's activity
/// outbox (`IdentityStore.pendingActivity`), which the same transaction removes: the entry is
/// stored as an event exactly once, whatever moment the process dies at.
public struct OutboxRelay: DurableAppendAttachment, Equatable {
    /// The outbox entry's `seq`.
    public var seq: Int64
    public init(seq: Int64) { self.seq = seq }
}

/// An entry for the store's activity outbox, written in the transaction of the event it comes
/// with (a run's summary on `workspace/{ws}`): the activity relay publishes it later, exactly
/// once, like any other workspace activity.
public struct ActivityOutboxEntry: Sendable, Equatable {
    /// The stream it will be published on (`workspace/{ws}`).
    public var stream: String
    /// The activity's JSON.
    public var data: String

    public init(stream: String, data: String) {
        self.stream = stream
        self.data = data
    }
}
