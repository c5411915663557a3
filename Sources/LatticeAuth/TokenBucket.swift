/// A token bucket: `rate` units per second, bursts up to `burst`. Pure (the caller passes the
/// time), so it is exact to test and costs two doubles per connection.
public struct TokenBucket: Sendable, Equatable {
    public let rate: Double
    public let burst: Double
    private var available: Double
    private var last: Double

    /// Full at `now` (seconds on any monotonic clock).
    public init(rate: Double, burst: Double, now: Double) {
        precondition(rate > 0 && burst > 0, "a token bucket needs a positive rate and burst")
        self.rate = rate
        self.burst = burst
        self.available = burst
        self.last = now
    }

    /// Takes `cost` units if they are there; returns whether it did.
    public mutating func take(_ cost: Double = 1, now: Double) -> Bool {
        if now > last {
            available = min(burst, available + (now - last) * rate)
            last = now
        }
        guard available >= cost else { return false }
        available -= cost
        return true
    }
}
