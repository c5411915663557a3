/// A run-length encoded sequence CRDT for text (YjsMod / FugueMax ordering).
///
/// Elements are Unicode scalars with stable ids `(agent, seq)`. Items are kept as runs:
/// one `Run` covers consecutive seqs of one agent whose elements were typed one after the
/// other (each element's left origin is the previous element of the run) and that share
/// the same right origin and deletion state. Runs live in chunks (≤ `maxRuns` runs each)
/// with a cached visible length; a per-agent index maps each seq to its chunk, and a
/// "last chunk" cache makes nearby local edits cheap.
///
/// Agents are small integers local to this structure; their *names* (replica ids) are used
/// only to break ties between concurrent inserts at the same place, so every replica must
/// register the same names (not necessarily in the same order).
public struct TextCRDT: Sendable {
    public typealias Agent = UInt32
    public static let none: Agent = .max

    /// Element id inside the text engine: agent index plus sequence number.
    public struct ElementID: Hashable, Sendable {
        public var agent: Agent
        public var seq: UInt32
        public init(agent: Agent, seq: UInt32) { self.agent = agent; self.seq = seq }
        public static let none = ElementID(agent: TextCRDT.none, seq: 0)
        public var isNone: Bool { agent == TextCRDT.none }
    }

    /// A span of element ids `seq ..< seq + count` from one agent.
    public struct Span: Hashable, Sendable {
        public var agent: Agent
        public var seq: UInt32
        public var count: UInt32
        public init(agent: Agent, seq: UInt32, count: UInt32) { self.agent = agent; self.seq = seq; self.count = count }
    }

    /// What a local insert produced: the id of the first element and its origins.
    public struct Insertion: Sendable, Hashable {
        public var id: ElementID
        public var originLeft: ElementID
        public var originRight: ElementID
        public var count: Int
    }

    struct Run: Sendable {
        var agent: Agent
        var seq: UInt32
        var len: UInt32
        var deleted: Bool
        var olAgent: Agent
        var olSeq: UInt32
        var orAgent: Agent
        var orSeq: UInt32

        @inline(__always) var originRight: ElementID { ElementID(agent: orAgent, seq: orSeq) }
        @inline(__always) var originLeft: ElementID { ElementID(agent: olAgent, seq: olSeq) }
        @inline(__always) func originLeft(at off: UInt32) -> ElementID {
            off == 0 ? ElementID(agent: olAgent, seq: olSeq) : ElementID(agent: agent, seq: seq &+ off &- 1)
        }
        @inline(__always) func canAppend(_ b: Run) -> Bool {
            agent == b.agent && seq &+ len == b.seq && b.olAgent == agent && b.olSeq == seq &+ len &- 1
                && orAgent == b.orAgent && orSeq == b.orSeq && deleted == b.deleted
        }
        /// The part from offset `off` on, with its own explicit left origin.
        func tail(from off: UInt32) -> Run {
            Run(agent: agent, seq: seq + off, len: len - off, deleted: deleted,
                olAgent: agent, olSeq: seq + off - 1, orAgent: orAgent, orSeq: orSeq)
        }
    }

    struct Chunk: Sendable {
        var runs: [Run]
        var visible: Int
        init(runs: [Run] = [], visible: Int = 0) {
            self.runs = runs
            self.runs.reserveCapacity(TextCRDT.maxRuns + 1)
            self.visible = visible
        }
    }

    static let maxRuns = 64

    public private(set) var agentNames: [String] = []
    var agentIndex: [String: Agent] = [:]
    var content: [PackedArray<UInt8>] = []    // per agent: scalar value by seq (0 where unknown/deleted)
    var chunkOf: [PackedArray<UInt16>] = []   // per agent: chunk id by seq (UInt32.max = unknown)
    var chunks: [Chunk] = [Chunk(runs: [], visible: 0)]   // by chunk id
    var order: [UInt32] = [0]         // chunk ids in document order
    var orderPos: [UInt32] = [0]      // chunk id -> index in `order`
    public internal(set) var count: Int = 0   // visible length in scalars
    var cacheOrder = 0
    var cacheVis = 0

    public init() {}

    // MARK: agents

    /// Registers (or looks up) an agent by its replica name.
    public mutating func agent(_ name: String) -> Agent {
        if let a = agentIndex[name] { return a }
        let a = Agent(agentNames.count)
        agentNames.append(name)
        agentIndex[name] = a
        content.append(PackedArray(maxIsSentinel: false))
        chunkOf.append(PackedArray(maxIsSentinel: true))
        return a
    }

    public func agentIfKnown(_ name: String) -> Agent? { agentIndex[name] }

    /// True if the element is known to this text.
    public func contains(_ id: ElementID) -> Bool {
        if id.isNone { return true }
        guard Int(id.agent) < chunkOf.count else { return false }
        return Int(id.seq) < chunkOf[Int(id.agent)].count && chunkOf[Int(id.agent)][Int(id.seq)] != UInt32.max
    }

    // MARK: storage helpers

    @inline(__always)
    mutating func store(agent a: Agent, seq: UInt32, scalars: UnsafeBufferPointer<UInt32>, chunk cid: UInt32) {
        let ai = Int(a), s = Int(seq), n = scalars.count
        if content[ai].count < s { content[ai].append(0, count: s - content[ai].count) }
        if chunkOf[ai].count < s { chunkOf[ai].append(UInt32.max, count: s - chunkOf[ai].count) }
        if content[ai].count == s {
            content[ai].append(contentsOf: scalars)
        } else {
            let end = s + n
            if content[ai].count < end { content[ai].append(0, count: end - content[ai].count) }
            for i in 0..<n { content[ai][s + i] = scalars[i] }
        }
        if chunkOf[ai].count == s {
            chunkOf[ai].append(cid, count: n)
        } else {
            let end = s + n
            if chunkOf[ai].count < end { chunkOf[ai].append(UInt32.max, count: end - chunkOf[ai].count) }
            for i in s..<end { chunkOf[ai][i] = cid }
        }
    }

    /// Splits chunk at order position `op` if it holds too many runs.
    mutating func splitIfNeeded(_ op: Int) {
        let cid = Int(order[op])
        guard chunks[cid].runs.count > TextCRDT.maxRuns else { return }
        let half = chunks[cid].runs.count / 2
        let moved = Array(chunks[cid].runs[half...])
        chunks[cid].runs.removeSubrange(half...)
        var vis = 0
        let newID = UInt32(chunks.count)
        for r in moved {
            if !r.deleted { vis += Int(r.len) }
            let ai = Int(r.agent)
            for s in Int(r.seq)..<Int(r.seq + r.len) { chunkOf[ai][s] = newID }
        }
        chunks[cid].visible -= vis
        var fresh = Chunk(runs: [], visible: vis)
        fresh.runs.reserveCapacity(TextCRDT.maxRuns + 1)
        fresh.runs.append(contentsOf: moved)
        chunks.append(fresh)
        order.insert(newID, at: op + 1)
        orderPos.append(0)
        for i in (op + 1)..<order.count { orderPos[Int(order[i])] = UInt32(i) }
        if cacheOrder > op { cacheOrder += 1 }
    }

    /// Adjusts the position cache after a visible-length change in chunk at order `op`.
    @inline(__always) mutating func noteVisibleChange(_ op: Int, _ delta: Int) {
        count += delta
        if op < cacheOrder { cacheVis += delta }
    }

    // MARK: lookup

    /// Finds the element with visible index `v` (< count): order pos, run index, offset.
    mutating func findVisible(_ v: Int) -> (op: Int, ri: Int, off: Int) {
        var op = cacheOrder, vis = cacheVis
        while v < vis { op -= 1; vis -= chunks[Int(order[op])].visible }
        while v >= vis + chunks[Int(order[op])].visible { vis += chunks[Int(order[op])].visible; op += 1 }
        cacheOrder = op; cacheVis = vis
        var rem = v - vis
        return chunks[Int(order[op])].runs.withUnsafeBufferPointer { runs in
            var ri = 0
            while true {
                let r = runs[ri]
                if !r.deleted {
                    if rem < Int(r.len) { return (op, ri, rem) }
                    rem -= Int(r.len)
                }
                ri += 1
            }
        }
    }

    /// Locates an element by id: order position, run index, offset.
    func locate(_ id: ElementID) -> (op: Int, ri: Int, off: Int) {
        let cid = Int(chunkOf[Int(id.agent)][Int(id.seq)])
        let op = Int(orderPos[cid])
        let runs = chunks[cid].runs
        for ri in runs.indices {
            let r = runs[ri]
            if r.agent == id.agent && id.seq >= r.seq && id.seq < r.seq &+ r.len {
                return (op, ri, Int(id.seq - r.seq))
            }
        }
        preconditionFailure("TextCRDT index out of sync")
    }

    /// First element at or after a raw cursor (skipping ahead to following chunks), or none.
    func element(atOrAfter op0: Int, _ ri0: Int, _ off: Int) -> ElementID {
        var op = op0, ri = ri0, o = off
        while op < order.count {
            let runs = chunks[Int(order[op])].runs
            if ri < runs.count { return ElementID(agent: runs[ri].agent, seq: runs[ri].seq + UInt32(o)) }
            op += 1; ri = 0; o = 0
        }
        return .none
    }

    // MARK: insertion core

    /// Inserts `run` at raw cursor (op, ri, off) — splitting the run there if off > 0 — merging with
    /// the previous run when possible.
    mutating func insertRun(_ run: Run, op opIn: Int, ri riIn: Int, off: Int, scalars: UnsafeBufferPointer<UInt32>) {
        var op = opIn, ri = riIn
        if op >= order.count { op = order.count - 1; ri = chunks[Int(order[op])].runs.count }
        let cid = Int(order[op])
        if off > 0 {
            let r = chunks[cid].runs[ri]
            let t = r.tail(from: UInt32(off))
            chunks[cid].runs[ri].len = UInt32(off)
            chunks[cid].runs.insert(t, at: ri + 1)
            ri += 1
        } else if ri == 0 && op > 0 {
            // Prefer appending at the end of the previous chunk (allows run merging).
            op -= 1
            ri = chunks[Int(order[op])].runs.count
        }
        let c = Int(order[op])
        store(agent: run.agent, seq: run.seq, scalars: scalars, chunk: UInt32(c))
        if ri > 0 && chunks[c].runs[ri - 1].canAppend(run) {
            chunks[c].runs[ri - 1].len += run.len
        } else {
            chunks[c].runs.insert(run, at: ri)
        }
        chunks[c].visible += Int(run.len)
        noteVisibleChange(op, Int(run.len))
        splitIfNeeded(op)
    }

    // MARK: local edits

    /// Inserts scalars at visible index `pos` as agent `a` with first seq `seq`.
    public mutating func localInsert(at pos: Int, scalars: UnsafeBufferPointer<UInt32>, agent a: Agent, seq: UInt32) -> Insertion {
        precondition(pos >= 0 && pos <= count, "insert position out of range")
        let n = UInt32(scalars.count)
        var left = ElementID.none, right = ElementID.none
        var op = 0, ri = 0, off = 0
        if pos == 0 {
            right = element(atOrAfter: 0, 0, 0)
            cacheOrder = 0; cacheVis = 0
        } else {
            let f = findVisible(pos - 1)
            let r = chunks[Int(order[f.op])].runs[f.ri]
            left = ElementID(agent: r.agent, seq: r.seq + UInt32(f.off))
            op = f.op; ri = f.ri; off = f.off + 1
            if off == Int(r.len) { ri += 1; off = 0; right = element(atOrAfter: op, ri, 0) }
            else { right = ElementID(agent: r.agent, seq: r.seq + UInt32(off)) }
        }
        let run = Run(agent: a, seq: seq, len: n, deleted: false, olAgent: left.agent, olSeq: left.seq,
                      orAgent: right.agent, orSeq: right.seq)
        insertRun(run, op: op, ri: ri, off: off, scalars: scalars)
        return Insertion(id: ElementID(agent: a, seq: seq), originLeft: left, originRight: right, count: Int(n))
    }

    public mutating func localInsert(at pos: Int, _ text: String, agent a: Agent, seq: UInt32) -> Insertion {
        let scalars = text.unicodeScalars.map { $0.value }
        return scalars.withUnsafeBufferPointer { localInsert(at: pos, scalars: $0, agent: a, seq: seq) }
    }

    /// Marks `k` elements of run (op, ri) from `off` as deleted, splitting as needed. Returns the span.
    mutating func markDeleted(op: Int, ri: Int, off: Int, k: Int) -> Span {
        let cid = Int(order[op])
        var idx = ri
        let r = chunks[cid].runs[ri]
        let span = Span(agent: r.agent, seq: r.seq + UInt32(off), count: UInt32(k))
        if r.deleted { return span }
        if off > 0 {
            let t = r.tail(from: UInt32(off))
            chunks[cid].runs[idx].len = UInt32(off)
            chunks[cid].runs.insert(t, at: idx + 1)
            idx += 1
        }
        let cur = chunks[cid].runs[idx]
        if UInt32(k) < cur.len {
            let t = cur.tail(from: UInt32(k))
            chunks[cid].runs[idx].len = UInt32(k)
            chunks[cid].runs.insert(t, at: idx + 1)
        }
        chunks[cid].runs[idx].deleted = true
        chunks[cid].visible -= k
        noteVisibleChange(op, -k)
        // Merge with neighbours when the runs are contiguous again.
        if idx + 1 < chunks[cid].runs.count && chunks[cid].runs[idx].canAppend(chunks[cid].runs[idx + 1]) {
            chunks[cid].runs[idx].len += chunks[cid].runs[idx + 1].len
            chunks[cid].runs.remove(at: idx + 1)
        }
        if idx > 0 && chunks[cid].runs[idx - 1].canAppend(chunks[cid].runs[idx]) {
            chunks[cid].runs[idx - 1].len += chunks[cid].runs[idx].len
            chunks[cid].runs.remove(at: idx)
        }
        splitIfNeeded(op)
        return span
    }

    /// Deletes `n` visible elements starting at `pos`; returns the deleted id spans.
    public mutating func localDelete(at pos: Int, count n: Int) -> [Span] {
        precondition(pos >= 0 && n >= 0 && pos + n <= count, "delete range out of range")
        var spans: [Span] = []
        var remaining = n
        while remaining > 0 {
            let f = findVisible(pos)
            let r = chunks[Int(order[f.op])].runs[f.ri]
            let k = min(Int(r.len) - f.off, remaining)
            let s = markDeleted(op: f.op, ri: f.ri, off: f.off, k: k)
            if let last = spans.last, last.agent == s.agent, last.seq + last.count == s.seq {
                spans[spans.count - 1].count += s.count
            } else {
                spans.append(s)
            }
            remaining -= k
        }
        return spans
    }

    // MARK: remote integration

    typealias RawPos = (Int, Int, Int)

    @inline(__always) static func less(_ a: RawPos, _ b: RawPos) -> Bool {
        a.0 != b.0 ? a.0 < b.0 : (a.1 != b.1 ? a.1 < b.1 : a.2 < b.2)
    }

    func rawPos(_ id: ElementID, noneIs: RawPos) -> RawPos {
        if id.isNone { return noneIs }
        let l = locate(id)
        return (l.op, l.ri, l.off)
    }

    /// Integrates a remote insert (YjsMod rules). Origins must already be integrated
    /// (causal delivery); the caller guarantees the ids are new.
    public mutating func integrateInsert(id: ElementID, originLeft: ElementID, originRight: ElementID,
                                         scalars: UnsafeBufferPointer<UInt32>) {
        let lowPos: RawPos = (-1, 0, 0), highPos: RawPos = (Int.max, 0, 0)
        let myLeftPos = rawPos(originLeft, noneIs: lowPos)
        var op = 0, ri = 0, off = 0
        if !originLeft.isNone {
            op = myLeftPos.0; ri = myLeftPos.1; off = myLeftPos.2 + 1
            if off == Int(chunks[Int(order[op])].runs[ri].len) { ri += 1; off = 0 }
        }
        while op < order.count && ri >= chunks[Int(order[op])].runs.count { op += 1; ri = 0; off = 0 }
        var myRightPos: RawPos? = nil
        var scanStart = (op, ri, off)
        var scanning = false
        let myName = agentNames[Int(id.agent)]
        while op < order.count {
            let r = chunks[Int(order[op])].runs[ri]
            let other = ElementID(agent: r.agent, seq: r.seq + UInt32(off))
            if other == originRight { break }
            let otherLeft = r.originLeft(at: UInt32(off))
            var done = false
            if otherLeft != originLeft {
                // Other's left origin is before ours: it belongs to an enclosing subtree; stop.
                if TextCRDT.less(rawPos(otherLeft, noneIs: lowPos), myLeftPos) { done = true }
            } else {
                let otherRight = r.originRight
                if otherRight == originRight {
                    if myName.utf8.lexicographicallyPrecedes(agentNames[Int(r.agent)].utf8) { done = true } else { scanning = false }
                } else {
                    if myRightPos == nil { myRightPos = rawPos(originRight, noneIs: highPos) }
                    if TextCRDT.less(rawPos(otherRight, noneIs: highPos), myRightPos!) {
                        if !scanning { scanning = true; scanStart = (op, ri, off) }
                    } else {
                        scanning = false
                    }
                }
            }
            if done { break }
            ri += 1; off = 0
            while op < order.count && ri >= chunks[Int(order[op])].runs.count { op += 1; ri = 0 }
        }
        if scanning { (op, ri, off) = scanStart }
        let run = Run(agent: id.agent, seq: id.seq, len: UInt32(scalars.count), deleted: false,
                      olAgent: originLeft.agent, olSeq: originLeft.seq, orAgent: originRight.agent, orSeq: originRight.seq)
        insertRun(run, op: op, ri: ri, off: off, scalars: scalars)
    }

    public mutating func integrateInsert(id: ElementID, originLeft: ElementID, originRight: ElementID, scalars: [UInt32]) {
        scalars.withUnsafeBufferPointer { integrateInsert(id: id, originLeft: originLeft, originRight: originRight, scalars: $0) }
    }

    /// Integrates a remote delete of id spans (idempotent).
    public mutating func integrateDelete(_ spans: [Span]) {
        for sp in spans {
            var s = sp.seq
            let end = sp.seq + sp.count
            while s < end {
                let l = locate(ElementID(agent: sp.agent, seq: s))
                let r = chunks[Int(order[l.op])].runs[l.ri]
                let k = min(Int(r.len) - l.off, Int(end - s))
                _ = markDeleted(op: l.op, ri: l.ri, off: l.off, k: k)
                s += UInt32(k)
            }
        }
    }

    // MARK: reading

    /// The visible text as Unicode scalar values.
    public var scalars: [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(count)
        for cid in order {
            for r in chunks[Int(cid)].runs where !r.deleted {
                content[Int(r.agent)].copy(Int(r.seq)..<Int(r.seq + r.len), into: &out)
            }
        }
        return out
    }

    public var string: String {
        var s = String.UnicodeScalarView()
        for v in scalars { s.append(Unicode.Scalar(v) ?? "\u{FFFD}") }
        return String(s)
    }

    /// Number of runs (items) currently stored, including tombstones.
    public var runCount: Int { order.reduce(0) { $0 + chunks[Int($1)].runs.count } }

    /// Approximate heap bytes used by the structure (capacities of its arrays).
    public var approximateHeapBytes: Int {
        var b = chunks.capacity * MemoryLayout<Chunk>.stride + order.capacity * 4 + orderPos.capacity * 4
        for c in chunks { b += c.runs.capacity * MemoryLayout<Run>.stride + 32 }
        for a in content { b += a.capacityBytes + 64 }
        for a in chunkOf { b += a.capacityBytes + 64 }
        for n in agentNames { b += n.utf8.count + 16 }
        return b
    }

    /// Visible index of an element and whether it is deleted (a deleted element reports the
    /// index the next visible element has).
    public func visibleIndex(of id: ElementID) -> (index: Int, deleted: Bool) {
        let l = locate(id)
        var v = 0
        for i in 0..<l.op { v += chunks[Int(order[i])].visible }
        let runs = chunks[Int(order[l.op])].runs
        for i in 0..<l.ri where !runs[i].deleted { v += Int(runs[i].len) }
        let r = runs[l.ri]
        return r.deleted ? (v, true) : (v + l.off, false)
    }

    /// The id of the element at visible index `pos` (< count).
    public mutating func elementID(at pos: Int) -> ElementID {
        let f = findVisible(pos)
        let r = chunks[Int(order[f.op])].runs[f.ri]
        return ElementID(agent: r.agent, seq: r.seq + UInt32(f.off))
    }

    /// Is this element deleted?
    public func isDeleted(_ id: ElementID) -> Bool {
        let l = locate(id)
        return chunks[Int(order[l.op])].runs[l.ri].deleted
    }
}
