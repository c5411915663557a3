public import NIOCore

/// Bounds of an in-memory stream history. Whichever bound is hit first trims the oldest events.
public struct HistoryLimits: Sendable, Equatable {
    /// Most events retained (0 disables history: nothing can be resumed).
    public var maxEvents: Int
    /// Most payload bytes retained (sum of `readableBytes`; payloads are shared, so this is the
    /// memory the history keeps alive).
    public var maxBytes: Int
    /// Events older than this (by their `timestamp`) are dropped; `nil`: no age bound.
    public var maxAge: TimeAmount?

    public init(maxEvents: Int, maxBytes: Int, maxAge: TimeAmount?) {
        precondition(maxEvents >= 0 && maxBytes >= 0, "history limits must not be negative")
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
        self.maxAge = maxAge
    }

    /// Durable streams (in memory until the store issue): 4,096 events, 32 MiB, 1 hour.
    public static let durable = HistoryLimits(maxEvents: 4096, maxBytes: 32 << 20, maxAge: .hours(1))
    /// Ephemeral channels: 256 events, 4 MiB, 2 minutes.
    public static let ephemeral = HistoryLimits(maxEvents: 256, maxBytes: 4 << 20, maxAge: .minutes(2))
    /// Coalescing streams: 64 events, 1 MiB, 30 seconds (a resume mostly wants the latest values;
    /// a client that misses more refetches).
    public static let coalescing = HistoryLimits(maxEvents: 64, maxBytes: 1 << 20, maxAge: .seconds(30))
}
