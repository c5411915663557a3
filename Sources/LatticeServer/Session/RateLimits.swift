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

/// The buckets of one connection.
struct RateLimiter {
    enum Verdict { case allowed, refused, abusive }

    private var messages: TokenBucket?
    private var bytes: TokenBucket?
    private var refusals: TokenBucket

    init(_ limits: RateLimits, now: Double) {
        messages = limits.messagesPerSecond > 0
            ? TokenBucket(rate: limits.messagesPerSecond, burst: max(1, limits.messageBurst), now: now) : nil
        bytes = limits.bytesPerSecond > 0
            ? TokenBucket(rate: limits.bytesPerSecond, burst: max(1, limits.byteBurst), now: now) : nil
        refusals = TokenBucket(rate: max(0.001, limits.refusalsPerSecond), burst: max(1, limits.refusalBurst), now: now)
    }

    mutating func admit(bytes count: Int, now: Double) -> Verdict {
        var ok = messages?.take(1, now: now) ?? true
        if ok, var bucket = bytes {
            ok = bucket.take(Double(count), now: now)
            bytes = bucket
        }
        if ok { return .allowed }
        return refusals.take(1, now: now) ? .refused : .abusive
    }

    static func now() -> Double {
        Double(NIODeadline.now().uptimeNanoseconds) / 1e9
    }
}
