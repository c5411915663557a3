public import LatticeAuth
public import LatticeRuns
public import LatticeStreams

/// The stateful pieces `lattice serve` wires into the HTTP routes and the hub: the identity side
/// (authentication, live access, audit) and the durable stream store.
public struct ServerServices: Sendable {
    public var access: AccessControl
    public var streams: any DurableStreamStore
    /// Whether a `channel/{ws}/{name}` stream is durable (owners mark channels; docs/streams.md).
    public var isDurableChannel: @Sendable (String) -> Bool
    /// Marks a channel durable or not (persisted, with its activity).
    public var setChannelDurable: @Sendable (_ workspace: String, _ channel: String, _ durable: Bool, _ actor: ActivityActor) async throws -> Void
    /// Whether a channel's stream is coalescing (owners mark channels; docs/streams.md).
    public var isCoalescingChannel: @Sendable (String) -> Bool
    /// Marks a channel coalescing or not (persisted, with its activity; a channel is durable or
    /// coalescing, not both).
    public var setChannelCoalescing: @Sendable (_ workspace: String, _ channel: String, _ coalescing: Bool, _ actor: ActivityActor) async throws -> Void
    /// Where definitions and runs are stored; nil: the server runs no workflows (its run
    /// routes answer 404). Its run rows must be written by `streams`' appends (`RunRowWrite`).
    public var runs: (any RunStore)? = nil
    public var runLimits = RunLimits()
    /// How long a bot worker holds a task without a heartbeat.
    public var taskLeaseMillis: Int64 = 30_000

    public init(access: AccessControl, streams: any DurableStreamStore,
                isDurableChannel: @escaping @Sendable (String) -> Bool,
                setChannelDurable: @escaping @Sendable (String, String, Bool, ActivityActor) async throws -> Void,
                isCoalescingChannel: @escaping @Sendable (String) -> Bool,
                setChannelCoalescing: @escaping @Sendable (String, String, Bool, ActivityActor) async throws -> Void) {
        self.access = access
        self.streams = streams
        self.isDurableChannel = isDurableChannel
        self.setChannelDurable = setChannelDurable
        self.isCoalescingChannel = isCoalescingChannel
        self.setChannelCoalescing = setChannelCoalescing
    }
}
