import LatticeProtocol
import Testing

@testable import LatticeStreams

@Suite struct ResumeDecisionTests {
    func decide(_ since: StreamPosition?, oldest: UInt64, newest: UInt64) -> ResumeOutcome {
        ResumeDecision.decide(since: since, epoch: epochA, oldestOffset: oldest, newestOffset: newest)
    }

    @Test func noSinceIsFresh() {
        #expect(decide(nil, oldest: 5, newest: 9) == .fresh)
        #expect(ResumeOutcome.fresh.recovered)
    }

    @Test func sameEpochWithinHistoryRecovers() {
        #expect(decide(StreamPosition(epoch: epochA, offset: 4), oldest: 5, newest: 9) == .recovered, "offset = oldest - 1")
        #expect(decide(StreamPosition(epoch: epochA, offset: 7), oldest: 5, newest: 9) == .recovered)
        #expect(decide(StreamPosition(epoch: epochA, offset: 9), oldest: 5, newest: 9) == .recovered, "caught up")
        #expect(decide(StreamPosition(epoch: epochA, offset: 0), oldest: 1, newest: 9) == .recovered)
        #expect(decide(StreamPosition(epoch: epochA, offset: 0), oldest: 1, newest: 0) == .recovered, "empty stream")
    }

    @Test func caughtUpRecoversEvenWhenNothingIsRetained() {
        #expect(decide(StreamPosition(epoch: epochA, offset: 9), oldest: 10, newest: 9) == .recovered)
    }

    @Test func otherEpochIsNotRecovered() {
        let r = decide(StreamPosition(epoch: epochB, offset: 7), oldest: 5, newest: 9)
        #expect(r == .notRecovered(.epochChanged))
        #expect(!r.recovered)
    }

    @Test func trimmedHistoryIsNotRecovered() {
        #expect(decide(StreamPosition(epoch: epochA, offset: 3), oldest: 5, newest: 9) == .notRecovered(.historyTrimmed))
        #expect(decide(StreamPosition(epoch: epochA, offset: 8), oldest: 10, newest: 9) == .notRecovered(.historyTrimmed))
    }

    @Test func offsetAheadIsNotRecovered() {
        #expect(decide(StreamPosition(epoch: epochA, offset: 10), oldest: 5, newest: 9) == .notRecovered(.offsetAhead))
    }

    @Test func randomEpochsAreSixteenHexDigits() {
        var g = SplitMix(seed: 7)
        let e = StreamEpoch.random(using: &g)
        #expect(e.rawValue.count == 16)
        #expect(e.rawValue.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(StreamEpoch.random() != StreamEpoch.random())
        var zeros = ZeroGenerator()
        #expect(StreamEpoch.random(using: &zeros).rawValue == "0000000000000000")
    }
}

struct ZeroGenerator: RandomNumberGenerator {
    mutating func next() -> UInt64 { 0 }
}
