import LatticeCRDT
import PropertyBased
import Testing

@Suite struct ConvergenceTests {
    static func check(_ s: Scenario) {
        let first = s.replicas[0]
        for d in s.replicas {
            #expect(d.pending.isEmpty)
            #expect(d.version == first.version)
            #expect(d.state == first.state)
            #expect(d.textElementIDs(Scenario.text) == first.textElementIDs(Scenario.text))
        }
        // No inserted character is lost unless a delete covering it was issued.
        var inserted = Set<OpID>(), deleted = Set<OpID>()
        for op in s.ops {
            switch op.body {
            case .textInsert:
                for k in 0..<op.span { inserted.insert(OpID(op.id.replica, op.id.counter + k)) }
            case .textDelete(let spans):
                for sp in spans { for k in 0..<sp.count { deleted.insert(OpID(sp.replica, sp.counter + k)) } }
            default: break
            }
        }
        let visible = Set(first.textElementIDs(Scenario.text))
        #expect(visible == inserted.subtracting(deleted))
    }

    @Test func randomOpsFromTwoToFiveReplicasConverge() async {
        await propertyCheck(count: 150, input: Gen.int(in: 0...Int.max), Gen.int(in: 2...5), Gen.int(in: 5...80)) { seed, n, steps in
            do {
                let s = try Scenario.random(seed: UInt64(seed), replicaCount: n, steps: steps)
                ConvergenceTests.check(s)
            } catch {
                Issue.record("scenario threw: \(error)")
            }
        }
    }

    @Test func randomTextOnlyEditingConverges() async {
        await propertyCheck(count: 100, input: Gen.int(in: 0...Int.max), Gen.int(in: 2...5), Gen.int(in: 20...200)) { seed, n, steps in
            do {
                let s = try Scenario.random(seed: UInt64(seed), replicaCount: n, steps: steps, textOnly: true)
                ConvergenceTests.check(s)
            } catch {
                Issue.record("scenario threw: \(error)")
            }
        }
    }

    @Test func snapshotThenLaterOpsEqualsAllOps() async {
        await propertyCheck(count: 60, input: Gen.int(in: 0...Int.max), Gen.int(in: 10...80)) { seed, steps in
            do {
                let s = try Scenario.random(seed: UInt64(seed), replicaCount: 3, steps: steps)
                // Replica built from a prefix, snapshotted, reloaded, then fed everything.
                var rng = SplitMix(seed: UInt64(seed) ^ 0xABCDEF)
                let cut = Int.random(in: 0...s.ops.count, using: &rng)
                var a = Document(replica: "observer")
                for op in s.ops[0..<cut] { try a.apply(op) }
                let snap = a.snapshot()
                var b = try Document(snapshot: snap, replica: "observer")
                #expect(b.state == a.state)
                #expect(b.snapshot() == snap)
                for op in s.ops.shuffled(using: &rng) { try b.apply(op) }
                #expect(b.pending.isEmpty)
                #expect(b.state == s.replicas[0].state)
                #expect(b.version == s.replicas[0].version)
            } catch {
                Issue.record("threw: \(error)")
            }
        }
    }

    @Test func opEncodingsRoundTrip() async {
        await propertyCheck(count: 40, input: Gen.int(in: 0...Int.max)) { seed in
            do {
                let s = try Scenario.random(seed: UInt64(seed), replicaCount: 3, steps: 40)
                for op in s.ops {
                    #expect(try Op(json: op.json) == op)
                    #expect(try Op(binary: op.binary) == op)
                    #expect(op.binary.count < op.json.utf8.count)
                }
            } catch {
                Issue.record("threw: \(error)")
            }
        }
    }
}

@Suite struct CausalityTests {
    let user = Actor.user("u")

    @Test func opsArrivingBeforeTheirDependenciesAreBuffered() throws {
        var a = Document(replica: "a")
        let o1 = try #require(try a.insertText(["t"], at: 0, "hello", actor: user))
        let o2 = try #require(try a.insertText(["t"], at: 5, "!", actor: user))
        let o3 = try #require(try a.deleteText(["t"], at: 0, count: 1, actor: user))
        var b = Document(replica: "b")
        #expect(try b.apply(o3) == .buffered)
        #expect(try b.apply(o2) == .buffered)
        #expect(b.text(["t"]) == "")
        #expect(try b.apply(o1) == .applied)
        #expect(b.pending.isEmpty)
        #expect(b.text(["t"]) == "ello!")
        #expect(try b.apply(o2) == .duplicate)
        #expect(try b.apply(o1) == .duplicate)
        #expect(b.text(["t"]) == "ello!")
        #expect(b.version == ["a": 7])
    }

    @Test func opsSinceVersion() throws {
        var a = Document(replica: "a")
        var b = Document(replica: "b")
        let o1 = try #require(try a.insertText(["t"], at: 0, "ab", actor: user))
        try b.apply(o1)
        let v = b.version
        let o2 = b.setRegister(["r"], .int(1), actor: user)
        let o3 = try #require(try a.insertText(["t"], at: 2, "c", actor: user))
        try b.apply(o3)
        #expect(b.ops(since: v) == [o2, o3])
        #expect(b.ops(since: [:])?.count == 3)
        #expect(b.ops(since: b.version) == [])
        // After loading a snapshot, history before it is gone.
        let c = try Document(snapshot: b.snapshot(), replica: "c")
        #expect(c.ops(since: v) == nil)
        #expect(c.ops(since: c.version) == [])
        // Syncing with ops(since:) converges.
        try a.apply(o2)
        #expect(a.state == b.state)
        // Compaction: the log is dropped, later ops are still served.
        let before = b.version
        b.compactLog()
        #expect(b.ops(since: v) == nil)
        #expect(b.ops(since: before) == [])
        let o4 = b.setRegister(["r"], .int(2), actor: user)
        #expect(b.ops(since: before) == [o4])
    }

    @Test func changesByActor() throws {
        var d = Document(replica: "a")
        let bot = Actor.bot("summariser")
        let run = Actor.run(run: "r-17", node: "extract")
        _ = d.addNode(["kg"], id: "n1", type: "Person", label: "Ada", actor: run)
        _ = try d.insertText(["t"], at: 0, "x", actor: bot)
        _ = d.setNodeProperty(["kg"], id: "n1", key: "born", .int(1815), actor: run)
        #expect(d.changes(by: run).map(\.body.typeName) == ["graph.node.add", "graph.node.set"])
        #expect(d.changes(by: bot).count == 1)
        #expect(d.changes(by: .user("nobody")).isEmpty)
    }

    @Test func invalidOpsAreRejected() throws {
        var d = Document(replica: "a")
        let bad = Op(id: OpID("z", 0), lamport: 1, actor: .user("u"), deps: [], path: ["t"],
                     body: .textInsert(left: OpID("z", 99), right: nil, text: "x"))
        #expect(throws: DocumentError.self) { try d.apply(bad) }
        #expect(throws: DecodeError.self) { try Op(json: "{\"id\":[\"a\",0]}") }
        #expect(throws: DecodeError.self) { try Op(binary: [99, 1, 2]) }
        #expect(throws: DecodeError.self) { try Document(snapshot: [1, 2, 3, 4, 5], replica: "x") }
    }
}
