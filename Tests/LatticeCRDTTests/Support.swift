import LatticeCRDT

/// Deterministic PRNG (SplitMix64) so that a property-test input (a seed) fully determines a scenario.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random multi-replica editing session with random partial syncs.
struct Scenario {
    var replicas: [Document]
    /// Every op ever created, in creation order.
    var ops: [Op] = []
    /// Delivery order used for each replica (indexes into `ops`), including duplicates.
    var deliveries: [[Int]]
    var delivered: [Set<Int>]

    static let text = ["body"]
    static let title = ["title"]
    static let tags = ["tags"]
    static let meta = ["meta"]
    static let votes = ["votes"]
    static let kg = ["kg"]

    init(replicaCount: Int) {
        replicas = (0..<replicaCount).map { Document(replica: "r\($0)") }
        deliveries = Array(repeating: [], count: replicaCount)
        delivered = Array(repeating: [], count: replicaCount)
    }

    mutating func deliver(_ i: Int, to r: Int) throws {
        deliveries[r].append(i)
        delivered[r].insert(i)
        _ = try replicas[r].apply(ops[i])
    }

    static let alphabet = Array("abcdefghijklmnopqrstuvwxyzé—😀")

    mutating func randomLocalOp(_ r: Int, textOnly: Bool, rng: inout SplitMix) throws {
        var d = replicas[r]
        let actor: Actor = [Actor.user("u\(r)"), .bot("b\(r)"), .run(run: "run\(r)", node: "n1")][Int.random(in: 0..<3, using: &rng)]
        let choice = textOnly ? Int.random(in: 0..<10, using: &rng) : Int.random(in: 0..<22, using: &rng)
        var op: Op?
        switch choice {
        case 0..<6:
            let len = d.textLength(Scenario.text)
            let n = Int.random(in: 1...4, using: &rng)
            let s = String((0..<n).map { _ in Scenario.alphabet.randomElement(using: &rng)! })
            op = try d.insertText(Scenario.text, at: Int.random(in: 0...len, using: &rng), s, actor: actor)
        case 6..<10:
            let len = d.textLength(Scenario.text)
            if len == 0 { break }
            let p = Int.random(in: 0..<len, using: &rng)
            op = try d.deleteText(Scenario.text, at: p, count: Int.random(in: 1...min(5, len - p), using: &rng), actor: actor)
        case 10: op = d.setRegister(Scenario.title, .string("t\(Int.random(in: 0..<5, using: &rng))"), actor: actor)
        case 11: op = d.setMap(Scenario.meta, "k\(Int.random(in: 0..<3, using: &rng))", .int(Int64.random(in: 0..<100, using: &rng)), actor: actor)
        case 12: op = d.deleteMap(Scenario.meta, "k\(Int.random(in: 0..<3, using: &rng))", actor: actor)
        case 13: op = d.addToSet(Scenario.tags, .string("x\(Int.random(in: 0..<4, using: &rng))"), actor: actor)
        case 14: op = d.removeFromSet(Scenario.tags, .string("x\(Int.random(in: 0..<4, using: &rng))"), actor: actor)
        case 15: op = d.addToCounter(Scenario.votes, Int64.random(in: -3...5, using: &rng), actor: actor)
        case 16: op = d.addNode(Scenario.kg, id: "n\(Int.random(in: 0..<4, using: &rng))", type: "T", label: "L\(Int.random(in: 0..<3, using: &rng))", actor: actor)
        case 17: op = d.removeNode(Scenario.kg, id: "n\(Int.random(in: 0..<4, using: &rng))", actor: actor)
        case 18: op = d.setNodeProperty(Scenario.kg, id: "n\(Int.random(in: 0..<4, using: &rng))", key: "p", .int(Int64.random(in: 0..<9, using: &rng)), actor: actor)
        case 19:
            op = d.addEdge(Scenario.kg, id: "e\(Int.random(in: 0..<4, using: &rng))", source: "n\(Int.random(in: 0..<4, using: &rng))",
                           target: "n\(Int.random(in: 0..<4, using: &rng))", type: "rel", actor: actor)
        case 20: op = d.removeEdge(Scenario.kg, id: "e\(Int.random(in: 0..<4, using: &rng))", actor: actor)
        default: op = d.setEdgeProperty(Scenario.kg, id: "e\(Int.random(in: 0..<4, using: &rng))", key: "w", .int(Int64.random(in: 0..<9, using: &rng)), actor: actor)
        }
        replicas[r] = d
        if let op {
            ops.append(op)
            deliveries[r].append(ops.count - 1)
            delivered[r].insert(ops.count - 1)
        }
    }

    /// Runs a random session: local ops interleaved with random partial deliveries (random order,
    /// duplicates, out-of-causal-order), then a final full delivery in random order.
    static func random(seed: UInt64, replicaCount: Int, steps: Int, textOnly: Bool = false) throws -> Scenario {
        var rng = SplitMix(seed: seed)
        var s = Scenario(replicaCount: replicaCount)
        for _ in 0..<steps {
            let r = Int.random(in: 0..<replicaCount, using: &rng)
            if Int.random(in: 0..<4, using: &rng) == 0 && !s.ops.isEmpty {
                // partial sync: a random subset of ops, shuffled, some duplicated
                var picks = (0..<s.ops.count).filter { _ in Bool.random(using: &rng) }
                picks += picks.filter { _ in Int.random(in: 0..<5, using: &rng) == 0 }
                picks.shuffle(using: &rng)
                for i in picks { try s.deliver(i, to: r) }
            } else {
                try s.randomLocalOp(r, textOnly: textOnly, rng: &rng)
            }
        }
        for r in 0..<replicaCount {
            var all = Array(0..<s.ops.count) + (0..<s.ops.count).filter { _ in Int.random(in: 0..<8, using: &rng) == 0 }
            all.shuffle(using: &rng)
            for i in all { try s.deliver(i, to: r) }
        }
        return s
    }
}
