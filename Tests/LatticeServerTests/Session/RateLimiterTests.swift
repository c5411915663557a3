import NIOCore
import Testing
@testable import LatticeServer

/// The per-connection rate limiter, on a clock moved by hand.
@Suite("RateLimiter with an injected clock")
struct RateLimiterTests {
    /// 10 requests/s with bursts of 20; no byte limit; 5 refusals in a row are tolerated.
    static let messages = RateLimits(messagesPerSecond: 10, messageBurst: 20, bytesPerSecond: 0, byteBurst: 0,
                                     refusalsPerSecond: 1, refusalBurst: 5)
    static let start = NIODeadline.uptimeNanoseconds(5_000_000_000)

    func admit(_ limiter: inout RateLimiter, times: Int, bytes: Int = 1, at now: NIODeadline) -> [RateLimiter.Verdict] {
        (0..<times).map { _ in limiter.admit(bytes: bytes, now: now) }
    }

    @Test func aBurstPassesThenRequestsAreRefusedThenTheConnectionIsAbusive() {
        var limiter = RateLimiter(Self.messages)
        #expect(admit(&limiter, times: 20, at: Self.start).allSatisfy { $0 == .allowed })
        #expect(admit(&limiter, times: 5, at: Self.start).allSatisfy { $0 == .refused })
        #expect(limiter.admit(bytes: 1, now: Self.start) == .abusive, "the sixth refusal in a row")
    }

    @Test func tokensComeBackAtTheRate() {
        var limiter = RateLimiter(Self.messages)
        _ = admit(&limiter, times: 20, at: Self.start)
        #expect(limiter.admit(bytes: 1, now: Self.start + .milliseconds(50)) == .refused, "half a token back")
        #expect(limiter.admit(bytes: 1, now: Self.start + .milliseconds(150)) == .allowed, "one and a half after 150 ms")
        #expect(limiter.admit(bytes: 1, now: Self.start + .milliseconds(150)) == .refused)
        let later = Self.start + .milliseconds(1150)
        #expect(admit(&limiter, times: 10, at: later).allSatisfy { $0 == .allowed }, "ten more a second later")
        #expect(limiter.admit(bytes: 1, now: later) == .refused)
    }

    @Test func refusalsAreForgivenAtTheirOwnRate() {
        var limiter = RateLimiter(Self.messages)
        _ = admit(&limiter, times: 20, at: Self.start)
        #expect(admit(&limiter, times: 5, at: Self.start).allSatisfy { $0 == .refused })
        // One refusal per second is tolerated: two seconds later two more refusals pass, then abuse.
        let later = Self.start + .seconds(2)
        // By then 20 message tokens are back too: spend them first.
        #expect(admit(&limiter, times: 20, at: later).allSatisfy { $0 == .allowed })
        #expect(admit(&limiter, times: 2, at: later) == [.refused, .refused])
        #expect(limiter.admit(bytes: 1, now: later) == .abusive)
    }

    @Test func theByteBucketLimitsVolume() {
        let limits = RateLimits(messagesPerSecond: 0, messageBurst: 0, bytesPerSecond: 100, byteBurst: 400,
                                refusalsPerSecond: 10, refusalBurst: 100)
        var limiter = RateLimiter(limits)
        #expect(limiter.admit(bytes: 400, now: Self.start) == .allowed)
        #expect(limiter.admit(bytes: 1, now: Self.start) == .refused)
        #expect(limiter.admit(bytes: 101, now: Self.start + .seconds(1)) == .refused, "100 bytes back after a second")
        #expect(limiter.admit(bytes: 100, now: Self.start + .seconds(1)) == .allowed, "a refused request took no bytes")
    }

    @Test func theBucketsAreFullAtTheFirstRequestHoweverLateItComes() {
        // Made when the connection opened; the first request an hour later finds exactly a burst.
        var limiter = RateLimiter(Self.messages)
        let late = Self.start + .seconds(3600)
        #expect(admit(&limiter, times: 20, at: late).allSatisfy { $0 == .allowed })
        #expect(limiter.admit(bytes: 1, now: late) == .refused, "not more than the burst")
    }

    @Test func zeroMeansNoLimit() {
        let limits = RateLimits(messagesPerSecond: 0, messageBurst: 0, bytesPerSecond: 0, byteBurst: 0)
        var limiter = RateLimiter(limits)
        #expect(admit(&limiter, times: 10_000, bytes: 1 << 20, at: Self.start).allSatisfy { $0 == .allowed })
    }

    @Test func theClockOnlyMovesForward() {
        // A time earlier than the last one (another clock's reading) gives no tokens back.
        var limiter = RateLimiter(Self.messages)
        _ = admit(&limiter, times: 20, at: Self.start + .seconds(10))
        #expect(limiter.admit(bytes: 1, now: Self.start) == .refused)
    }
}
