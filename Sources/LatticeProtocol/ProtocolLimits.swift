/// The limits the decoder applies; `welcome` announces the first four to the client.
public struct ProtocolLimits: Sendable, Hashable {
    public static let defaultMaxDepth = 64

    /// Largest request, in bytes of the text message (`too_large` above).
    public var maxMessageBytes: Int
    /// Most subscriptions one connection may hold (enforced by the server: `too_many_subscriptions`).
    public var maxSubscriptions: Int
    /// Longest stream name, in bytes (`invalid_stream` above).
    public var maxStreamNameBytes: Int
    /// Largest `presence.set` state, in bytes of its JSON text (`too_large` above).
    public var maxPresenceStateBytes: Int
    /// Longest coalescing `key` of a `publish`, in bytes (`too_large` above).
    public var maxKeyBytes: Int
    /// Deepest nesting of arrays and objects in a request, the request object itself
    /// counting as 1 (`too_large` above).
    public var maxDepth: Int

    public init(
        maxMessageBytes: Int = 65_536,
        maxSubscriptions: Int = 256,
        maxStreamNameBytes: Int = 256,
        maxPresenceStateBytes: Int = 4_096,
        maxKeyBytes: Int = 256,
        maxDepth: Int = ProtocolLimits.defaultMaxDepth
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.maxSubscriptions = maxSubscriptions
        self.maxStreamNameBytes = maxStreamNameBytes
        self.maxPresenceStateBytes = maxPresenceStateBytes
        self.maxKeyBytes = maxKeyBytes
        self.maxDepth = maxDepth
    }
}
