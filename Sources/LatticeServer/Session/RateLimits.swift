import LatticeAuth
import NIOCore

/// Per-connection request limits (docs/security.md): a message bucket and a byte bucket. A
/// request over either is answered `rate_limited` and not carried out; each refusal also takes
/// from an abuse bucket, and a connection that empties it (keeps flooding) is closed with 1008.
public struct RateLimits: Sendable, Equatable {
    /// Requests per second (0: no limit) and the burst allowed above it.
    public var messagesPerSecond: Double
    public var messageBurst: Double
    /// Request bytes per second (0: no limit) and the burst.
    public var bytesPerSecond: Double
    public var byteBurst: Double
    /// Refusals per second tolerated, and how many in a row close the connection.
    public var refusalsPerSecond: Double
    public var refusalBurst: Double

    public init(messagesPerSecond: Double = 1000, messageBurst: Double = 2000,
                bytesPerSecond: Double = 4_194_304, byteBurst: Double = 16_777_216,
                refusalsPerSecond: Double = 10, refusalBurst: Double = 100) {
        self.messagesPerSecond = messagesPerSecond
        self.messageBurst = messageBurst
        self.bytesPerSecond = bytesPerSecond
        self.byteBurst = byteBurst
        self.refusalsPerSecond = refusalsPerSecond
        self.refusalBurst = refusalBurst
    }
}

/// The buckets of one connection. Pure: the caller passes the time of each request, so the
/// limits can be tested with a clock moved by hand.
struct RateLimiter {
    enum Verdict { case allowed, refused, abusive }

    private struct Buckets {
        var messages: TokenBucket?
        var bytes: TokenBucket?
        var refusals: TokenBucket
    }

    private let limits: RateLimits
    /// Made full at the first request: a bucket left untouched since the connection opened
    /// would be full by then anyway.
    private var buckets: Buckets?

    init(_ limits: RateLimits) {
        self.limits = limits
    }

    mutating func admit(bytes count: Int, now: NIODeadline) -> Verdict {
        let seconds = Double(now.uptimeNanoseconds) / 1e9
        var buckets = self.buckets ?? Self.full(limits, now: seconds)
        defer { self.buckets = buckets }
        var ok = buckets.messages?.take(1, now: seconds) ?? true
        if ok, var bytes = buckets.bytes {
            ok = bytes.take(Double(count), now: seconds)
            buckets.bytes = bytes
        }
        if ok { return .allowed }
        return buckets.refusals.take(1, now: seconds) ? .refused : .abusive
    }

    private static func full(_ limits: RateLimits, now: Double) -> Buckets {
        Buckets(
            messages: limits.messagesPerSecond > 0
                ? TokenBucket(rate: limits.messagesPerSecond, burst: max(1, limits.messageBurst), now: now) : nil,
            bytes: limits.bytesPerSecond > 0
                ? TokenBucket(rate: limits.bytesPerSecond, burst: max(1, limits.byteBurst), now: now) : nil,
            refusals: TokenBucket(rate: max(0.001, limits.refusalsPerSecond), burst: max(1, limits.refusalBurst), now: now))
    }
}
