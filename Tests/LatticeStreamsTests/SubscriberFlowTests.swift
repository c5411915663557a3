import LatticeProtocol
import NIOCore
import Testing

@testable import LatticeStreams

@Suite struct SubscriberFlowTests {
    func log(_ cls: StreamClass, flow: FlowLimits? = nil, maxEvents: Int = 100) throws -> StreamLog<MemoryStreamHistory> {
        var policy = StreamPolicy.defaults(for: cls)
        policy.history = HistoryLimits(maxEvents: maxEvents, maxBytes: 1 << 20, maxAge: nil)
        if let flow { policy.flow = flow }
        var l = StreamLog(epoch: epochA, policy: policy)
        _ = try l.attach(s1, since: nil, now: at(0))
        return l
    }

    func publish(_ l: inout StreamLog<MemoryStreamHistory>, _ n: Int, size: Int = 10, key: String? = nil, ms: Int = 0, into d: Deliveries) {
        for _ in 0..<n { l.publish(bytes(size), key: key, now: at(ms)) { d($0, $1) } }
    }

    // MARK: durable

    @Test func durablePausedHoldsNothingAndCatchesUpFromHistory() throws {
        var l = try log(.durable)
        let d = Deliveries()
        publish(&l, 2, into: d)
        l.pause(s1, now: at(0))
        publish(&l, 5, into: d)
        #expect(d.to(s1) == [.event(1), .event(2)])
        #expect(l.flow(s1)?.queuedEvents == 0)
        #expect(l.flow(s1)?.queuedBytes == 0)
        #expect(l.flow(s1)?.lastDelivered == 2)
        #expect(outs(l.drain(s1, now: at(0))) == [.event(3), .event(4), .event(5), .event(6), .event(7)])
        publish(&l, 1, into: d)
        #expect(d.to(s1).last == .event(8))
    }

    @Test func durableCatchUpGoesInBatchesAndIgnoresLiveOffersMeanwhile() throws {
        var flow = FlowLimits.durable
        flow.catchUpBatch = 3
        var l = try log(.durable, flow: flow)
        let d = Deliveries()
        l.pause(s1, now: at(0))
        publish(&l, 7, into: d)
        let first = l.drain(s1, now: at(0))
        #expect(outs(first) == [.event(1), .event(2), .event(3)])
        #expect(first.more)
        publish(&l, 1, into: d)
        #expect(d.to(s1).isEmpty)
        let second = l.drain(s1, now: at(0))
        #expect(outs(second) == [.event(4), .event(5), .event(6)])
        #expect(second.more)
        let third = l.drain(s1, now: at(0))
        #expect(outs(third) == [.event(7), .event(8)])
        #expect(!third.more)
        #expect(l.flow(s1)?.state == .live)
    }

    @Test func durableThatFellOffHistoryGetsOneGapThenContinuesFromNewest() throws {
        var l = try log(.durable, maxEvents: 4)
        let d = Deliveries()
        publish(&l, 1, into: d)
        l.pause(s1, now: at(0))
        publish(&l, 9, into: d)
        let drained = outs(l.drain(s1, now: at(0)))
        #expect(drained == [.gap(FlowGap(reason: .historyLost, lastDelivered: 1, resumesAfter: 10))])
        publish(&l, 1, into: d)
        #expect(d.to(s1) == [.event(1), .event(11)])
    }

    @Test func durablePausedAgainDuringCatchUpKeepsItsPlace() throws {
        var flow = FlowLimits.durable
        flow.catchUpBatch = 2
        var l = try log(.durable, flow: flow)
        let d = Deliveries()
        l.pause(s1, now: at(0))
        publish(&l, 5, into: d)
        #expect(outs(l.drain(s1, now: at(0))) == [.event(1), .event(2)])
        l.pause(s1, now: at(0))
        publish(&l, 1, into: d)
        #expect(outs(l.drain(s1, now: at(0))) == [.event(3), .event(4)])
        #expect(outs(l.drain(s1, now: at(0))) == [.event(5), .event(6)])
        #expect(outs(l.drain(s1, now: at(0))) == [])
    }

    // MARK: ephemeral

    @Test func ephemeralQueuesWhilePausedAndFlushesInOrder() throws {
        var l = try log(.ephemeral)
        let d = Deliveries()
        l.pause(s1, now: at(0))
        publish(&l, 3, into: d)
        #expect(d.to(s1).isEmpty)
        #expect(l.flow(s1)?.queuedEvents == 3)
        #expect(l.flow(s1)?.queuedBytes == 30)
        #expect(outs(l.drain(s1, now: at(0))) == [.event(1), .event(2), .event(3)])
        #expect(l.flow(s1)?.queuedBytes == 0)
    }

    @Test func ephemeralOverflowDropsTheOldestAndReportsOneGap() throws {
        let limits = FlowLimits(maxQueuedEvents: 3, maxQueuedBytes: 1 << 20, closeAfterStall: .seconds(30), catchUpBatch: 8)
        var l = try log(.ephemeral, flow: limits)
        let d = Deliveries()
        publish(&l, 1, into: d)
        l.pause(s1, now: at(0))
        publish(&l, 7, into: d)
        #expect(l.flow(s1)?.queuedEvents == 3)
        let drained = outs(l.drain(s1, now: at(0)))
        #expect(drained == [
            .gap(FlowGap(reason: .dropped(count: 4), lastDelivered: 1, resumesAfter: 5)),
            .event(6), .event(7), .event(8),
        ])
        publish(&l, 1, into: d)
        #expect(d.to(s1) == [.event(1), .event(9)])
    }

    @Test func ephemeralByteBoundDropsEvenTheNewestWhenItAloneIsTooBig() throws {
        let limits = FlowLimits(maxQueuedEvents: 100, maxQueuedBytes: 25, closeAfterStall: nil, catchUpBatch: 8)
        var l = try log(.ephemeral, flow: limits)
        let d = Deliveries()
        l.pause(s1, now: at(0))
        publish(&l, 3, size: 10, into: d)
        #expect(l.flow(s1)?.queuedEvents == 2)
        #expect(l.flow(s1)?.queuedBytes == 20)
        publish(&l, 1, size: 26, into: d)
        #expect(l.flow(s1)?.queuedEvents == 0)
        #expect(l.flow(s1)?.queuedBytes == 0)
        #expect(outs(l.drain(s1, now: at(0))) == [.gap(FlowGap(reason: .dropped(count: 4), lastDelivered: 0, resumesAfter: 4))])
    }

    @Test func ephemeralDrainAfterTheStallLimitCloses() throws {
        var l = try log(.ephemeral)
        l.pause(s1, now: at(0))
        #expect(outs(l.drain(s1, now: at(30_001))) == [.close(4001, "slow_consumer")])
        #expect(l.flow(s1) == nil)
    }

    @Test func ephemeralQueueMemoryStaysBoundedUnderAFlood() throws {
        var l = try log(.ephemeral)
        let d = Deliveries()
        l.pause(s1, now: at(0))
        for i in 0..<5_000 {
            l.publish(bytes(1 + (i * 7919) % 20_000), now: at(i)) { d($0, $1) }
            let f = try #require(l.flow(s1))
            #expect(f.queuedEvents <= FlowLimits.ephemeral.maxQueuedEvents)
            #expect(f.queuedBytes <= FlowLimits.ephemeral.maxQueuedBytes)
        }
    }

    // MARK: coalescing

    @Test func coalescingKeepsTheLatestPerKeyInOffsetOrder() throws {
        var l = try log(.coalescing)
        let d = Deliveries()
        l.pause(s1, now: at(0))
        for key in ["a", "b", "a", "c", "b", "a"] { publish(&l, 1, key: key, into: d) }
        #expect(l.flow(s1)?.queuedEvents == 3)
        #expect(l.flow(s1)?.queuedBytes == 30)
        #expect(outs(l.drain(s1, now: at(0))) == [.event(4), .event(5), .event(6)])
    }

    @Test func coalescingLiveDeliversEverything() throws {
        var l = try log(.coalescing)
        let d = Deliveries()
        for key in ["a", "a", "a"] { publish(&l, 1, key: key, into: d) }
        #expect(d.to(s1) == [.event(1), .event(2), .event(3)])
    }

    @Test func coalescingKeyOverflowEvictsTheOldestAndReportsAGap() throws {
        let limits = FlowLimits(maxQueuedEvents: 2, maxQueuedBytes: 1 << 20, closeAfterStall: nil, catchUpBatch: 8)
        var l = try log(.coalescing, flow: limits)
        let d = Deliveries()
        l.pause(s1, now: at(0))
        for key in ["a", "b", "a", "c"] { publish(&l, 1, key: key, into: d) }
        #expect(l.flow(s1)?.queuedEvents == 2)
        #expect(outs(l.drain(s1, now: at(0))) == [
            .gap(FlowGap(reason: .dropped(count: 1), lastDelivered: 0, resumesAfter: 2)),
            .event(3), .event(4),
        ])
    }

    @Test func coalescingKeylessEventsAreAllKeptBetweenTheLatestOfEachKey() throws {
        var l = try log(.coalescing)
        let d = Deliveries()
        l.pause(s1, now: at(0))
        publish(&l, 2, into: d)  // 1, 2 keyless
        publish(&l, 1, key: "a", into: d)  // 3
        publish(&l, 1, into: d)  // 4 keyless
        publish(&l, 1, key: "a", into: d)  // 5 replaces 3
        publish(&l, 1, key: "b", into: d)  // 6
        #expect(l.flow(s1)?.queuedEvents == 5)
        #expect(outs(l.drain(s1, now: at(0))) == [.event(1), .event(2), .event(4), .event(5), .event(6)],
                "3 is skipped (superseded by 5), not a gap")
    }

    @Test func coalescingKeylessOverflowDropsTheOldestWithAGap() throws {
        let limits = FlowLimits(maxQueuedEvents: 2, maxQueuedBytes: 1 << 20, closeAfterStall: nil, catchUpBatch: 8)
        var l = try log(.coalescing, flow: limits)
        let d = Deliveries()
        l.pause(s1, now: at(0))
        publish(&l, 3, into: d)
        #expect(outs(l.drain(s1, now: at(0))) == [
            .gap(FlowGap(reason: .dropped(count: 1), lastDelivered: 0, resumesAfter: 1)),
            .event(2), .event(3),
        ])
    }

    @Test func coalescingHoldsBoundedSlotsWhateverTheNumberOfUpdates() throws {
        var l = try log(.coalescing, maxEvents: 10)
        let d = Deliveries()
        l.pause(s1, now: at(0))
        for i in 0..<10_000 { publish(&l, 1, key: "k\(i % 3)", into: d) }
        #expect(l.flow(s1)?.queuedEvents == 3)
        #expect(outs(l.drain(s1, now: at(0))) == [.event(9_998), .event(9_999), .event(10_000)])
        publish(&l, 1, key: "k0", into: d)
        #expect(d.to(s1) == [.event(10_001)], "live again after the drain")
    }

    @Test func coalescingResumeBacklogHoldsTheLatestPerKeyAndEveryKeylessEvent() throws {
        var l = try log(.coalescing)
        let d = Deliveries()
        for key in ["a", nil, "b", "a", nil, "b", "c"] as [String?] { publish(&l, 1, key: key, into: d) }
        let a = try #require(l.attach(s2, since: StreamPosition(epoch: epochA, offset: 1), now: at(0)).attachment)
        #expect(a.recovered)
        #expect(a.backlog.map(\.offset) == [2, 4, 5, 6, 7])
        #expect(a.liveFrom == 7)
    }

    @Test func pauseAndDrainAreIdempotent() throws {
        var l = try log(.ephemeral)
        let d = Deliveries()
        #expect(outs(l.drain(s1, now: at(0))) == [])
        l.pause(s1, now: at(0))
        l.pause(s1, now: at(20_000))
        publish(&l, 1, ms: 30_001, into: d)
        #expect(d.to(s1) == [.close(4001, "slow_consumer")], "the stall counts from the first pause")
    }
}
