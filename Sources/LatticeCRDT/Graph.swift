/// The knowledge graph: nodes and typed, directed edges with LWW properties and add-wins
/// existence. Rules (see docs/crdt.md):
///
/// 1. Node/edge existence is add-wins: a remove cancels only the add tags it observed.
/// 2. An edge is *visible* only while it exists and both endpoints exist. An edge whose endpoint
///    is removed (concurrently or not) is hidden, not deleted: it comes back if the node is re-added.
/// 3. Properties, node type/label and edge source/target/type are LWW registers ordered by
///    (Lamport, replica). Concurrent writes to different keys both survive; to the same key the
///    higher stamp wins. Properties survive a remove and reappear with a re-add.
public struct Graph: Sendable, Hashable {
    public struct Node: Sendable, Hashable {
        public var tags: Set<OpID> = []
        public var type = LWWRegister()
        public var label = LWWRegister()
        public var properties = LWWMap()
        public var exists: Bool { !tags.isEmpty }
    }
    public struct Edge: Sendable, Hashable {
        public var tags: Set<OpID> = []
        public var source = LWWRegister()
        public var target = LWWRegister()
        public var type = LWWRegister()
        public var properties = LWWMap()
        public var exists: Bool { !tags.isEmpty }
    }

    public internal(set) var nodes: [String: Node] = [:]
    public internal(set) var edges: [String: Edge] = [:]
    public init() {}

    mutating func apply(_ body: OpBody, id: OpID, stamp: Stamp) {
        switch body {
        case .nodeAdd(let n, let t, let l):
            nodes[n, default: Node()].tags.insert(id)
            nodes[n]!.type.set(.string(t), at: stamp)
            nodes[n]!.label.set(.string(l), at: stamp)
        case .nodeRemove(let n, let obs):
            nodes[n]?.tags.subtract(obs)
        case .nodeSet(let n, let k, let v):
            nodes[n, default: Node()].properties.set(k, v, at: stamp)
        case .edgeAdd(let e, let s, let t, let ty):
            edges[e, default: Edge()].tags.insert(id)
            edges[e]!.source.set(.string(s), at: stamp)
            edges[e]!.target.set(.string(t), at: stamp)
            edges[e]!.type.set(.string(ty), at: stamp)
        case .edgeRemove(let e, let obs):
            edges[e]?.tags.subtract(obs)
        case .edgeSet(let e, let k, let v):
            edges[e, default: Edge()].properties.set(k, v, at: stamp)
        default:
            break
        }
    }

    public func nodeExists(_ id: String) -> Bool { nodes[id]?.exists ?? false }

    /// Rule 2: visible iff the edge exists and both endpoints exist.
    public func edgeVisible(_ id: String) -> Bool {
        guard let e = edges[id], e.exists, let s = e.source.value?.stringValue, let t = e.target.value?.stringValue else { return false }
        return nodeExists(s) && nodeExists(t)
    }

    public var visibleNodeIDs: [String] { nodes.keys.filter { nodeExists($0) }.sorted() }
    public var visibleEdgeIDs: [String] { edges.keys.filter { edgeVisible($0) }.sorted() }
    /// Edges that exist but are hidden because an endpoint does not exist.
    public var hiddenEdgeIDs: [String] { edges.keys.filter { edges[$0]!.exists && !edgeVisible($0) }.sorted() }

    /// Canonical state: visible nodes and edges with their properties.
    public var state: Value {
        var ns: [String: Value] = [:]
        for id in visibleNodeIDs {
            let n = nodes[id]!
            ns[id] = .object(["type": n.type.value ?? .null, "label": n.label.value ?? .null, "properties": .object(n.properties.visible)])
        }
        var es: [String: Value] = [:]
        for id in visibleEdgeIDs {
            let e = edges[id]!
            es[id] = .object(["source": e.source.value ?? .null, "target": e.target.value ?? .null, "type": e.type.value ?? .null,
                              "properties": .object(e.properties.visible)])
        }
        return .object(["nodes": .object(ns), "edges": .object(es), "hiddenEdges": .array(hiddenEdgeIDs.map { .string($0) })])
    }
}
