import LatticeCRDT

/// Checks workflow definitions before they are stored or run. Pure and total: any definition,
/// however malformed (duplicate ids, cycles, huge strings), yields a list of problems.
public enum DefinitionValidator {
    static let maxNameLength = 200
    static let maxIDLength = 100
    static let maxCapabilityLength = 100
    static let maxPromptLength = 2_000
    static let maxMillis: Int64 = 86_400_000

    /// Every problem of `definition`, in a stable order (definition-wide ones first, then by
    /// node index, then by field within the node); empty when valid.
    public static func validate(_ definition: WorkflowDefinition, limits: DefinitionLimits = .default) -> [DefinitionError] {
        var report = Report()
        let graph = Graph(definition)
        checkDefinition(definition, limits: limits, into: &report)
        checkEntry(definition, graph: graph, into: &report)
        for (index, node) in definition.nodes.enumerated() {
            let place = NodePlace(node: node, index: index)
            checkID(place, graph: graph, into: &report)
            checkEdges(place, graph: graph, into: &report)
            checkLimits(place, into: &report)
            checkFields(place, into: &report)
            checkReferences(place, graph: graph, into: &report)
        }
        checkCycles(graph, into: &report)
        return report.ordered
    }

    /// The entry node id of a valid definition (the only node with no predecessor).
    public static func entry(of definition: WorkflowDefinition) -> String? {
        let roots = Graph(definition).roots
        return roots.count == 1 ? roots[0] : nil
    }

    /// Predecessors of each node id (edges from `WorkflowNode.successors`), for the executor's
    /// joins. Every node id is a key; each list is in node order, without repeats. Edges from a
    /// node to itself or to an unknown id are left out (the validator reports them).
    public static func predecessors(in definition: WorkflowDefinition) -> [String: [String]] {
        let graph = Graph(definition)
        var result: [String: [String]] = [:]
        for id in graph.ids { result[id] = graph.predecessors[id, default: []] }
        return result
    }
}

// MARK: - Definition-wide checks

extension DefinitionValidator {
    static func checkDefinition(_ definition: WorkflowDefinition, limits: DefinitionLimits, into report: inout Report) {
        if !(1...WorkflowDefinition.maxVisitsCap).contains(definition.maxVisits) {
            report.add(.badLimit, path: "maxVisits",
                       "maxVisits is \(definition.maxVisits); it must be between 1 and \(WorkflowDefinition.maxVisitsCap)")
        }
        if definition.name.isEmpty {
            report.add(.badName, path: "name", "the definition's name is empty")
        } else if definition.name.count > maxNameLength {
            report.add(.badName, path: "name",
                       "the definition's name has \(definition.name.count) characters; at most \(maxNameLength) are allowed")
        }
        if definition.nodes.isEmpty {
            report.add(.empty, path: "nodes", "the definition has no nodes")
        } else if definition.nodes.count > limits.maxNodes {
            report.add(.tooManyNodes, path: "nodes",
                       "the definition has \(definition.nodes.count) nodes; at most \(limits.maxNodes) are allowed")
        }
    }

    static func checkEntry(_ definition: WorkflowDefinition, graph: Graph, into report: inout Report) {
        guard !definition.nodes.isEmpty else { return }
        let roots = graph.roots
        if roots.isEmpty {
            report.add(.noEntry, path: "nodes", "every node has a predecessor, so no node can start a run")
        } else if roots.count > 1 {
            report.add(.severalEntries, path: "nodes",
                       "several nodes have no predecessor (\(roots.map(quoted).joined(separator: ", "))); exactly one may")
        }
    }

    static func checkCycles(_ graph: Graph, into report: inout Report) {
        for cycle in graph.cycles() {
            let first = cycle[0]
            let index = graph.firstIndex[first] ?? 0
            let loop = (cycle + [first]).map(shown).joined(separator: " → ")
            report.add(.cycle, node: first, index: index, path: "nodes[\(index)]",
                       "node \(quoted(first)) is on a cycle: \(loop)")
        }
    }
}

// MARK: - Per-node checks

extension DefinitionValidator {
    /// A node with its position in the definition, for paths and ordering.
    struct NodePlace {
        var node: WorkflowNode
        var index: Int
        var id: String { node.id }
        var name: String { quoted(node.id) }
        func path(_ field: String) -> String { "nodes[\(index)].\(field)" }
    }

    static func checkID(_ place: NodePlace, graph: Graph, into report: inout Report) {
        let id = place.id
        if id.isEmpty {
            report.add(.badID, place, path: place.path("id"), "node \"\" at nodes[\(place.index)] has an empty id")
        } else if id.count > maxIDLength {
            report.add(.badID, place, path: place.path("id"),
                       "node \(place.name) has an id of \(id.count) characters; at most \(maxIDLength) are allowed")
        } else if !id.utf8.allSatisfy(isIDByte) {
            report.add(.badID, place, path: place.path("id"),
                       "node \(place.name) has an id with characters other than A-Z a-z 0-9 _ . -")
        }
        if let first = graph.firstIndex[id], first != place.index {
            report.add(.duplicateID, place, path: place.path("id"),
                       "node \(place.name) at nodes[\(place.index)] has the same id as nodes[\(first)]")
        }
    }

    static func checkEdges(_ place: NodePlace, graph: Graph, into report: inout Report) {
        if case .condition(_, let whenTrue, let whenFalse) = place.node.kind {
            if !place.node.next.isEmpty {
                report.add(.badField, place, path: place.path("next"),
                           "condition node \(place.name) has next nodes; a condition leads on only through then and else")
            }
            checkTargets(whenTrue, field: "then", place, graph: graph, into: &report)
            checkTargets(whenFalse, field: "else", place, graph: graph, into: &report)
        } else {
            checkTargets(place.node.next, field: "next", place, graph: graph, into: &report)
        }
    }

    static func checkTargets(_ targets: [String], field: String, _ place: NodePlace, graph: Graph, into report: inout Report) {
        for (position, target) in targets.enumerated() {
            let path = place.path("\(field)[\(position)]")
            if target == place.id {
                report.add(.selfTarget, place, path: path, "node \(place.name) leads to itself")
            } else if graph.firstIndex[target] == nil {
                report.add(.unknownTarget, place, path: path,
                           "node \(place.name) leads to \(quoted(target)), which is not a node of the definition")
            }
        }
    }

    static func checkLimits(_ place: NodePlace, into report: inout Report) {
        let node = place.node
        if !(0...WorkflowNode.maxRetriesCap).contains(node.retries) {
            report.add(.badLimit, place, path: place.path("retries"),
                       "node \(place.name) has \(node.retries) retries; it may have 0 to \(WorkflowNode.maxRetriesCap)")
        }
        if !(0...WorkflowNode.maxBackoffMillis).contains(node.backoffMillis) {
            report.add(.badLimit, place, path: place.path("backoffMs"),
                       "node \(place.name) has a backoff of \(node.backoffMillis) ms; it must be 0 to \(WorkflowNode.maxBackoffMillis)")
        }
        if let timeout = node.timeoutMillis, !(1...maxMillis).contains(timeout) {
            report.add(.badLimit, place, path: place.path("timeoutMs"),
                       "node \(place.name) has a timeout of \(timeout) ms; it must be 1 to \(maxMillis)")
        }
        if case .delay(let millis) = node.kind, !(0...maxMillis).contains(millis) {
            report.add(.badLimit, place, path: place.path("millis"),
                       "delay node \(place.name) waits \(millis) ms; it must wait 0 to \(maxMillis)")
        }
    }

    static func checkFields(_ place: NodePlace, into report: inout Report) {
        switch place.node.kind {
        case .task(let capability, _):
            if capability.isEmpty {
                report.add(.badField, place, path: place.path("capability"), "task node \(place.name) has an empty capability")
            } else if capability.count > maxCapabilityLength {
                report.add(.badField, place, path: place.path("capability"),
                           "task node \(place.name) has a capability of \(capability.count) characters; at most \(maxCapabilityLength) are allowed")
            } else if !capability.utf8.allSatisfy(isCapabilityByte) {
                report.add(.badField, place, path: place.path("capability"),
                           "task node \(place.name) has a capability with characters other than A-Z a-z 0-9 _ . : -")
            }
        case .approval(let prompt) where prompt.count > maxPromptLength:
            report.add(.badField, place, path: place.path("prompt"),
                       "approval node \(place.name) has a prompt of \(prompt.count) characters; at most \(maxPromptLength) are allowed")
        default:
            break
        }
    }

    static func checkReferences(_ place: NodePlace, graph: Graph, into report: inout Report) {
        // Computed at most once per node, and only when a reference needs it.
        var ancestors: Set<String>?
        for (field, value) in referenceFields(of: place.node.kind) {
            for reference in ValueReference.paths(in: value) {
                guard let problem = referenceProblem(reference, in: place, graph: graph, ancestors: &ancestors) else { continue }
                report.add(.badReference, place, path: place.path(field),
                           "node \(place.name) has a reference \(quoted(reference)) that \(problem)")
            }
        }
    }

    /// Why `reference` cannot be resolved when the node starts, or nil when it can.
    static func referenceProblem(_ reference: String, in place: NodePlace, graph: Graph,
                                 ancestors: inout Set<String>?) -> String? {
        guard ValueReference.isWellFormed(reference) else {
            return "is malformed (it must be inputs[.KEY…] or nodes.ID.output[.KEY…])"
        }
        guard let target = ValueReference.node(of: reference) else { return nil }
        if graph.firstIndex[target] == nil { return "reads node \(quoted(target)), which is not a node of the definition" }
        if target == place.id { return "reads the node's own output" }
        let before = ancestors ?? graph.ancestors(of: place.id)
        ancestors = before
        return before.contains(target) ? nil : "reads node \(quoted(target)), which does not come before it (no path leads from it to this node)"
    }

    /// The values of a node that may hold references, with their field names.
    static func referenceFields(of kind: NodeKind) -> [(String, Value)] {
        switch kind {
        case .emit(let data): [("data", data)]
        case .task(_, let input): [("input", input)]
        case .output(let value): value.map { [("value", $0)] } ?? []
        case .condition(let condition, _, _): [("left", condition.left), ("right", condition.right)]
        case .delay, .approval: []
        }
    }

    static func isIDByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }

    static func isCapabilityByte(_ byte: UInt8) -> Bool {
        isIDByte(byte) || byte == UInt8(ascii: ":")
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// Text for messages: long ids are cut so one bad id cannot blow up a message.
    static func shown(_ text: String) -> String {
        text.count > 60 ? String(text.prefix(60)) + "…" : text
    }

    static func quoted(_ text: String) -> String { "\"\(shown(text))\"" }
}

// MARK: - Collecting errors

extension DefinitionValidator {
    struct Report {
        /// Errors with the index of their node (-1 for the definition as a whole).
        private var entries: [(index: Int, error: DefinitionError)] = []

        mutating func add(_ code: DefinitionError.Code, node: String? = nil, index: Int = -1, path: String, _ message: String) {
            entries.append((index, DefinitionError(code: code, node: node, path: path, message: message)))
        }

        mutating func add(_ code: DefinitionError.Code, _ place: NodePlace, path: String, _ message: String) {
            add(code, node: place.id, index: place.index, path: path, message)
        }

        /// By node index; within one node, in the order the checks ran (field order).
        var ordered: [DefinitionError] {
            entries.enumerated()
                .sorted { ($0.element.index, $0.offset) < ($1.element.index, $1.offset) }
                .map(\.element.error)
        }
    }
}

// MARK: - The graph of edges

extension DefinitionValidator {
    /// The edges between distinct, known node ids. Nodes sharing an id are one vertex (the
    /// duplicate is reported on its own), so the graph is well defined for any definition.
    struct Graph {
        /// Distinct ids, in order of first appearance.
        private(set) var ids: [String] = []
        private(set) var firstIndex: [String: Int] = [:]
        private(set) var successors: [String: [String]] = [:]
        private(set) var predecessors: [String: [String]] = [:]

        init(_ definition: WorkflowDefinition) {
            for (index, node) in definition.nodes.enumerated() where firstIndex[node.id] == nil {
                firstIndex[node.id] = index
                ids.append(node.id)
            }
            var seen: Set<Edge> = []
            for node in definition.nodes {
                for target in node.successors where target != node.id && firstIndex[target] != nil {
                    guard seen.insert(Edge(from: node.id, to: target)).inserted else { continue }
                    successors[node.id, default: []].append(target)
                    predecessors[target, default: []].append(node.id)
                }
            }
        }

        struct Edge: Hashable {
            var from: String
            var to: String
        }

        /// Ids without predecessors, in node order.
        var roots: [String] { ids.filter { predecessors[$0, default: []].isEmpty } }

        /// Every id with a path to `id` (not `id` itself, even on a cycle).
        func ancestors(of id: String) -> Set<String> {
            var found: Set<String> = []
            var pending = predecessors[id, default: []]
            while let next = pending.popLast() {
                guard found.insert(next).inserted else { continue }
                pending += predecessors[next, default: []]
            }
            found.remove(id)
            return found
        }

        /// One cycle per back edge of a depth-first search in node order, each starting at its
        /// earliest node, without repeats. Iterative, so long chains cannot overflow the stack.
        func cycles() -> [[String]] {
            enum Mark { case onPath, done }
            var marks: [String: Mark] = [:]
            var found: [[String]] = []
            var seenCycles: Set<[String]> = []
            for root in ids where marks[root] == nil {
                var path = [root]
                var nextEdge = [0]
                var position = [root: 0]
                marks[root] = .onPath
                while let top = path.last, let cursor = nextEdge.last {
                    let edges = successors[top, default: []]
                    guard cursor < edges.count else {
                        marks[top] = .done
                        position[top] = nil
                        path.removeLast()
                        nextEdge.removeLast()
                        continue
                    }
                    nextEdge[nextEdge.count - 1] += 1
                    let target = edges[cursor]
                    switch marks[target] {
                    case nil:
                        marks[target] = .onPath
                        position[target] = path.count
                        path.append(target)
                        nextEdge.append(0)
                    case .onPath?:
                        let cycle = startingEarliest(Array(path[(position[target] ?? 0)...]))
                        if seenCycles.insert(cycle).inserted { found.append(cycle) }
                    case .done?:
                        break
                    }
                }
            }
            return found
        }

        /// `cycle` rotated to begin at the node that comes first in the definition.
        func startingEarliest(_ cycle: [String]) -> [String] {
            guard let start = cycle.indices.min(by: { firstIndex[cycle[$0], default: 0] < firstIndex[cycle[$1], default: 0] })
            else { return cycle }
            return Array(cycle[start...] + cycle[..<start])
        }
    }
}
