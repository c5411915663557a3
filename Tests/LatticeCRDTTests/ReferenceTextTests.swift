import LatticeCRDT
import PropertyBased
import Testing

/// A deliberately naive, per-character implementation of the integration algorithm exactly as
/// written in docs/crdt.md §3.3 (what the JavaScript twin implements). The run-length encoded
/// engine must produce the same element order.
struct ReferenceText {
    struct Item { var id: OpID; var left: OpID?; var right: OpID?; var deleted = false }
    var items: [Item] = []

    func pos(_ id: OpID?, noneIs: Int) -> Int {
        guard let id else { return noneIs }
        return items.firstIndex { $0.id == id }!
    }

    mutating func integrate(id: OpID, left: OpID?, right: OpID?) {
        let pl = pos(left, noneIs: -1)
        let pr = pos(right, noneIs: Int.max)
        var cursor = pl + 1
        var scanning = false
        var scanStart = cursor
        while cursor < items.count {
            let o = items[cursor]
            if o.id == right { break }
            let pol = pos(o.left, noneIs: -1)
            if pol < pl { break }
            if pol == pl {
                if o.right == right {
                    if id.replica.utf8.lexicographicallyPrecedes(o.id.replica.utf8) { break }
                    scanning = false
                } else if pos(o.right, noneIs: Int.max) < pr {
                    if !scanning { scanning = true; scanStart = cursor }
                } else {
                    scanning = false
                }
            }
            cursor += 1
        }
        if scanning { cursor = scanStart }
        items.insert(Item(id: id, left: left, right: right), at: cursor)
    }

    mutating func apply(_ op: Op) {
        switch op.body {
        case .textInsert(let l, let r, _):
            for k in 0..<op.span {
                let id = OpID(op.id.replica, op.id.counter + k)
                integrate(id: id, left: k == 0 ? l : OpID(op.id.replica, op.id.counter + k - 1), right: r)
            }
        case .textDelete(let spans):
            for s in spans {
                for k in 0..<s.count {
                    let id = OpID(s.replica, s.counter + k)
                    items[pos(id, noneIs: 0)].deleted = true
                }
            }
        default: break
        }
    }

    var visibleIDs: [OpID] { items.filter { !$0.deleted }.map(\.id) }
}

@Suite struct ReferenceTextTests {
    @Test func runLengthEngineMatchesPerCharacterReference() async {
        await propertyCheck(count: 80, input: Gen.int(in: 0...Int.max), Gen.int(in: 2...5), Gen.int(in: 20...250)) { seed, n, steps in
            do {
                let s = try Scenario.random(seed: UInt64(seed), replicaCount: n, steps: steps, textOnly: true)
                var ref = ReferenceText()
                for op in s.ops { ref.apply(op) }     // creation order is causal
                #expect(ref.visibleIDs == s.replicas[0].textElementIDs(Scenario.text))
            } catch {
                Issue.record("threw: \(error)")
            }
        }
    }
}
