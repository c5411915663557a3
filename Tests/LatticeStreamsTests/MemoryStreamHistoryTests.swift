import NIOCore
import Testing

@testable import LatticeStreams

@Suite struct MemoryStreamHistoryTests {
    let roomy = HistoryLimits(maxEvents: 100, maxBytes: 1 << 20, maxAge: nil)

    @Test func emptyHistoryReadsNothingAndReachesOnlyItsNewest() {
        let h = MemoryStreamHistory(limits: roomy)
        #expect(h.newestOffset == 0)
        #expect(h.oldestOffset == 1)
        #expect(offsets(h.read(after: 0, limit: 10)) == [])
        #expect(h.reaches(after: 0))
        #expect(!h.reaches(after: 1))
    }

    @Test func appendsAndReadsRangesWithALimit() {
        var h = MemoryStreamHistory(limits: roomy)
        for o in 1...10 { h.append(event(UInt64(o))) }
        #expect(h.count == 10)
        #expect(h.byteCount == 100)
        #expect(offsets(h.read(after: 0, limit: 100)) == Array(1...10))
        #expect(offsets(h.read(after: 4, limit: 3)) == [5, 6, 7])
        #expect(offsets(h.read(after: 9, limit: 3)) == [10])
        #expect(offsets(h.read(after: 10, limit: 3)) == [])
        #expect(h[7]?.offset == 7)
        #expect(h[11] == nil)
        #expect(h[0] == nil)
    }

    @Test func countBoundDropsTheOldestAndWrapsTheRing() {
        var h = MemoryStreamHistory(limits: HistoryLimits(maxEvents: 5, maxBytes: 1 << 20, maxAge: nil))
        for o in 1...23 { h.append(event(UInt64(o))) }
        #expect(h.count == 5)
        #expect(h.oldestOffset == 19)
        #expect(h.newestOffset == 23)
        #expect(offsets(h.read(after: 18, limit: 100)) == [19, 20, 21, 22, 23])
        #expect(isUnavailable(h.read(after: 17, limit: 100)))
        #expect(h.reaches(after: 18))
        #expect(!h.reaches(after: 17))
        for o in UInt64(19)...23 { #expect(h[o]?.offset == o) }
    }

    @Test func byteBoundDropsTheOldestAndAnOversizedEventEntirely() {
        var h = MemoryStreamHistory(limits: HistoryLimits(maxEvents: 100, maxBytes: 50, maxAge: nil))
        for o in 1...6 { h.append(event(UInt64(o), size: 10)) }
        #expect(h.byteCount == 50)
        #expect(h.oldestOffset == 2)
        h.append(event(7, size: 60))
        #expect(h.count == 0)
        #expect(h.byteCount == 0)
        #expect(h.newestOffset == 7)
        #expect(h.oldestOffset == 8)
        #expect(isUnavailable(h.read(after: 6, limit: 10)))
        #expect(offsets(h.read(after: 7, limit: 10)) == [])
    }

    @Test func ageBoundDropsOnAppendAndOnTrim() {
        var h = MemoryStreamHistory(limits: HistoryLimits(maxEvents: 100, maxBytes: 1 << 20, maxAge: .seconds(10)))
        h.append(event(1, ms: 0))
        h.append(event(2, ms: 5_000))
        h.append(event(3, ms: 10_000))
        #expect(h.oldestOffset == 1, "exactly maxAge old is kept")
        h.append(event(4, ms: 10_001))
        #expect(h.oldestOffset == 2)
        h.trim(now: at(19_000))
        #expect(h.oldestOffset == 3)
        h.trim(now: at(20_002))
        #expect(h.count == 0)
        #expect(h.oldestOffset == 5)
    }

    @Test func zeroMaxEventsKeepsOffsetsButNoEvents() {
        var h = MemoryStreamHistory(limits: HistoryLimits(maxEvents: 0, maxBytes: 1 << 20, maxAge: nil))
        h.append(event(1))
        h.append(event(2))
        #expect(h.newestOffset == 2)
        #expect(h.count == 0)
        #expect(isUnavailable(h.read(after: 1, limit: 1)))
    }

    @Test func startsAfterAGivenOffset() {
        var h = MemoryStreamHistory(limits: roomy, newestOffset: 41)
        #expect(h.oldestOffset == 42)
        h.append(event(42))
        #expect(offsets(h.read(after: 41, limit: 5)) == [42])
    }

    @Test func payloadsAreSharedNotCopied() {
        var h = MemoryStreamHistory(limits: roomy)
        let payload = bytes(1000)
        h.append(StreamEvent(offset: 1, payload: payload, timestamp: at(0)))
        guard case .events(let events) = h.read(after: 0, limit: 1) else { Issue.record("no events"); return }
        let same = events[0].payload.withUnsafeReadableBytes { a in
            payload.withUnsafeReadableBytes { b in a.baseAddress == b.baseAddress }
        }
        #expect(same)
    }
}
