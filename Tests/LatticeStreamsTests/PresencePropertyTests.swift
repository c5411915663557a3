import LatticeProtocol
import NIOCore
import PropertyBased
import Testing

@testable import LatticeStreams

@Suite struct PresencePropertyTests {
    /// After any sequence of sets, removes, heartbeats, expiries and flushes at random times:
    /// every observer's full state plus the diffs it received since equals the table's state;
    /// the table equals an independent model; no member survives the removal of all its
    /// connections; and no member gets two diff entries within one coalescing interval.
    @Test func diffsComposeWithFullStatesAndNoGhostsRemain() async {
        let gen = Generator<UInt64, Shrink.None<UInt64>> { rng in rng.next() }
        await propertyCheck(count: 400, input: gen) { seed in
            var rng = SplitMix(seed: seed)
            let interval = Int.random(in: 1...100, using: &rng)
            let timeout = Int.random(in: 100...2_000, using: &rng)
            var t = PresenceTable(config: PresenceConfig(
                coalesceInterval: .milliseconds(Int64(interval)), metaTimeout: .milliseconds(Int64(timeout)), maxMetas: 100))
            let identities = ["ann", "bob", "cy"]
            func identity(_ c: Int) -> String { identities[c % identities.count] }
            var model: [Int: (state: String, seen: Int)] = [:]
            var observers: [PresenceView] = []
            var lastEntry: [String: Int] = [:]
            var now = 0

            func flush() {
                guard let diff = t.flush(now: at(now)) else { return }
                let names = diff.joins.map(\.identity) + diff.updates.map(\.identity) + diff.leaves
                #expect(Set(names).count == names.count, "one entry per member per diff")
                for name in names {
                    if let last = lastEntry[name] { #expect(now - last >= interval, "\(name) rate-limited") }
                    lastEntry[name] = now
                }
                for member in diff.joins + diff.updates { #expect(!member.metas.isEmpty) }
                for i in observers.indices { observers[i].apply(diff) }
            }

            for _ in 0..<Int.random(in: 10...200, using: &rng) {
                let c = Int.random(in: 0..<7, using: &rng)
                let conn = ConnectionID(UInt64(c))
                switch Int.random(in: 0..<100, using: &rng) {
                case 0..<35:
                    let state = ["{}", #"{"s":1}"#, #"{"s":2}"#, #"{"cursor":[1,2]}"#].randomElement(using: &rng)!
                    let kind: Identity.Kind = c % 3 == 2 ? .bot : .user
                    let r = t.set(conn: conn, identity: identity(c), kind: kind, state: json(state), now: at(now))
                    #expect(r == .accepted)
                    model[c] = (state, now)
                case 35..<50:
                    let was = t.remove(conn: conn)
                    #expect(was == (model[c] != nil))
                    model[c] = nil
                case 50..<58:
                    t.heartbeat(conn: conn, now: at(now))
                    if model[c] != nil { model[c]!.seen = now }
                case 58..<63:
                    let expired = t.expire(now: at(now))
                    let due = model.filter { $0.value.seen + timeout < now }.keys.sorted()
                    #expect(expired == due.map { ConnectionID(UInt64($0)) })
                    for c in due { model[c] = nil }
                case 63..<80:
                    now += Int.random(in: 0...(2 * interval), using: &rng)
                case 80..<92:
                    flush()
                default:
                    observers.append(PresenceView(fullState: t.fullState()))
                }
                // The table's current state is the model's, at every step.
                var expected: [String: [PresenceMeta]] = [:]
                for (c, m) in model.sorted(by: { $0.key < $1.key }) {
                    expected[identity(c), default: []].append(PresenceMeta(conn: ConnectionID(UInt64(c)), state: json(m.state)))
                }
                let current = t.currentState()
                #expect(current.map(\.identity) == expected.keys.sorted())
                for member in current { #expect(member.metas == expected[member.identity]) }
                #expect(t.metaCount == model.count)
                #expect(t.stateBytes == model.values.reduce(0) { $0 + $1.state.utf8.count })
            }
            // Let every pending change come due, and check all views.
            while let due = t.nextFlush {
                now = max(now, Int(due.uptimeNanoseconds / 1_000_000))
                flush()
                now += 1
            }
            observers.append(PresenceView(fullState: t.fullState()))
            #expect(t.fullState() == t.currentState())
            for view in observers { #expect(view.sorted == t.currentState()) }

            // Closing every connection leaves no member behind, for every observer.
            for c in 0..<7 { t.remove(conn: ConnectionID(UInt64(c))) }
            now += interval
            flush()
            #expect(t.currentState().isEmpty)
            #expect(t.fullState().isEmpty)
            #expect(t.memberCount == 0)
            #expect(t.stateBytes == 0)
            for view in observers { #expect(view.members.isEmpty, "ghost member") }
        }
    }
}
