/// Identifies an op (and, for text, each inserted character): the replica that made it and a
/// per-document, per-replica counter. A text insert of n characters occupies counters
/// `counter ..< counter + n`; every other op occupies one counter.
public struct OpID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var replica: String
    public var counter: UInt64
    public init(_ replica: String, _ counter: UInt64) { self.replica = replica; self.counter = counter }
    public static func < (a: OpID, b: OpID) -> Bool {
        a.counter != b.counter ? a.counter < b.counter : a.replica.utf8.lexicographicallyPrecedes(b.replica.utf8)
    }
    public var description: String { "\(replica)@\(counter)" }
}

/// Total order for last-writer-wins: Lamport timestamp, then replica id (UTF-8 byte order).
public struct Stamp: Hashable, Sendable, Comparable {
    public var lamport: UInt64
    public var replica: String
    public init(_ lamport: UInt64, _ replica: String) { self.lamport = lamport; self.replica = replica }
    public static func < (a: Stamp, b: Stamp) -> Bool {
        a.lamport != b.lamport ? a.lamport < b.lamport : a.replica.utf8.lexicographicallyPrecedes(b.replica.utf8)
    }
}

/// Who made a change.
public enum Actor: Hashable, Sendable {
    case user(String)
    case bot(String)
    case run(run: String, node: String)
}

/// The kind of a document field. A field is identified by its path *and* its kind.
public enum FieldKind: String, Sendable, Hashable, CaseIterable {
    case text, register, map, set, counter, graph
}

/// A text element reference in an op (nil = document start / end).
public typealias ElementRef = OpID?

public struct IDSpan: Hashable, Sendable {
    public var replica: String
    public var counter: UInt64
    public var count: UInt64
    public init(_ replica: String, _ counter: UInt64, _ count: UInt64) { self.replica = replica; self.counter = counter; self.count = count }
}

public enum OpBody: Hashable, Sendable {
    case textInsert(left: OpID?, right: OpID?, text: String)
    case textDelete(spans: [IDSpan])
    case registerSet(Value)
    case mapSet(key: String, value: Value)
    case mapDelete(key: String)
    case setAdd(Value)
    case setRemove(Value, observed: [OpID])
    case counterAdd(Int64)
    case nodeAdd(node: String, type: String, label: String)
    case nodeRemove(node: String, observed: [OpID])
    /// `nil` removes the property.
    case nodeSet(node: String, key: String, value: Value?)
    case edgeAdd(edge: String, source: String, target: String, type: String)
    case edgeRemove(edge: String, observed: [OpID])
    case edgeSet(edge: String, key: String, value: Value?)

    public var kind: FieldKind {
        switch self {
        case .textInsert, .textDelete: return .text
        case .registerSet: return .register
        case .mapSet, .mapDelete: return .map
        case .setAdd, .setRemove: return .set
        case .counterAdd: return .counter
        case .nodeAdd, .nodeRemove, .nodeSet, .edgeAdd, .edgeRemove, .edgeSet: return .graph
        }
    }

    public var typeName: String {
        switch self {
        case .textInsert: return "text.insert"
        case .textDelete: return "text.delete"
        case .registerSet: return "register.set"
        case .mapSet: return "map.set"
        case .mapDelete: return "map.delete"
        case .setAdd: return "set.add"
        case .setRemove: return "set.remove"
        case .counterAdd: return "counter.add"
        case .nodeAdd: return "graph.node.add"
        case .nodeRemove: return "graph.node.remove"
        case .nodeSet: return "graph.node.set"
        case .edgeAdd: return "graph.edge.add"
        case .edgeRemove: return "graph.edge.remove"
        case .edgeSet: return "graph.edge.set"
        }
    }
}

/// One operation. Self-describing: it names its field (path + kind through the body type),
/// its id, Lamport timestamp, actor and explicit dependencies.
public struct Op: Hashable, Sendable {
    public var id: OpID
    public var lamport: UInt64
    public var actor: Actor
    /// Ops that must be applied before this one (besides the same replica's previous op,
    /// which is implied by the counter).
    public var deps: [OpID]
    public var path: [String]
    public var body: OpBody

    public init(id: OpID, lamport: UInt64, actor: Actor, deps: [OpID], path: [String], body: OpBody) {
        self.id = id; self.lamport = lamport; self.actor = actor; self.deps = deps; self.path = path; self.body = body
    }

    /// Number of counters this op occupies.
    public var span: UInt64 {
        if case .textInsert(_, _, let t) = body { return UInt64(t.unicodeScalars.count) }
        return 1
    }

    public var stamp: Stamp { Stamp(lamport, id.replica) }
}

// MARK: - JSON form

extension Op {
    static func idJSON(_ id: OpID?) -> Value { id.map { .array([.string($0.replica), .int(Int64($0.counter))]) } ?? .null }

    static func parseID(_ v: Value?, _ what: String) throws -> OpID {
        guard case .array(let a)? = v, a.count == 2, case .string(let r) = a[0], case .int(let c) = a[1], c >= 0 else {
            throw DecodeError("\(what): expected [replica, counter]")
        }
        return OpID(r, UInt64(c))
    }
    static func parseOptID(_ v: Value?, _ what: String) throws -> OpID? {
        if v == nil || v == .null { return nil }
        return try parseID(v, what)
    }
    static func str(_ v: Value?, _ what: String) throws -> String {
        guard case .string(let s)? = v else { throw DecodeError("\(what): expected string") }
        return s
    }
    static func ids(_ v: Value?, _ what: String) throws -> [OpID] {
        guard case .array(let a)? = v else { throw DecodeError("\(what): expected array") }
        return try a.map { try parseID($0, what) }
    }

    public var jsonValue: Value {
        var o: [String: Value] = [
            "id": Op.idJSON(id), "lamport": .int(Int64(lamport)), "deps": .array(deps.map { Op.idJSON($0) }),
            "path": .array(path.map { .string($0) }), "type": .string(body.typeName),
        ]
        switch actor {
        case .user(let u): o["actor"] = .object(["user": .string(u)])
        case .bot(let b): o["actor"] = .object(["bot": .string(b)])
        case .run(let r, let n): o["actor"] = .object(["run": .string(r), "node": .string(n)])
        }
        switch body {
        case .textInsert(let l, let r, let t): o["left"] = Op.idJSON(l); o["right"] = Op.idJSON(r); o["text"] = .string(t)
        case .textDelete(let spans):
            o["spans"] = .array(spans.map { .array([.string($0.replica), .int(Int64($0.counter)), .int(Int64($0.count))]) })
        case .registerSet(let v): o["value"] = v
        case .mapSet(let k, let v): o["key"] = .string(k); o["value"] = v
        case .mapDelete(let k): o["key"] = .string(k)
        case .setAdd(let v): o["value"] = v
        case .setRemove(let v, let obs): o["value"] = v; o["observed"] = .array(obs.map { Op.idJSON($0) })
        case .counterAdd(let d): o["delta"] = .int(d)
        case .nodeAdd(let n, let t, let l): o["node"] = .string(n); o["nodeType"] = .string(t); o["label"] = .string(l)
        case .nodeRemove(let n, let obs): o["node"] = .string(n); o["observed"] = .array(obs.map { Op.idJSON($0) })
        case .nodeSet(let n, let k, let v): o["node"] = .string(n); o["key"] = .string(k); o["value"] = v ?? .null
        case .edgeAdd(let e, let s, let t, let ty):
            o["edge"] = .string(e); o["source"] = .string(s); o["target"] = .string(t); o["edgeType"] = .string(ty)
        case .edgeRemove(let e, let obs): o["edge"] = .string(e); o["observed"] = .array(obs.map { Op.idJSON($0) })
        case .edgeSet(let e, let k, let v): o["edge"] = .string(e); o["key"] = .string(k); o["value"] = v ?? .null
        }
        return .object(o)
    }

    public var json: String { jsonValue.json }

    public init(json text: String) throws { try self.init(jsonValue: try Value.parseJSON(text)) }

    public init(jsonValue v: Value) throws {
        guard case .object(let o) = v else { throw DecodeError("op: expected object") }
        let id = try Op.parseID(o["id"], "id")
        guard case .int(let lam)? = o["lamport"], lam >= 0 else { throw DecodeError("lamport: expected non-negative integer") }
        let deps = try Op.ids(o["deps"] ?? .array([]), "deps")
        guard case .array(let p)? = o["path"] else { throw DecodeError("path: expected array") }
        let path = try p.map { try Op.str($0, "path") }
        guard case .object(let a)? = o["actor"] else { throw DecodeError("actor: expected object") }
        let actor: Actor
        if let u = a["user"] { actor = .user(try Op.str(u, "actor.user")) }
        else if let b = a["bot"] { actor = .bot(try Op.str(b, "actor.bot")) }
        else if let r = a["run"] { actor = .run(run: try Op.str(r, "actor.run"), node: try Op.str(a["node"], "actor.node")) }
        else { throw DecodeError("actor: expected user, bot or run") }
        let type = try Op.str(o["type"], "type")
        func value() throws -> Value { guard let v = o["value"] else { throw DecodeError("value missing") }; return v }
        func optValue() -> Value? { let v = o["value"] ?? .null; return v == .null ? nil : v }
        let body: OpBody
        switch type {
        case "text.insert":
            body = .textInsert(left: try Op.parseOptID(o["left"], "left"), right: try Op.parseOptID(o["right"], "right"), text: try Op.str(o["text"], "text"))
        case "text.delete":
            guard case .array(let sp)? = o["spans"] else { throw DecodeError("spans: expected array") }
            body = .textDelete(spans: try sp.map {
                guard case .array(let t) = $0, t.count == 3, case .string(let r) = t[0], case .int(let c) = t[1], case .int(let n) = t[2], c >= 0, n > 0 else {
                    throw DecodeError("spans: expected [replica, counter, count]")
                }
                return IDSpan(r, UInt64(c), UInt64(n))
            })
        case "register.set": body = .registerSet(try value())
        case "map.set": body = .mapSet(key: try Op.str(o["key"], "key"), value: try value())
        case "map.delete": body = .mapDelete(key: try Op.str(o["key"], "key"))
        case "set.add": body = .setAdd(try value())
        case "set.remove": body = .setRemove(try value(), observed: try Op.ids(o["observed"], "observed"))
        case "counter.add":
            guard case .int(let d)? = o["delta"] else { throw DecodeError("delta: expected integer") }
            body = .counterAdd(d)
        case "graph.node.add":
            body = .nodeAdd(node: try Op.str(o["node"], "node"), type: try Op.str(o["nodeType"], "nodeType"), label: try Op.str(o["label"], "label"))
        case "graph.node.remove": body = .nodeRemove(node: try Op.str(o["node"], "node"), observed: try Op.ids(o["observed"], "observed"))
        case "graph.node.set": body = .nodeSet(node: try Op.str(o["node"], "node"), key: try Op.str(o["key"], "key"), value: optValue())
        case "graph.edge.add":
            body = .edgeAdd(edge: try Op.str(o["edge"], "edge"), source: try Op.str(o["source"], "source"),
                            target: try Op.str(o["target"], "target"), type: try Op.str(o["edgeType"], "edgeType"))
        case "graph.edge.remove": body = .edgeRemove(edge: try Op.str(o["edge"], "edge"), observed: try Op.ids(o["observed"], "observed"))
        case "graph.edge.set": body = .edgeSet(edge: try Op.str(o["edge"], "edge"), key: try Op.str(o["key"], "key"), value: optValue())
        default: throw DecodeError("unknown op type \(type)")
        }
        self.init(id: id, lamport: UInt64(lam), actor: actor, deps: deps, path: path, body: body)
    }
}

// MARK: - Binary form

extension Op {
    static let typeCodes: [String: UInt8] = [
        "text.insert": 1, "text.delete": 2, "register.set": 3, "map.set": 4, "map.delete": 5, "set.add": 6, "set.remove": 7,
        "counter.add": 8, "graph.node.add": 9, "graph.node.remove": 10, "graph.node.set": 11, "graph.edge.add": 12,
        "graph.edge.remove": 13, "graph.edge.set": 14,
    ]

    static func writeID(_ id: OpID, _ w: inout ByteWriter) { w.string(id.replica); w.varint(id.counter) }
    static func writeOptID(_ id: OpID?, _ w: inout ByteWriter) {
        if let id { w.u8(1); writeID(id, &w) } else { w.u8(0) }
    }
    static func readID(_ r: inout ByteReader) throws -> OpID { OpID(try r.string(), try r.varint()) }
    static func readOptID(_ r: inout ByteReader) throws -> OpID? {
        switch try r.u8() { case 0: return nil; case 1: return try readID(&r); default: throw DecodeError("bad optional id") }
    }
    static func writeIDs(_ ids: [OpID], _ w: inout ByteWriter) { w.varint(ids.count); for i in ids { writeID(i, &w) } }
    static func readIDs(_ r: inout ByteReader) throws -> [OpID] {
        let n = try r.int(); var a: [OpID] = []
        for _ in 0..<n { a.append(try readID(&r)) }
        return a
    }
    static func writeOptValue(_ v: Value?, _ w: inout ByteWriter) { if let v { w.u8(1); v.encode(into: &w) } else { w.u8(0) } }
    static func readOptValue(_ r: inout ByteReader) throws -> Value? { try r.u8() == 0 ? nil : try Value.decode(from: &r) }

    public func encode(into w: inout ByteWriter) {
        w.u8(Op.typeCodes[body.typeName]!)
        Op.writeID(id, &w)
        w.varint(lamport)
        switch actor {
        case .user(let u): w.u8(0); w.string(u)
        case .bot(let b): w.u8(1); w.string(b)
        case .run(let run, let node): w.u8(2); w.string(run); w.string(node)
        }
        Op.writeIDs(deps, &w)
        w.varint(path.count); for p in path { w.string(p) }
        switch body {
        case .textInsert(let l, let r, let t): Op.writeOptID(l, &w); Op.writeOptID(r, &w); w.string(t)
        case .textDelete(let spans):
            w.varint(spans.count)
            for s in spans { w.string(s.replica); w.varint(s.counter); w.varint(s.count) }
        case .registerSet(let v): v.encode(into: &w)
        case .mapSet(let k, let v): w.string(k); v.encode(into: &w)
        case .mapDelete(let k): w.string(k)
        case .setAdd(let v): v.encode(into: &w)
        case .setRemove(let v, let obs): v.encode(into: &w); Op.writeIDs(obs, &w)
        case .counterAdd(let d): w.zigzag(d)
        case .nodeAdd(let n, let t, let l): w.string(n); w.string(t); w.string(l)
        case .nodeRemove(let n, let obs): w.string(n); Op.writeIDs(obs, &w)
        case .nodeSet(let n, let k, let v): w.string(n); w.string(k); Op.writeOptValue(v, &w)
        case .edgeAdd(let e, let s, let t, let ty): w.string(e); w.string(s); w.string(t); w.string(ty)
        case .edgeRemove(let e, let obs): w.string(e); Op.writeIDs(obs, &w)
        case .edgeSet(let e, let k, let v): w.string(e); w.string(k); Op.writeOptValue(v, &w)
        }
    }

    public var binary: [UInt8] { var w = ByteWriter(); encode(into: &w); return w.bytes }

    public init(binary: [UInt8]) throws {
        var r = ByteReader(binary)
        try self.init(from: &r)
        guard r.atEnd else { throw DecodeError("trailing bytes after op") }
    }

    public init(from r: inout ByteReader) throws {
        let code = try r.u8()
        let id = try Op.readID(&r)
        let lamport = try r.varint()
        let actor: Actor
        switch try r.u8() {
        case 0: actor = .user(try r.string())
        case 1: actor = .bot(try r.string())
        case 2: actor = .run(run: try r.string(), node: try r.string())
        default: throw DecodeError("bad actor tag")
        }
        let deps = try Op.readIDs(&r)
        let np = try r.int()
        var path: [String] = []
        for _ in 0..<np { path.append(try r.string()) }
        let body: OpBody
        switch code {
        case 1: body = .textInsert(left: try Op.readOptID(&r), right: try Op.readOptID(&r), text: try r.string())
        case 2:
            let n = try r.int(); var spans: [IDSpan] = []
            for _ in 0..<n { spans.append(IDSpan(try r.string(), try r.varint(), try r.varint())) }
            body = .textDelete(spans: spans)
        case 3: body = .registerSet(try Value.decode(from: &r))
        case 4: body = .mapSet(key: try r.string(), value: try Value.decode(from: &r))
        case 5: body = .mapDelete(key: try r.string())
        case 6: body = .setAdd(try Value.decode(from: &r))
        case 7: body = .setRemove(try Value.decode(from: &r), observed: try Op.readIDs(&r))
        case 8: body = .counterAdd(try r.zigzag())
        case 9: body = .nodeAdd(node: try r.string(), type: try r.string(), label: try r.string())
        case 10: body = .nodeRemove(node: try r.string(), observed: try Op.readIDs(&r))
        case 11: body = .nodeSet(node: try r.string(), key: try r.string(), value: try Op.readOptValue(&r))
        case 12: body = .edgeAdd(edge: try r.string(), source: try r.string(), target: try r.string(), type: try r.string())
        case 13: body = .edgeRemove(edge: try r.string(), observed: try Op.readIDs(&r))
        case 14: body = .edgeSet(edge: try r.string(), key: try r.string(), value: try Op.readOptValue(&r))
        default: throw DecodeError("unknown op type code \(code)")
        }
        self.init(id: id, lamport: lamport, actor: actor, deps: deps, path: path, body: body)
    }
}
