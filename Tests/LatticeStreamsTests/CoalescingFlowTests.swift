import NIOCore
import PropertyBased
import Testing

@testable import LatticeStreams

/// The coalescing flow of a paused subscriber against a plain reference: a list of held events
/// where a keyed event removes the held one of its key and is appended, a keyless one is
/// appended, and the oldest go while over the bounds (each counted as dropped).
struct CoalescingReference {
    var held: [StreamEvent] = []
    var dropped = 0
    let limits: FlowLimits

    mutating func offer(_ e: StreamEvent) {
        if let key = e.key { held.removeAll { $0.key == key } }
        held.append(e)
        while held.count > limits.maxQueuedEvents || held.reduce(0, { $0 + $1.byteCount }) > limits.maxQueuedBytes {
            held.removeFirst()
            dropped += 1
        }
    }

    /// What a drain must emit: a gap first when something was dropped, then `held`.
    func drain(lastDelivered: UInt64, lastOffered: UInt64) -> [Out] {
        var out: [Out] = []
        if dropped > 0 {
            out.append(.gap(FlowGap(reason: .dropped(count: dropped), lastDelivered: lastDelivered,
                                    resumesAfter: held.first.map { $0.offset - 1 } ?? lastOffered)))
        }
        return out + held.map { .event($0.offset) }
    }
}

/// One paused round: what is offered (key, size) while paused.
struct CoalescingRound: CustomStringConvertible {
    var limits: FlowLimits
    var rounds: [[(key: String?, size: Int)]]

    var description: String {
        "limits=\(limits.maxQueuedEvents)/\(limits.maxQueuedBytes) rounds=\(rounds.map { $0.map { "\($0.key ?? "-"):\($0.size)" } })"
    }
}

@Suite struct CoalescingFlowTests {
    /// Runs rounds of pause, offers, drain on one flow and compares every drain with the reference.
    func check(_ c: CoalescingRound) {
        var flow = SubscriberFlow(streamClass: .coalescing, limits: c.limits, lastDelivered: 0)
        var offset: UInt64 = 0
        for round in c.rounds {
            flow.pause(now: at(0))
            var reference = CoalescingReference(limits: c.limits)
            let before = flow.lastDelivered
            for item in round {
                offset += 1
                let e = event(offset, size: item.size, key: item.key)
                #expect(flow.offer(e, now: at(0)) == nil, "a paused flow writes nothing")
                reference.offer(e)
                #expect(flow.queuedEvents == reference.held.count)
                #expect(flow.queuedBytes == reference.held.reduce(0) { $0 + $1.byteCount })
                #expect(flow.queuedEvents <= c.limits.maxQueuedEvents && flow.queuedBytes <= c.limits.maxQueuedBytes)
            }
            let drained = flow.drain(history: MemoryStreamHistory(limits: .coalescing), now: at(0))
            #expect(outs(drained) == reference.drain(lastDelivered: before, lastOffered: offset), "\(c)")
            #expect(!drained.more)
            #expect(flow.state == .live)
            #expect(flow.lastDelivered == offset)
            #expect(flow.queuedEvents == 0 && flow.queuedBytes == 0)
            // Live again: the next event goes straight through.
            offset += 1
            #expect(flow.offer(event(offset, key: "a"), now: at(0)).map(Out.init) == .event(offset))
        }
    }

    /// Every sequence of up to 6 offers over keys {a, b, keyless} and sizes {1, 5}, under every
    /// bound of 0…3 entries and 0, 6 or unbounded bytes.
    @Test func everyShortSequenceMatchesTheReference() {
        let items: [(key: String?, size: Int)] = [("a", 1), ("b", 1), (nil, 1), ("a", 5), (nil, 5)]
        var sequences: [[(key: String?, size: Int)]] = [[]]
        var frontier = sequences
        for _ in 0..<5 {
            frontier = frontier.flatMap { s in items.map { s + [$0] } }
            sequences += frontier
        }
        for maxEvents in 0...3 {
            for maxBytes in [0, 6, 1 << 20] {
                let limits = FlowLimits(maxQueuedEvents: maxEvents, maxQueuedBytes: maxBytes, closeAfterStall: nil, catchUpBatch: 1)
                for s in sequences { check(CoalescingRound(limits: limits, rounds: [s])) }
            }
        }
    }

    /// Long random rounds (many updates of few keys: the slots are compacted meanwhile).
    @Test func randomRoundsMatchTheReference() async {
        let gen = Generator<CoalescingRound, Shrink.None<CoalescingRound>> { rng in
            let limits = FlowLimits(maxQueuedEvents: Int.random(in: 0...40, using: &rng),
                                    maxQueuedBytes: Int.random(in: 0...600, using: &rng),
                                    closeAfterStall: nil, catchUpBatch: 1)
            let keyCount = Int.random(in: 1...50, using: &rng)
            let keylessShare = Int.random(in: 0...100, using: &rng)
            let rounds = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                (0..<Int.random(in: 0...400, using: &rng)).map { _ -> (key: String?, size: Int) in
                    let key: String? = Int.random(in: 0..<100, using: &rng) < keylessShare
                        ? nil : "k\(Int.random(in: 0..<keyCount, using: &rng))"
                    return (key, Int.random(in: 0...20, using: &rng))
                }
            }
            return CoalescingRound(limits: limits, rounds: rounds)
        }
        await propertyCheck(count: 300, input: gen) { c in check(c) }
    }

    @Test func coalescedKeepsTheNewestPerKeyAndEveryKeylessEventInOrder() {
        let keys: [String?] = ["a", nil, "b", "a", nil, "c", "b", "a"]
        let events = keys.enumerated().map { event(UInt64($0.offset + 1), key: $0.element) }
        #expect(SubscriberFlow.coalesced(events).map(\.offset) == [2, 5, 6, 7, 8])
        #expect(SubscriberFlow.coalesced([]).isEmpty)
    }
}
