import LatticeProtocol
import NIOCore
import Testing

@testable import LatticeStreams

@Suite struct StreamLogTests {
    func log(_ cls: StreamClass = .durable, maxEvents: Int = 100, maxSubscribers: Int = 100) -> StreamLog<MemoryStreamHistory> {
        var policy = StreamPolicy.defaults(for: cls)
        policy.history = HistoryLimits(maxEvents: maxEvents, maxBytes: 1 << 20, maxAge: nil)
        policy.maxSubscribers = maxSubscribers
        return StreamLog(epoch: epochA, policy: policy)
    }

    func publish(_ log: inout StreamLog<MemoryStreamHistory>, _ n: Int, into d: Deliveries? = nil) {
        for _ in 0..<n {
            log.publish(bytes(4), now: at(0)) { id, out in d?(id, out) }
        }
    }

    @Test func publishAssignsOffsetsFromOne() {
        var l = log()
        let e1 = l.publish(bytes(3), now: at(1)) { _, _ in }
        let e2 = l.publish(bytes(3), key: "k", now: at(2)) { _, _ in }
        #expect(e1.offset == 1)
        #expect(e2.offset == 2)
        #expect(e2.key == "k")
        #expect(e2.timestamp == at(2))
        #expect(l.position == StreamPosition(epoch: epochA, offset: 2))
    }

    @Test func freshAttachGoesLiveFromNewest() throws {
        var l = log()
        publish(&l, 3)
        let a = try #require(try l.attach(s1, since: nil, now: at(0)).attachment)
        #expect(a.outcome == .fresh)
        #expect(a.recovered)
        #expect(a.backlog.isEmpty)
        #expect(a.liveFrom == 3)
        let d = Deliveries()
        publish(&l, 2, into: d)
        #expect(d.to(s1) == [.event(4), .event(5)])
    }

    @Test func resumeReplaysExactlyTheMissedEventsThenLive() throws {
        var l = log()
        publish(&l, 7)
        let a = try #require(try l.attach(s1, since: StreamPosition(epoch: epochA, offset: 4), now: at(0)).attachment)
        #expect(a.outcome == .recovered)
        #expect(a.backlog.map(\.offset) == [5, 6, 7])
        #expect(a.liveFrom == 7)
        #expect(a.position == StreamPosition(epoch: epochA, offset: 7))
        let d = Deliveries()
        publish(&l, 1, into: d)
        #expect(d.to(s1) == [.event(8)])
    }

    @Test func resumeAtNewestHasAnEmptyBacklog() throws {
        var l = log()
        publish(&l, 7)
        let a = try #require(try l.attach(s1, since: StreamPosition(epoch: epochA, offset: 7), now: at(0)).attachment)
        #expect(a.outcome == .recovered)
        #expect(a.backlog.isEmpty)
    }

    @Test func resumeFromAnotherEpochIsNotRecovered() throws {
        var l = log()
        publish(&l, 7)
        let a = try #require(try l.attach(s1, since: StreamPosition(epoch: epochB, offset: 4), now: at(0)).attachment)
        #expect(a.outcome == .notRecovered(.epochChanged))
        #expect(!a.recovered)
        #expect(a.backlog.isEmpty)
        #expect(a.liveFrom == 7)
    }

    @Test func resumeBeyondHistoryIsNotRecovered() throws {
        var l = log(maxEvents: 3)
        publish(&l, 10)
        let ok = try #require(try l.attach(s1, since: StreamPosition(epoch: epochA, offset: 7), now: at(0)).attachment)
        #expect(ok.backlog.map(\.offset) == [8, 9, 10])
        let lost = try #require(try l.attach(s2, since: StreamPosition(epoch: epochA, offset: 6), now: at(0)).attachment)
        #expect(lost.outcome == .notRecovered(.historyTrimmed))
        #expect(lost.backlog.isEmpty)
        #expect(lost.liveFrom == 10)
    }

    @Test func attachTrimsByAgeFirst() throws {
        var policy = StreamPolicy.defaults(for: .durable)
        policy.history = HistoryLimits(maxEvents: 100, maxBytes: 1 << 20, maxAge: .seconds(1))
        var l = StreamLog(epoch: epochA, policy: policy)
        l.publish(bytes(1), now: at(0)) { _, _ in }
        l.publish(bytes(1), now: at(1_500)) { _, _ in }
        let a = try #require(try l.attach(s1, since: StreamPosition(epoch: epochA, offset: 0), now: at(2_000)).attachment)
        #expect(a.outcome == .notRecovered(.historyTrimmed))
        let b = try #require(try l.attach(s2, since: StreamPosition(epoch: epochA, offset: 1), now: at(2_000)).attachment)
        #expect(b.backlog.map(\.offset) == [2])
    }

    @Test func resumeFromTheFutureIsNotRecovered() throws {
        var l = log()
        publish(&l, 2)
        let a = try #require(try l.attach(s1, since: StreamPosition(epoch: epochA, offset: 5), now: at(0)).attachment)
        #expect(a.outcome == .notRecovered(.offsetAhead))
    }

    @Test func detachStopsDelivery() throws {
        var l = log()
        _ = try l.attach(s1, since: nil, now: at(0))
        _ = try l.attach(s2, since: nil, now: at(0))
        let detached = l.detach(s1)
        let detachedAgain = l.detach(s1)
        #expect(detached)
        #expect(!detachedAgain)
        let d = Deliveries()
        publish(&l, 1, into: d)
        #expect(d.to(s1).isEmpty)
        #expect(d.to(s2) == [.event(1)])
        #expect(l.subscriberCount == 1)
    }

    @Test func attachRefusesDuplicatesAndTooManySubscribers() throws {
        var l = log(maxSubscribers: 2)
        _ = try l.attach(s1, since: nil, now: at(0))
        #expect(throws: StreamLogError.alreadyAttached(s1)) { try l.attach(s1, since: nil, now: at(0)) }
        _ = try l.attach(s2, since: nil, now: at(0))
        #expect(throws: StreamLogError.tooManySubscribers(limit: 2)) { try l.attach(s3, since: nil, now: at(0)) }
        l.detach(s1)
        _ = try l.attach(s3, since: nil, now: at(0))
    }

    @Test func everySubscriberGetsTheSamePayloadStorage() throws {
        var l = log()
        _ = try l.attach(s1, since: nil, now: at(0))
        _ = try l.attach(s2, since: nil, now: at(0))
        var addresses: [UnsafeRawPointer?] = []
        l.publish(bytes(100), now: at(0)) { _, out in
            if case .event(let e) = out {
                addresses.append(e.payload.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) })
            }
        }
        #expect(addresses.count == 2)
        #expect(addresses[0] == addresses[1])
    }

    @Test func stalledEphemeralSubscriberIsClosedAndDetachedOnPublish() throws {
        var l = log(.ephemeral)
        _ = try l.attach(s1, since: nil, now: at(0))
        _ = try l.attach(s2, since: nil, now: at(0))
        l.pause(s1, now: at(0))
        let d = Deliveries()
        l.publish(bytes(1), now: at(30_000)) { d($0, $1) }
        #expect(d.to(s1).isEmpty, "exactly 30 s is not past the limit")
        l.publish(bytes(1), now: at(30_001)) { d($0, $1) }
        #expect(d.to(s1) == [.close(4001, "slow_consumer")])
        #expect(d.to(s2) == [.event(1), .event(2)])
        #expect(l.flow(s1) == nil)
        #expect(l.subscriberCount == 1)
    }

    @Test func checkStallsClosesWithoutPublishes() throws {
        var l = log(.ephemeral)
        _ = try l.attach(s1, since: nil, now: at(0))
        _ = try l.attach(s2, since: nil, now: at(0))
        l.pause(s1, now: at(1_000))
        l.pause(s2, now: at(20_000))
        let d = Deliveries()
        l.checkStalls(now: at(31_001)) { d($0, $1) }
        #expect(d.items.map(\.0) == [s1])
        #expect(l.flow(s1) == nil)
        #expect(l.flow(s2) != nil)
    }

    @Test func durableSubscribersAreNeverClosedForSlowness() throws {
        var l = log(.durable)
        _ = try l.attach(s1, since: nil, now: at(0))
        l.pause(s1, now: at(0))
        let d = Deliveries()
        l.publish(bytes(1), now: at(3_600_000)) { d($0, $1) }
        l.checkStalls(now: at(7_200_000)) { d($0, $1) }
        #expect(d.items.isEmpty)
        #expect(outs(l.drain(s1, now: at(7_200_000))) == [.event(1)])
    }

    @Test func drainOfUnknownSubscriberDoesNothing() {
        var l = log()
        #expect(l.drain(s1, now: at(0)).outputs.isEmpty)
        l.pause(s1, now: at(0))
        #expect(l.subscriberCount == 0)
    }
}

/// A durable history shaped like the future store: a memory tail of `tail` events over a store
/// that holds everything; reads older than the tail answer `.needsStore`.
struct TieredHistory: StreamHistory {
    var store: [StreamEvent] = []
    var tail: Int
    var newestOffset: UInt64 { UInt64(store.count) }
    var oldestOffset: UInt64 { 1 }
    var memoryOldest: UInt64 { UInt64(max(store.count - tail, 0)) + 1 }
    mutating func append(_ event: StreamEvent) { store.append(event) }
    func read(after offset: UInt64, limit: Int) -> HistoryRead {
        if offset + 1 < memoryOldest { return .needsStore((offset + 1)...(memoryOldest - 1)) }
        let events = store[Int(offset)..<store.count].prefix(limit)
        return .events(Array(events))
    }
    mutating func trim(now: NIODeadline) {}
    func storeRead(_ range: ClosedRange<UInt64>) -> [UInt64] { Array(range) }
}

@Suite struct AsyncStoreShapeTests {
    func tieredLog() -> StreamLog<TieredHistory> {
        StreamLog(epoch: epochA, policy: .defaults(for: .durable), history: TieredHistory(tail: 3))
    }

    @Test func attachBeyondTheMemoryTailAsksForTheStoreThenResumesExactly() throws {
        var l = tieredLog()
        for _ in 0..<10 { l.publish(bytes(1), now: at(0)) { _, _ in } }
        guard case .needsStore(let range) = try l.attach(s1, since: StreamPosition(epoch: epochA, offset: 2), now: at(0)) else {
            Issue.record("expected needsStore"); return
        }
        #expect(range == 3...7)
        #expect(l.flow(s1) == nil, "not attached while the hub reads the store")
        // Meanwhile two more events arrive; the tail moves on.
        for _ in 0..<2 { l.publish(bytes(1), now: at(0)) { _, _ in } }
        var seen = Array(range)
        var since = range.upperBound
        while true {
            switch try l.attach(s1, since: StreamPosition(epoch: epochA, offset: since), now: at(0)) {
            case .needsStore(let r):
                seen += Array(r)
                since = r.upperBound
                continue
            case .attached(let a):
                #expect(a.recovered)
                seen += a.backlog.map(\.offset)
            }
            break
        }
        #expect(seen == Array(3...12))
    }

    @Test func durableCatchUpFetchesFromTheStoreWithoutGapOrDuplicate() throws {
        var l = tieredLog()
        _ = try l.attach(s1, since: nil, now: at(0))
        l.pause(s1, now: at(0))
        for _ in 0..<8 { l.publish(bytes(1), now: at(0)) { _, _ in } }
        let first = outs(l.drain(s1, now: at(0)))
        #expect(first == [.fetch(1...5)])
        #expect(outs(l.drain(s1, now: at(0))).isEmpty, "no second fetch while one is outstanding")
        var delivered: [UInt64] = [1, 2, 3, 4, 5]
        let d = Deliveries()
        l.publish(bytes(1), now: at(0)) { d($0, $1) }
        #expect(d.to(s1).isEmpty, "catching up: history has it")
        var step = l.fetched(s1, through: 5, now: at(0))
        var fetches = 1
        while true {
            var fetched: UInt64?
            for out in outs(step) {
                switch out {
                case .event(let o): delivered.append(o)
                case .fetch(let r): delivered += Array(r); fetched = r.upperBound; fetches += 1
                default: Issue.record("unexpected \(out)")
                }
            }
            if let fetched { step = l.fetched(s1, through: fetched, now: at(0)); continue }
            guard step.more else { break }
            step = l.drain(s1, now: at(0))
        }
        #expect(fetches == 2, "the tail moved on during the first fetch")
        #expect(delivered == Array(1...9))
        #expect(l.flow(s1)?.state == .live)
        l.publish(bytes(1), now: at(0)) { d($0, $1) }
        #expect(d.to(s1) == [.event(10)])
    }
}
