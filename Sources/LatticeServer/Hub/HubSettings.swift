public import LatticeProtocol
public import LatticeStreams
public import NIOCore

/// Settings of the stream hub behind `/ws`.
public struct HubSettings: Sendable {
    /// The request limits (announced in `welcome`).
    public var limits: ProtocolLimits
    /// Overrides the history bound (events) of every stream class (`--history-events`).
    public var historyEvents: Int?
    /// Overrides how many subscribers one stream accepts (default: the class's, 100,000); a
    /// subscribe beyond it is refused with `subscriber_limit`.
    public var maxSubscribersPerStream: Int?
    /// A session's socket is "not writable" above `highWaterMark` buffered bytes and writable
    /// again below `lowWaterMark`: the hub pauses and drains its subscriptions on these edges.
    public var lowWaterMark: Int
    public var highWaterMark: Int
    /// Presence coalescing. `metaTimeout` is off: a connection's metas go when it closes (and
    /// the WebSocket keepalive closes silent peers), so a quiet but live client is no ghost.
    public var presence: PresenceConfig
    /// How often each home loop checks for subscribers stalled too long.
    public var stallCheckInterval: TimeAmount
    /// Announced in `welcome` (the WebSocket keepalive interval; 0 when it is off).
    public var heartbeatSeconds: Int
    /// A stream nobody uses is unloaded from memory after this long (an ephemeral one not
    /// before its history has aged out; docs/streams.md, "Loaded streams").
    public var idleStreamTimeout: TimeAmount = .seconds(60)
    /// How often each home loop looks for idle streams.
    public var idleSweepInterval: TimeAmount = .seconds(10)
    /// The reducer of each stream kind that has one: subscribes with `snapshot: true` get its
    /// state (docs/streams.md, "Snapshots"). None by default; the documents layer adds `doc`
    /// and `graph`.
    public var reducers: [StreamName.Kind: any StreamReducer] = [:]
    /// Whether a channel (`channel/{ws}/{name}`, by its stream name) is coalescing: marked by an
    /// owner (`PUT /api/workspaces/{ws}/channels/{name}` with `{"coalescing": true}`). Asked when
    /// the stream is loaded; a durable mark wins (the store keeps at most one).
    public var isCoalescingChannel: @Sendable (String) -> Bool = { _ in false }
    /// The hub's clock: every time the hub compares (history age, stalls, presence timing,
    /// idle streams) is read from it. Tests move time by hand.
    public var clock: @Sendable () -> NIODeadline = { .now() }

    public init(limits: ProtocolLimits = ProtocolLimits(), historyEvents: Int? = nil,
                lowWaterMark: Int = 64 << 10, highWaterMark: Int = 256 << 10,
                presence: PresenceConfig = PresenceConfig(metaTimeout: nil),
                stallCheckInterval: TimeAmount = .seconds(1), heartbeatSeconds: Int = 30) {
        self.limits = limits
        self.historyEvents = historyEvents
        self.lowWaterMark = lowWaterMark
        self.highWaterMark = highWaterMark
        self.presence = presence
        self.stallCheckInterval = stallCheckInterval
        self.heartbeatSeconds = heartbeatSeconds
    }

    /// The class of a stream by its name alone: channels are ephemeral (unless marked durable or
    /// coalescing, which the hub asks: `StreamHub.streamClass(of:)`), everything else durable
    /// (docs/streams.md).
    public static func streamClass(of stream: StreamName) -> StreamClass {
        stream.kind == .channel ? .ephemeral : .durable
    }

    /// The policy of a new stream: its class's defaults, with `historyEvents` and
    /// `maxSubscribersPerStream` applied.
    public func policy(for stream: StreamName, class streamClass: StreamClass? = nil) -> StreamPolicy {
        var policy = StreamPolicy.defaults(for: streamClass ?? Self.streamClass(of: stream))
        if let historyEvents { policy.history.maxEvents = max(0, historyEvents) }
        if let maxSubscribersPerStream { policy.maxSubscribers = max(0, maxSubscribersPerStream) }
        return policy
    }
}
