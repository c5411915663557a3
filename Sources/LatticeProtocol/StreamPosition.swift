/// The identity of one incarnation of a stream's history.
///
/// Opaque to clients. It changes only when history is lost — for example when an in-memory
/// stream is recreated after a restart — so a client holding an offset from another epoch knows
/// its offset means nothing here and must refetch.
public struct StreamEpoch: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        self.init(value)
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

/// A position in a stream: the last offset seen in an epoch (what a client resumes from with
/// `subscribe`'s `since`, what `ok`, `event`, `recovered` and `snapshot` carry). The one position
/// type of server, streams and client.
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

