/// Key of a field: its path in the document tree plus its kind.
public struct FieldKey: Hashable, Sendable, Comparable {
    public var path: [String]
    public var kind: FieldKind
    public init(_ path: [String], _ kind: FieldKind) { self.path = path; self.kind = kind }
    public var name: String { kind.rawValue + ":" + path.joined(separator: "/") }
    public static func < (a: FieldKey, b: FieldKey) -> Bool { a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
}

/// A state vector: for each replica, the number of its counters applied (all of `0 ..< n`).
public typealias Version = [String: UInt64]

/// A cursor or selection end attached to the text: an element id and a side. `.before` sticks to
/// the left of the element (end of text when nil), `.after` to its right (start of text when nil).
public struct TextAnchor: Hashable, Sendable {
    public enum Side: String, Sendable { case before, after }
    public var element: OpID?
    public var side: Side
    public init(element: OpID?, side: Side) { self.element = element; self.side = side }
}

public enum DocumentError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidOp(String)
    case outOfRange
    public var description: String {
        switch self {
        case .invalidOp(let m): return "invalid op: \(m)"
        case .outOfRange: return "position out of range"
        }
    }
}

/// One replica of a document: a typed tree of named fields plus causality bookkeeping.
public struct Document: Sendable {
    public enum ApplyResult: Sendable, Equatable { case applied, buffered, duplicate }

    public let replica: String
    public private(set) var lamport: UInt64 = 0
    public private(set) var version: Version = [:]
    /// Version at which the op log starts (after loading a snapshot); ops before it are gone.
    public private(set) var logBase: Version = [:]
    public private(set) var log: [Op] = []
    public private(set) var pending: [Op] = []

    var texts: [[String]: TextCRDT] = [:]
    var registers: [[String]: LWWRegister] = [:]
    var maps: [[String]: LWWMap] = [:]
    var sets: [[String]: AWSet] = [:]
    var counters: [[String]: PNCounter] = [:]
    var graphs: [[String]: Graph] = [:]

    public init(replica: String) {
        precondition(!replica.isEmpty, "replica id must not be empty")
        self.replica = replica
    }

    // MARK: reading

    public func text(_ path: [String]) -> String { texts[path]?.string ?? "" }
    public func textLength(_ path: [String]) -> Int { texts[path]?.count ?? 0 }
    public func register(_ path: [String]) -> Value? { registers[path]?.value }
    public func map(_ path: [String]) -> [String: Value] { maps[path]?.visible ?? [:] }
    public func set(_ path: [String]) -> [Value] { sets[path]?.elements ?? [] }
    public func setContains(_ path: [String], _ v: Value) -> Bool { sets[path]?.contains(v) ?? false }
    public func counter(_ path: [String]) -> Int64 { counters[path]?.value ?? 0 }
    public func graph(_ path: [String]) -> Graph { graphs[path] ?? Graph() }

    public var fieldKeys: [FieldKey] {
        var k: [FieldKey] = []
        k += texts.keys.map { FieldKey($0, .text) }
        k += registers.keys.map { FieldKey($0, .register) }
        k += maps.keys.map { FieldKey($0, .map) }
        k += sets.keys.map { FieldKey($0, .set) }
        k += counters.keys.map { FieldKey($0, .counter) }
        k += graphs.keys.map { FieldKey($0, .graph) }
        return k.sorted()
    }

    /// Canonical, replica-independent state (used for convergence checks and test vectors).
    public var state: Value {
        var f: [String: Value] = [:]
        for (p, t) in texts { f[FieldKey(p, .text).name] = .string(t.string) }
        for (p, r) in registers { f[FieldKey(p, .register).name] = r.value ?? .null }
        for (p, m) in maps { f[FieldKey(p, .map).name] = .object(m.visible) }
        for (p, s) in sets { f[FieldKey(p, .set).name] = .array(s.elements) }
        for (p, c) in counters { f[FieldKey(p, .counter).name] = .int(c.value) }
        for (p, g) in graphs { f[FieldKey(p, .graph).name] = g.state }
        return .object(f)
    }

    public var versionValue: Value { .object(version.mapValues { .int(Int64($0)) }) }

    // MARK: causality

    func has(_ id: OpID) -> Bool { (version[id.replica] ?? 0) > id.counter }

    func ready(_ op: Op) -> Bool {
        guard (version[op.id.replica] ?? 0) == op.id.counter else { return false }
        return op.deps.allSatisfy { has($0) }
    }

    /// Ops applied after `since` (in application order), or nil if the log was compacted past it.
    public func ops(since: Version) -> [Op]? {
        for (r, base) in logBase where (since[r] ?? 0) < base { return nil }
        return log.filter { $0.id.counter + $0.span > (since[$0.id.replica] ?? 0) }
    }

    /// Drops the op log (after the state has been snapshotted). `ops(since:)` then answers only
    /// for versions at or after the current one; older peers need the snapshot.
    public mutating func compactLog() {
        log = []
        logBase = version
    }

    /// Every applied op made by `actor` (that is still in the log).
    public func changes(by actor: Actor) -> [Op] { log.filter { $0.actor == actor } }

    // MARK: applying

    /// Applies a remote (or replayed) op. Ops whose dependencies are missing are buffered and
    /// applied once they arrive; duplicates are ignored.
    @discardableResult
    public mutating func apply(_ op: Op) throws -> ApplyResult {
        let have = version[op.id.replica] ?? 0
        if op.id.counter + op.span <= have { return .duplicate }
        if op.id.counter < have { throw DocumentError.invalidOp("op \(op.id) overlaps applied counters") }
        if !ready(op) {
            if !pending.contains(where: { $0.id == op.id }) { pending.append(op) }
            return .buffered
        }
        try integrate(op)
        try drainPending()
        return .applied
    }

    mutating func drainPending() throws {
        var progress = true
        while progress && !pending.isEmpty {
            progress = false
            var i = 0
            while i < pending.count {
                let p = pending[i]
                if p.id.counter + p.span <= (version[p.id.replica] ?? 0) {
                    pending.remove(at: i); progress = true; continue
                }
                if ready(p) {
                    pending.remove(at: i)
                    try integrate(p)
                    progress = true
                } else {
                    i += 1
                }
            }
        }
    }

    mutating func integrate(_ op: Op) throws {
        guard op.span > 0 else { throw DocumentError.invalidOp("empty op") }
        let stamp = op.stamp
        switch op.body {
        case .textInsert(let l, let r, let s):
            var t = texts[op.path] ?? TextCRDT()
            let a = t.agent(op.id.replica)
            guard op.id.counter + op.span < UInt64(UInt32.max) else { throw DocumentError.invalidOp("counter too large") }
            let left = try elementID(l, in: &t), right = try elementID(r, in: &t)
            t.integrateInsert(id: .init(agent: a, seq: UInt32(op.id.counter)), originLeft: left, originRight: right,
                              scalars: s.unicodeScalars.map { $0.value })
            texts[op.path] = t
        case .textDelete(let spans):
            guard var t = texts[op.path] else { throw DocumentError.invalidOp("delete in unknown text") }
            var out: [TextCRDT.Span] = []
            for sp in spans {
                guard let a = t.agentIfKnown(sp.replica), sp.counter + sp.count < UInt64(UInt32.max),
                      t.contains(.init(agent: a, seq: UInt32(sp.counter))), t.contains(.init(agent: a, seq: UInt32(sp.counter + sp.count - 1)))
                else { throw DocumentError.invalidOp("delete of unknown text elements") }
                for c in sp.counter..<(sp.counter + sp.count) where !t.contains(.init(agent: a, seq: UInt32(c))) {
                    throw DocumentError.invalidOp("delete of unknown text elements")
                }
                out.append(.init(agent: a, seq: UInt32(sp.counter), count: UInt32(sp.count)))
            }
            t.integrateDelete(out)
            texts[op.path] = t
        case .registerSet(let v): registers[op.path, default: LWWRegister()].set(v, at: stamp)
        case .mapSet(let k, let v): maps[op.path, default: LWWMap()].set(k, v, at: stamp)
        case .mapDelete(let k): maps[op.path, default: LWWMap()].set(k, nil, at: stamp)
        case .setAdd(let v): sets[op.path, default: AWSet()].add(v, tag: op.id)
        case .setRemove(let v, let obs): sets[op.path, default: AWSet()].remove(v, observed: obs)
        case .counterAdd(let d): counters[op.path, default: PNCounter()].add(d, replica: op.id.replica)
        case .nodeAdd, .nodeRemove, .nodeSet, .edgeAdd, .edgeRemove, .edgeSet:
            graphs[op.path, default: Graph()].apply(op.body, id: op.id, stamp: stamp)
        }
        version[op.id.replica] = op.id.counter + op.span
        lamport = max(lamport, op.lamport)
        log.append(op)
    }

    func elementID(_ id: OpID?, in t: inout TextCRDT) throws -> TextCRDT.ElementID {
        guard let id else { return .none }
        guard id.counter < UInt64(UInt32.max) else { throw DocumentError.invalidOp("bad element id") }
        let e = TextCRDT.ElementID(agent: t.agent(id.replica), seq: UInt32(id.counter))
        guard t.contains(e) else { throw DocumentError.invalidOp("unknown text element \(id)") }
        return e
    }

    // MARK: local ops

    mutating func makeLocal(_ path: [String], _ body: OpBody, actor: Actor, deps: [OpID]) -> Op {
        let id = OpID(replica, version[replica] ?? 0)
        let op = Op(id: id, lamport: lamport + 1, actor: actor, deps: deps, path: path, body: body)
        do { try integrate(op) } catch { preconditionFailure("local op failed to integrate: \(error)") }
        return op
    }

    /// Inserts `string` at scalar index `index` of the text field at `path`.
    public mutating func insertText(_ path: [String], at index: Int, _ string: String, actor: Actor) throws -> Op? {
        guard index >= 0 && index <= textLength(path) else { throw DocumentError.outOfRange }
        if string.isEmpty { return nil }
        var t = texts[path] ?? TextCRDT()
        let a = t.agent(replica)
        var left: OpID? = nil, right: OpID? = nil
        if index > 0 { left = opID(t.elementID(at: index - 1), t) }
        // Right origin: the raw element right after the left one (tombstones included).
        right = t.rightNeighbour(ofVisible: index).map { opID($0, t) }
        _ = a
        texts[path] = t
        let deps = [left, right].compactMap { $0 }
        return makeLocal(path, .textInsert(left: left, right: right, text: string), actor: actor, deps: deps)
    }

    /// Deletes `count` scalars at `index`.
    public mutating func deleteText(_ path: [String], at index: Int, count: Int, actor: Actor) throws -> Op? {
        guard index >= 0 && count >= 0 && index + count <= textLength(path) else { throw DocumentError.outOfRange }
        if count == 0 { return nil }
        var t = texts[path]!
        let spans = t.spans(ofVisible: index, count: count).map { IDSpan(t.agentNames[Int($0.agent)], UInt64($0.seq), UInt64($0.count)) }
        texts[path] = t
        let deps = spans.map { OpID($0.replica, $0.counter + $0.count - 1) }
        return makeLocal(path, .textDelete(spans: spans), actor: actor, deps: deps)
    }

    func opID(_ e: TextCRDT.ElementID, _ t: TextCRDT) -> OpID { OpID(t.agentNames[Int(e.agent)], UInt64(e.seq)) }

    public mutating func setRegister(_ path: [String], _ v: Value, actor: Actor) -> Op { makeLocal(path, .registerSet(v), actor: actor, deps: []) }
    public mutating func setMap(_ path: [String], _ key: String, _ v: Value, actor: Actor) -> Op { makeLocal(path, .mapSet(key: key, value: v), actor: actor, deps: []) }
    public mutating func deleteMap(_ path: [String], _ key: String, actor: Actor) -> Op { makeLocal(path, .mapDelete(key: key), actor: actor, deps: []) }
    public mutating func addToSet(_ path: [String], _ v: Value, actor: Actor) -> Op { makeLocal(path, .setAdd(v), actor: actor, deps: []) }
    public mutating func removeFromSet(_ path: [String], _ v: Value, actor: Actor) -> Op {
        let obs = sets[path]?.observedTags(v) ?? []
        return makeLocal(path, .setRemove(v, observed: obs), actor: actor, deps: obs)
    }
    public mutating func addToCounter(_ path: [String], _ d: Int64, actor: Actor) -> Op { makeLocal(path, .counterAdd(d), actor: actor, deps: []) }

    public mutating func addNode(_ path: [String], id: String, type: String, label: String, actor: Actor) -> Op {
        makeLocal(path, .nodeAdd(node: id, type: type, label: label), actor: actor, deps: [])
    }
    public mutating func removeNode(_ path: [String], id: String, actor: Actor) -> Op {
        let obs = (graphs[path]?.nodes[id]?.tags ?? []).sorted()
        return makeLocal(path, .nodeRemove(node: id, observed: obs), actor: actor, deps: obs)
    }
    public mutating func setNodeProperty(_ path: [String], id: String, key: String, _ v: Value?, actor: Actor) -> Op {
        makeLocal(path, .nodeSet(node: id, key: key, value: v), actor: actor, deps: [])
    }
    public mutating func addEdge(_ path: [String], id: String, source: String, target: String, type: String, actor: Actor) -> Op {
        makeLocal(path, .edgeAdd(edge: id, source: source, target: target, type: type), actor: actor, deps: [])
    }
    public mutating func removeEdge(_ path: [String], id: String, actor: Actor) -> Op {
        let obs = (graphs[path]?.edges[id]?.tags ?? []).sorted()
        return makeLocal(path, .edgeRemove(edge: id, observed: obs), actor: actor, deps: obs)
    }
    public mutating func setEdgeProperty(_ path: [String], id: String, key: String, _ v: Value?, actor: Actor) -> Op {
        makeLocal(path, .edgeSet(edge: id, key: key, value: v), actor: actor, deps: [])
    }

    // MARK: anchors

    /// An anchor at scalar index `index`. `.before` attaches to the element at `index`
    /// (moves with it), `.after` to the element at `index - 1`.
    public mutating func anchor(_ path: [String], at index: Int, side: TextAnchor.Side) throws -> TextAnchor {
        guard index >= 0 && index <= textLength(path) else { throw DocumentError.outOfRange }
        guard var t = texts[path] else { return TextAnchor(element: nil, side: side) }
        defer { texts[path] = t }
        switch side {
        case .before: return TextAnchor(element: index < t.count ? opID(t.elementID(at: index), t) : nil, side: .before)
        case .after: return TextAnchor(element: index > 0 ? opID(t.elementID(at: index - 1), t) : nil, side: .after)
        }
    }

    /// Current scalar index of an anchor.
    public func position(_ path: [String], of anchor: TextAnchor) -> Int {
        guard let t = texts[path] else { return 0 }
        guard let e = anchor.element, let a = t.agentIfKnown(e.replica), e.counter < UInt64(UInt32.max),
              t.contains(.init(agent: a, seq: UInt32(e.counter)))
        else { return anchor.side == .before ? t.count : 0 }
        let (i, deleted) = t.visibleIndex(of: .init(agent: a, seq: UInt32(e.counter)))
        return anchor.side == .after && !deleted ? i + 1 : i
    }

    // MARK: snapshots

    static let magic: [UInt8] = Array("LTD1".utf8)

    /// Binary snapshot of the whole document (state + version; not the op log or pending ops).
    public func snapshot() -> [UInt8] {
        var w = ByteWriter()
        w.raw(Document.magic)
        w.varint(lamport)
        w.varint(version.count)
        for r in version.keys.sorted() { w.string(r); w.varint(version[r]!) }
        func path(_ p: [String]) { w.varint(p.count); for s in p { w.string(s) } }
        func reg(_ r: LWWRegister) {
            if let s = r.stamp { w.u8(1); w.varint(s.lamport); w.string(s.replica); Op.writeOptValue(r.value, &w) } else { w.u8(0) }
        }
        func lmap(_ m: LWWMap) { w.varint(m.entries.count); for k in m.entries.keys.sorted() { w.string(k); reg(m.entries[k]!) } }
        func tags(_ t: Set<OpID>) { Op.writeIDs(t.sorted(), &w) }
        w.varint(texts.count)
        for p in texts.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) { path(p); texts[p]!.encodeSnapshot(into: &w) }
        w.varint(registers.count)
        for p in registers.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) { path(p); reg(registers[p]!) }
        w.varint(maps.count)
        for p in maps.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) { path(p); lmap(maps[p]!) }
        w.varint(sets.count)
        for p in sets.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            path(p)
            let s = sets[p]!
            w.varint(s.tags.count)
            for v in s.elements { v.encode(into: &w); tags(s.tags[v]!) }
        }
        w.varint(counters.count)
        for p in counters.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            path(p)
            let c = counters[p]!
            w.varint(c.p.count); for k in c.p.keys.sorted() { w.string(k); w.varint(c.p[k]!) }
            w.varint(c.n.count); for k in c.n.keys.sorted() { w.string(k); w.varint(c.n[k]!) }
        }
        w.varint(graphs.count)
        for p in graphs.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            path(p)
            let g = graphs[p]!
            w.varint(g.nodes.count)
            for id in g.nodes.keys.sorted() {
                let n = g.nodes[id]!
                w.string(id); tags(n.tags); reg(n.type); reg(n.label); lmap(n.properties)
            }
            w.varint(g.edges.count)
            for id in g.edges.keys.sorted() {
                let e = g.edges[id]!
                w.string(id); tags(e.tags); reg(e.source); reg(e.target); reg(e.type); lmap(e.properties)
            }
        }
        return w.bytes
    }

    /// Loads a snapshot as replica `replica`. The op log starts empty at the snapshot's version.
    public init(snapshot bytes: [UInt8], replica: String) throws {
        self.init(replica: replica)
        var r = ByteReader(bytes)
        guard Array(try r.rawBytes(4)) == Document.magic else { throw DecodeError("not a document snapshot") }
        lamport = try r.varint()
        for _ in 0..<(try r.int()) { version[try r.string()] = try r.varint() }
        func path() throws -> [String] { var p: [String] = []; for _ in 0..<(try r.int()) { p.append(try r.string()) }; return p }
        func reg() throws -> LWWRegister {
            switch try r.u8() {
            case 0: return LWWRegister()
            case 1: let s = Stamp(try r.varint(), try r.string()); return LWWRegister(value: try Op.readOptValue(&r), stamp: s)
            default: throw DecodeError("bad register")
            }
        }
        func lmap() throws -> LWWMap {
            var m = LWWMap()
            for _ in 0..<(try r.int()) {
                let k = try r.string(); let g = try reg()
                if let s = g.stamp { m.set(k, g.value, at: s) }
            }
            return m
        }
        for _ in 0..<(try r.int()) { let p = try path(); texts[p] = try TextCRDT.decodeSnapshot(from: &r) }
        for _ in 0..<(try r.int()) { let p = try path(); registers[p] = try reg() }
        for _ in 0..<(try r.int()) { let p = try path(); maps[p] = try lmap() }
        for _ in 0..<(try r.int()) {
            let p = try path()
            var s = AWSet()
            for _ in 0..<(try r.int()) { let v = try Value.decode(from: &r); for t in try Op.readIDs(&r) { s.add(v, tag: t) } }
            sets[p] = s
        }
        for _ in 0..<(try r.int()) {
            let p = try path()
            var pp: [String: UInt64] = [:], nn: [String: UInt64] = [:]
            for _ in 0..<(try r.int()) { pp[try r.string()] = try r.varint() }
            for _ in 0..<(try r.int()) { nn[try r.string()] = try r.varint() }
            var c = PNCounter(); c.load(p: pp, n: nn)
            counters[p] = c
        }
        for _ in 0..<(try r.int()) {
            let p = try path()
            var g = Graph()
            for _ in 0..<(try r.int()) {
                let id = try r.string()
                var n = Graph.Node()
                n.tags = Set(try Op.readIDs(&r)); n.type = try reg(); n.label = try reg(); n.properties = try lmap()
                g.nodes[id] = n
            }
            for _ in 0..<(try r.int()) {
                let id = try r.string()
                var e = Graph.Edge()
                e.tags = Set(try Op.readIDs(&r)); e.source = try reg(); e.target = try reg(); e.type = try reg(); e.properties = try lmap()
                g.edges[id] = e
            }
            graphs[p] = g
        }
        guard r.atEnd else { throw DecodeError("trailing bytes in snapshot") }
        logBase = version
    }
}

extension TextCRDT {
    /// The raw element right after the visible element `index - 1` (or the first raw element).
    mutating func rightNeighbour(ofVisible index: Int) -> ElementID? {
        var e: ElementID
        if index == 0 {
            e = element(atOrAfter: 0, 0, 0)
        } else {
            let f = findVisible(index - 1)
            let r = chunks[Int(order[f.op])].runs[f.ri]
            if f.off + 1 < Int(r.len) { e = ElementID(agent: r.agent, seq: r.seq + UInt32(f.off + 1)) }
            else { e = element(atOrAfter: f.op, f.ri + 1, 0) }
        }
        return e.isNone ? nil : e
    }

    /// Id spans of `count` visible elements from `index` (without deleting them).
    mutating func spans(ofVisible index: Int, count n: Int) -> [Span] {
        var out: [Span] = []
        var i = index
        let end = index + n
        while i < end {
            let f = findVisible(i)
            let r = chunks[Int(order[f.op])].runs[f.ri]
            let k = min(Int(r.len) - f.off, end - i)
            let s = Span(agent: r.agent, seq: r.seq + UInt32(f.off), count: UInt32(k))
            if let last = out.last, last.agent == s.agent, last.seq + last.count == s.seq { out[out.count - 1].count += s.count } else { out.append(s) }
            i += k
        }
        return out
    }
}

extension Document {
    /// Ids of the visible elements of a text field, in order (for tests and tooling).
    public func textElementIDs(_ path: [String]) -> [OpID] {
        guard let t = texts[path] else { return [] }
        var out: [OpID] = []
        for cid in t.order {
            for r in t.chunks[Int(cid)].runs where !r.deleted {
                for k in 0..<r.len { out.append(OpID(t.agentNames[Int(r.agent)], UInt64(r.seq + k))) }
            }
        }
        return out
    }
}
