/// When and how often a `LatticeSession` reconnects: exponential backoff with full
/// jitter. Attempt n (0-based) waits a uniformly random time in
/// `0 ... min(maxDelay, baseDelay × 2^n)`. The attempt counter goes back to 0 after a
/// connection has stayed up for `stableAfter`.
public struct ReconnectPolicy: Sendable, Hashable {
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// A connection that lasted at least this long resets the backoff.
    public var stableAfter: Duration
    /// Give up after this many consecutive failed attempts (nil: never).
    public var maxAttempts: Int?

    public init(baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(15),
                stableAfter: Duration = .seconds(10), maxAttempts: Int? = nil) {
        self.baseDelay = baseDelay
        self.maxDelay = max(maxDelay, baseDelay)
        self.stableAfter = stableAfter
        self.maxAttempts = maxAttempts
    }

    /// The default: 250 ms doubling up to 15 s, forever.
    public static let standard = ReconnectPolicy()

    /// The upper bound of the wait before attempt `attempt` (0-based): `min(maxDelay, baseDelay × 2^attempt)`.
    public func ceiling(attempt: Int) -> Duration {
        let shift = min(max(attempt, 0), 62)
        let base = Self.nanoseconds(baseDelay)
        let cap = Self.nanoseconds(maxDelay)
        // Saturating base << shift.
        let scaled = base > (cap >> shift) ? cap : min(cap, base << shift)
        return .nanoseconds(scaled)
    }

    /// The wait before attempt `attempt`: full jitter, uniform in `0...ceiling(attempt)`.
    public func delay(attempt: Int) -> Duration {
        var rng = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &rng)
    }

    public func delay<R: RandomNumberGenerator>(attempt: Int, using rng: inout R) -> Duration {
        let ceiling = Self.nanoseconds(ceiling(attempt: attempt))
        return .nanoseconds(ceiling <= 0 ? 0 : Int64.random(in: 0...ceiling, using: &rng))
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        if s >= Int64.max / 1_000_000_000 { return Int64.max / 2 }
        return max(0, s * 1_000_000_000 + atto / 1_000_000_000)
    }
}
