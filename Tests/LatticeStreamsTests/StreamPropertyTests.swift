import LatticeProtocol
import NIOCore
import PropertyBased
import Testing

@testable import LatticeStreams

/// One random scenario: a stream class, small random bounds, and a seed for the operations.
struct StreamScenario: CustomStringConvertible {
    var streamClass: StreamClass
    var policy: StreamPolicy
    var seed: UInt64
    var steps: Int

    var description: String {
        "\(streamClass) history=\(policy.history) flow=\(policy.flow) seed=\(seed) steps=\(steps)"
    }
}

func scenarioGen(_ classes: [StreamClass]) -> Generator<StreamScenario, Shrink.None<StreamScenario>> {
    Generator { rng in
        let cls = classes.randomElement(using: &rng)!
        let history = HistoryLimits(
            maxEvents: Int.random(in: 0...24, using: &rng),
            maxBytes: Int.random(in: 20...400, using: &rng),
            maxAge: Bool.random(using: &rng) ? nil : .milliseconds(Int64.random(in: 50...2_000, using: &rng)))
        let flow = FlowLimits(
            maxQueuedEvents: Int.random(in: 0...8, using: &rng),
            maxQueuedBytes: Int.random(in: 0...120, using: &rng),
            closeAfterStall: Bool.random(using: &rng) ? nil : .milliseconds(Int64.random(in: 100...3_000, using: &rng)),
            catchUpBatch: Int.random(in: 1...6, using: &rng))
        let policy = StreamPolicy(streamClass: cls, history: history, flow: flow, maxSubscribers: 8)
        return StreamScenario(streamClass: cls, policy: policy, seed: rng.next(), steps: Int.random(in: 20...300, using: &rng))
    }
}

/// A client of the stream as the test sees it: its cursor and what it must still be told about.
struct Client {
    var epoch: StreamEpoch?
    var cursor: UInt64 = 0
    var attached = false
    var paused = false
    var more = false
    /// Coalescing: offsets skipped over that a later event of the same key (or a gap) must cover.
    var skipped: [UInt64] = []
    var gaps = 0
}

/// Runs one scenario and checks every rule on every output.
struct StreamModelRun {
    var log: StreamLog<MemoryStreamHistory>
    var clients: [Client]
    var rng: SplitMix
    var now = 0
    var keys: [UInt64: String?] = [:]
    let cls: StreamClass
    let policy: StreamPolicy
    var allowWrongEpoch = true

    init(_ s: StreamScenario) {
        cls = s.streamClass
        policy = s.policy
        log = StreamLog(epoch: epochA, policy: s.policy)
        clients = Array(repeating: Client(), count: 4)
        rng = SplitMix(seed: s.seed)
    }

    mutating func run(steps: Int) {
        for _ in 0..<steps {
            step()
            checkBounds()
        }
        finish()
    }

    mutating func step() {
        let i = Int.random(in: 0..<clients.count, using: &rng)
        let id = SubscriberID(UInt64(i))
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<40:
            publish()
        case 40..<50:
            guard !clients[i].attached else { return publish() }
            attach(i)
        case 50..<55:
            if clients[i].attached {
                log.detach(id)
                clients[i].attached = false
            }
        case 55..<68:
            if clients[i].attached, !clients[i].paused {
                log.pause(id, now: at(now))
                clients[i].paused = true
            }
        case 68..<85:
            if clients[i].attached, clients[i].paused || clients[i].more { drain(i) }
        case 85..<95:
            now += Int.random(in: 0...400, using: &rng)
        default:
            var closed: [(Int, FlowOutput)] = []
            log.checkStalls(now: at(now)) { closed.append((Int($0.rawValue), $1)) }
            for (i, out) in closed { receive(i, out) }
        }
    }

    mutating func publish() {
        let key: String? = cls == .coalescing ? ["a", "b", "c", "d", "e", nil].randomElement(using: &rng)! : nil
        let size = Int.random(in: 0...30, using: &rng)
        var delivered: [(Int, FlowOutput)] = []
        let e = log.publish(bytes(size), key: key, now: at(now)) { delivered.append((Int($0.rawValue), $1)) }
        keys[e.offset] = key
        for (i, out) in delivered { receive(i, out) }
    }

    mutating func attach(_ i: Int) {
        let id = SubscriberID(UInt64(i))
        var since: StreamPosition?
        if let epoch = clients[i].epoch, Int.random(in: 0..<10, using: &rng) > 0 {
            let wrongEpoch = allowWrongEpoch && Int.random(in: 0..<10, using: &rng) == 0
            since = StreamPosition(epoch: wrongEpoch ? epochB : epoch, offset: clients[i].cursor)
        }
        let result: AttachResult
        do { result = try log.attach(id, since: since, now: at(now)) } catch {
            Issue.record("attach refused: \(error)"); return
        }
        guard case .attached(let a) = result else { Issue.record("memory history asked for a store"); return }
        let newest = log.newestOffset
        #expect(a.liveFrom == newest)
        #expect(a.epoch == epochA)
        switch a.outcome {
        case .fresh:
            #expect(since == nil)
            #expect(a.backlog.isEmpty)
        case .recovered:
            let since = since!
            #expect(since.epoch == epochA)
            let missed = Array(stride(from: since.offset + 1, through: newest, by: 1))
            if cls == .coalescing {
                // The newest event of each key among the missed ones, and every keyless one.
                let expected = missed.filter { o in keys[o]! == nil || !missed.contains { $0 > o && keys[$0]! == keys[o]! } }
                #expect(a.backlog.map(\.offset) == expected, "a coalescing resume replays the latest per key and every keyless event")
            } else {
                #expect(a.backlog.map(\.offset) == missed, "resume must replay exactly the missed events")
            }
            if cls == .coalescing { clients[i].skipped.removeAll() }
        case .notRecovered(let why):
            let s = since!
            switch why {
            case .epochChanged: #expect(s.epoch != epochA)
            case .offsetAhead: #expect(s.offset > newest)
            case .historyTrimmed:
                #expect(s.epoch == epochA)
                #expect(!log.history.reaches(after: s.offset), "refused a resume history could serve")
            }
            #expect(a.backlog.isEmpty)
            clients[i].gaps += 1
            clients[i].skipped.removeAll()
        }
        clients[i].epoch = a.epoch
        clients[i].cursor = a.liveFrom
        clients[i].attached = true
        clients[i].paused = false
        clients[i].more = false
    }

    mutating func drain(_ i: Int) {
        let d = log.drain(SubscriberID(UInt64(i)), now: at(now))
        for out in d.outputs { receive(i, out) }
        clients[i].paused = false
        clients[i].more = d.more
        if cls == .coalescing {
            #expect(clients[i].skipped.isEmpty, "a drain must end with every skipped key superseded or a gap")
        }
    }

    mutating func receive(_ i: Int, _ out: FlowOutput) {
        #expect(clients[i].attached, "output for a detached subscriber")
        switch out {
        case .event(let e):
            let c = clients[i].cursor
            switch cls {
            case .durable, .ephemeral:
                #expect(e.offset == c + 1, "\(cls) subscriber \(i): expected \(c + 1), got \(e.offset)")
            case .coalescing:
                #expect(e.offset > c, "coalescing offsets must increase")
                if e.offset > c + 1 {
                    let skipped = Array((c + 1)..<e.offset)
                    #expect(!skipped.contains { keys[$0]! == nil }, "a keyless event was skipped without a gap")
                    clients[i].skipped += skipped
                }
                if let key = e.key { clients[i].skipped.removeAll { $0 < e.offset && keys[$0]! == key } }
            }
            clients[i].cursor = e.offset
        case .gap(let g):
            #expect(g.lastDelivered == clients[i].cursor)
            #expect(g.resumesAfter >= g.lastDelivered)
            #expect(g.resumesAfter <= log.newestOffset)
            switch g.reason {
            case .historyLost:
                #expect(cls == .durable)
                #expect(!log.history.reaches(after: g.lastDelivered), "durable lost events while history reached")
                #expect(g.resumesAfter == log.newestOffset)
            case .dropped(let n):
                #expect(cls != .durable, "durable never drops")
                #expect(n > 0)
            }
            clients[i].cursor = g.resumesAfter
            clients[i].gaps += 1
            clients[i].skipped.removeAll()
        case .close(let c):
            #expect(c.code == 4001)
            #expect(c.reason == "slow_consumer")
            #expect(clients[i].paused, "only a paused subscriber is slow")
            #expect(policy.flow.closeAfterStall.map { c.stalledFor > $0 } == true)
            #expect(log.flow(SubscriberID(UInt64(i))) == nil, "closed subscribers are detached")
            clients[i].attached = false
            clients[i].paused = false
        case .fetch:
            Issue.record("memory history never fetches")
        }
    }

    func checkBounds() {
        #expect(log.history.count <= policy.history.maxEvents)
        #expect(log.history.byteCount <= policy.history.maxBytes)
        for (i, c) in clients.enumerated() {
            let flow = log.flow(SubscriberID(UInt64(i)))
            #expect((flow != nil) == c.attached)
            guard let flow else { continue }
            #expect(flow.queuedEvents <= (cls == .durable ? 0 : policy.flow.maxQueuedEvents))
            #expect(flow.queuedBytes <= (cls == .durable ? 0 : policy.flow.maxQueuedBytes))
        }
    }

    /// Every attached subscriber drains fully: then it has everything up to the newest offset,
    /// and (coalescing) every skipped offset was superseded by its key's later event or a gap.
    mutating func finish() {
        for i in clients.indices where clients[i].attached {
            var rounds = 0
            repeat {
                drain(i)
                rounds += 1
            } while clients[i].attached && clients[i].more && rounds < 10_000
            guard clients[i].attached else { continue }
            #expect(clients[i].cursor == log.newestOffset, "subscriber \(i) did not catch up")
            #expect(clients[i].skipped.isEmpty, "coalescing lost the latest value of a key: \(clients[i].skipped)")
            #expect(log.flow(SubscriberID(UInt64(i)))?.state == .live)
        }
    }
}

@Suite struct StreamPropertyTests {
    @Test func durableSubscribersSeeEveryOffsetOnceOrExactlyOneGapWhereHistoryWasLost() async {
        await propertyCheck(count: 300, input: scenarioGen([.durable])) { s in
            var run = StreamModelRun(s)
            run.run(steps: s.steps)
        }
    }

    @Test func ephemeralSubscribersSeeContiguousOffsetsOrAGapNoticeWithinBoundedMemory() async {
        await propertyCheck(count: 300, input: scenarioGen([.ephemeral])) { s in
            var run = StreamModelRun(s)
            run.run(steps: s.steps)
        }
    }

    @Test func coalescingSubscribersEndWithTheLatestValueOfEveryKey() async {
        await propertyCheck(count: 300, input: scenarioGen([.coalescing])) { s in
            var run = StreamModelRun(s)
            run.run(steps: s.steps)
        }
    }

    /// With history that never trims, a durable subscriber resuming with its own cursor is always
    /// recovered and never sees a gap, whatever the interleaving of publishes, pauses and drains.
    @Test func durableNeverLosesAnEventWhileHistoryReaches() async {
        let gen = Generator<UInt64, Shrink.None<UInt64>> { rng in rng.next() }
        await propertyCheck(count: 200, input: gen) { seed in
            var policy = StreamPolicy.defaults(for: .durable)
            policy.history = HistoryLimits(maxEvents: 10_000, maxBytes: 1 << 30, maxAge: nil)
            policy.flow.catchUpBatch = 3
            policy.maxSubscribers = 8
            var run = StreamModelRun(StreamScenario(streamClass: .durable, policy: policy, seed: seed, steps: 250))
            run.allowWrongEpoch = false
            run.run(steps: 250)
            for c in run.clients { #expect(c.gaps == 0) }
        }
    }
}
