/// Replays editing histories (in the shape of the `editing-traces` data set) through `TextCRDT`.
/// Input is plain arrays so that this module stays free of I/O and of the trace parser.
public enum TextReplay {
    public struct Patch: Sendable {
        public var pos: Int, delete: Int, insertStart: Int, insertCount: Int
        public init(pos: Int, delete: Int, insertStart: Int, insertCount: Int) {
            self.pos = pos; self.delete = delete; self.insertStart = insertStart; self.insertCount = insertCount
        }
    }
    public struct Txn: Sendable {
        public var patchStart: Int, patchCount: Int, agent: Int, parents: [Int]
        public init(patchStart: Int, patchCount: Int, agent: Int, parents: [Int]) {
            self.patchStart = patchStart; self.patchCount = patchCount; self.agent = agent; self.parents = parents
        }
    }

    public enum ReplayError: Error, CustomStringConvertible {
        case outOfRange(txn: Int)
        case badParents(txn: Int)
        public var description: String {
            switch self {
            case .outOfRange(let t): return "txn \(t): patch out of range"
            case .badParents(let t): return "txn \(t): parents inconsistent with the agent's own history"
            }
        }
    }

    /// Applies every patch in order as local edits of one replica.
    public static func sequential(txns: [Txn], patches: [Patch], scalars: [UInt32], start: [UInt32] = [], agentName: String = "A") throws -> TextCRDT {
        var t = TextCRDT()
        let a = t.agent(agentName)
        var seq: UInt32 = 0
        if !start.isEmpty {
            _ = start.withUnsafeBufferPointer { t.localInsert(at: 0, scalars: $0, agent: a, seq: 0) }
            seq = UInt32(start.count)
        }
        try scalars.withUnsafeBufferPointer { ins in
            try patches.withUnsafeBufferPointer { ps in
                for (ti, txn) in txns.enumerated() {
                    for p in ps[txn.patchStart..<(txn.patchStart + txn.patchCount)] {
                        guard p.pos >= 0, p.delete >= 0, p.pos + p.delete <= t.count else { throw ReplayError.outOfRange(txn: ti) }
                        if p.delete > 0 { _ = t.localDelete(at: p.pos, count: p.delete) }
                        if p.insertCount > 0 {
                            let slice = UnsafeBufferPointer(rebasing: ins[p.insertStart..<(p.insertStart + p.insertCount)])
                            _ = t.localInsert(at: p.pos, scalars: slice, agent: a, seq: seq)
                            seq += UInt32(p.insertCount)
                        }
                    }
                }
            }
        }
        return t
    }

    enum LoggedOp {
        case insert(TextCRDT.Insertion, start: Int)   // content = scalars[start ..< start + count]
        case delete([TextCRDT.Span])
    }

    /// Result of a concurrent replay: the replicas after the final full merge.
    public struct ConcurrentResult: Sendable {
        public var replicas: [TextCRDT]
        /// Number of remote ops integrated during replay (excluding the final merge).
        public var remoteOpsIntegrated: Int
    }

    /// Concurrent replay: one replica per agent. Before applying txn *t* of agent *a*, every op of
    /// *t*'s ancestors that *a* has not seen is integrated (in creation order, which is causal);
    /// then *t*'s patches are applied as local edits. At the end, every replica receives every op
    /// (if `mergeAll`), otherwise only replica 0 does.
    public static func concurrent(txns: [Txn], patches: [Patch], scalars: [UInt32], start: [UInt32] = [], numAgents: Int, mergeAll: Bool = false) throws -> ConcurrentResult {
        var replicas = [TextCRDT](repeating: TextCRDT(), count: numAgents)
        for i in 0..<numAgents {
            for a in 0..<numAgents { _ = replicas[i].agent("agent\(a)") }
            if !start.isEmpty {
                // The start content is one root insert by an extra agent, known to every replica.
                let s = replicas[i].agent("~start")
                replicas[i].integrateInsert(id: .init(agent: s, seq: 0), originLeft: .none, originRight: .none, scalars: start)
            }
        }
        var log: [LoggedOp] = []                 // global creation order
        var agentOps = [[Int]](repeating: [], count: numAgents)   // per agent: indexes into log
        var seqs = [UInt32](repeating: 0, count: numAgents)
        var applied = [[Int]](repeating: [Int](repeating: 0, count: numAgents), count: numAgents)
        var txnVersion: [[Int]] = []
        txnVersion.reserveCapacity(txns.count)
        var remote = 0

        func integrate(_ r: inout TextCRDT, _ op: LoggedOp) {
            switch op {
            case .insert(let ins, let start):
                scalars.withUnsafeBufferPointer { buf in
                    r.integrateInsert(id: ins.id, originLeft: ins.originLeft, originRight: ins.originRight,
                                      scalars: UnsafeBufferPointer(rebasing: buf[start..<(start + ins.count)]))
                }
            case .delete(let spans):
                r.integrateDelete(spans)
            }
        }

        func catchUp(_ a: Int, to target: [Int]) {
            var missing: [Int] = []
            for b in 0..<numAgents where target[b] > applied[a][b] {
                missing.append(contentsOf: agentOps[b][applied[a][b]..<target[b]])
                applied[a][b] = target[b]
            }
            if missing.isEmpty { return }
            missing.sort()
            for gi in missing { integrate(&replicas[a], log[gi]) }
            remote += missing.count
        }

        for (ti, txn) in txns.enumerated() {
            let a = txn.agent
            var target = [Int](repeating: 0, count: numAgents)
            for p in txn.parents {
                guard p >= 0 && p < ti else { throw ReplayError.badParents(txn: ti) }
                for b in 0..<numAgents { target[b] = max(target[b], txnVersion[p][b]) }
            }
            guard target[a] <= applied[a][a] else { throw ReplayError.badParents(txn: ti) }
            target[a] = applied[a][a]
            catchUp(a, to: target)
            for p in patches[txn.patchStart..<(txn.patchStart + txn.patchCount)] {
                guard p.pos >= 0, p.delete >= 0, p.pos + p.delete <= replicas[a].count else { throw ReplayError.outOfRange(txn: ti) }
                if p.delete > 0 {
                    let spans = replicas[a].localDelete(at: p.pos, count: p.delete)
                    agentOps[a].append(log.count); log.append(.delete(spans))
                }
                if p.insertCount > 0 {
                    let ins = scalars.withUnsafeBufferPointer { buf in
                        replicas[a].localInsert(at: p.pos, scalars: UnsafeBufferPointer(rebasing: buf[p.insertStart..<(p.insertStart + p.insertCount)]),
                                                agent: UInt32(a), seq: seqs[a])
                    }
                    seqs[a] += UInt32(p.insertCount)
                    agentOps[a].append(log.count); log.append(.insert(ins, start: p.insertStart))
                }
            }
            applied[a][a] = agentOps[a].count
            target[a] = applied[a][a]
            txnVersion.append(target)
        }
        let all = agentOps.map { $0.count }
        for a in 0..<numAgents where a == 0 || mergeAll { catchUp(a, to: all) }
        return ConcurrentResult(replicas: replicas, remoteOpsIntegrated: remote)
    }
}
