/// The identity of one incarnation of a stream's history.
///
/// Opaque to clients. It changes only when history is lost — for example when an in-memory
/// stream is recreated after a restart — so a client holding an offset from another epoch knows
/// its offset means nothing here and must refetch.
public struct StreamEpoch: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// 16 lowercase hex digits from 64 random bits.
    public static func random(using generator: inout some RandomNumberGenerator) -> StreamEpoch {
        let bits = UInt64.random(in: 0...UInt64.max, using: &generator)
        let hex = String(bits, radix: 16)
        return StreamEpoch(String(repeating: "0", count: 16 - hex.count) + hex)
    }

    /// 16 lowercase hex digits from the system's random number generator.
    public static func random() -> StreamEpoch {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public var description: String { rawValue }
}

/// A client's cursor in a stream: the last offset it has seen in an epoch.
///
/// Offsets start at 1 for the first event and grow by exactly 1; offset 0 means "nothing seen".
public struct StreamPosition: Hashable, Sendable, CustomStringConvertible {
    public var epoch: StreamEpoch
    public var offset: UInt64

    public init(epoch: StreamEpoch, offset: UInt64) {
        self.epoch = epoch
        self.offset = offset
    }

    public var description: String { "\(epoch.rawValue)@\(offset)" }
}

/// Names one subscription of one stream, chosen by the hub (unique per stream).
public struct SubscriberID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public static func < (lhs: SubscriberID, rhs: SubscriberID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "sub#\(rawValue)" }
}

/// Names one client connection (one WebSocket), chosen by the server (unique per server).
public struct ConnectionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(_ rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public static func < (lhs: ConnectionID, rhs: ConnectionID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "conn#\(rawValue)" }
}
