import LatticeCRDT
import LatticeRuns
import PropertyBased
import Testing

private func emitNode(_ id: String, next: [String] = [], data: Value = .null) -> WorkflowNode {
    WorkflowNode(id: id, kind: .emit(data: data), next: next)
}

private func definition(_ nodes: [WorkflowNode], name: String = "flow") -> WorkflowDefinition {
    WorkflowDefinition(name: name, nodes: nodes)
}

/// A chain `a → <node> → z` around one node under test, so only that node can be wrong.
private func around(_ node: WorkflowNode) -> WorkflowDefinition {
    var middle = node
    if case .condition = node.kind {} else if middle.next.isEmpty { middle.next = ["z"] }
    return definition([emitNode("a", next: [node.id]), middle, emitNode("z")])
}

/// The one error of `definition`, checked to be the only one.
private func onlyError(_ definition: WorkflowDefinition, limits: DefinitionLimits = .default,
                       sourceLocation: SourceLocation = #_sourceLocation) -> DefinitionError? {
    let errors = DefinitionValidator.validate(definition, limits: limits)
    #expect(errors.count == 1, "\(errors)", sourceLocation: sourceLocation)
    return errors.first
}

private func expectError(_ error: DefinitionError?, _ code: DefinitionError.Code, node: String?, path: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(error?.code == code, "\(String(describing: error))", sourceLocation: sourceLocation)
    #expect(error?.node == node, sourceLocation: sourceLocation)
    #expect(error?.path == path, sourceLocation: sourceLocation)
    if let node, let message = error?.message {
        #expect(message.contains("\"\(node.prefix(60))"), "\(message)", sourceLocation: sourceLocation)
    }
}

@Suite struct DefinitionValidatorTests {
    /// Every kind of node; two parallel branches and both sides of a condition join at `join`.
    static let everyKind = WorkflowDefinition(name: "every kind", nodes: [
        emitNode("start", next: ["wait", "check"], data: .object(["doc": ref("inputs.doc")])),
        WorkflowNode(id: "wait", kind: .delay(millis: 10), next: ["ask"]),
        WorkflowNode(id: "ask", kind: .approval(prompt: "Go on?"), next: ["join"]),
        WorkflowNode(id: "check", kind: .condition(
            Condition(left: ref("nodes.start.output.doc.pages"), op: .greater, right: .int(3)),
            whenTrue: ["work"], whenFalse: ["quick"])),
        WorkflowNode(id: "work", kind: .task(capability: "ocr:v1.fast-path_2", input: .object([
            "doc": ref("nodes.start.output.doc"), "all": .array([ref("inputs"), .int(1)]),
        ])), next: ["join"], retries: 3, backoffMillis: 500, timeoutMillis: 60_000, continueOnFailure: true),
        WorkflowNode(id: "quick", kind: .condition(Condition(left: ref("inputs.flag"), op: .truthy),
                                                   whenTrue: [], whenFalse: []), retries: 0),
        WorkflowNode(id: "join", kind: .output(value: ref("nodes.work.output.text")), next: ["done"]),
        WorkflowNode(id: "done", kind: .output(value: nil), next: ["exists"]),
        WorkflowNode(id: "exists", kind: .condition(Condition(left: ref("nodes.join.output"), op: .exists),
                                                    whenTrue: [], whenFalse: [])),
    ])

    @Test func aDefinitionOfEveryKindIsValid() {
        #expect(DefinitionValidator.validate(Self.everyKind) == [])
        #expect(DefinitionValidator.entry(of: Self.everyKind) == "start")
        #expect(DefinitionValidator.predecessors(in: Self.everyKind)["join"] == ["ask", "work"])
    }

    @Test func limitsAtTheirBoundsAreValid() {
        var low = WorkflowNode(id: "x", kind: .delay(millis: 0), retries: 0, backoffMillis: 0, timeoutMillis: 1)
        low.next = ["y"]
        let high = WorkflowNode(id: "y", kind: .delay(millis: 86_400_000), retries: WorkflowNode.maxRetriesCap,
                                backoffMillis: WorkflowNode.maxBackoffMillis, timeoutMillis: 86_400_000)
        let name = String(repeating: "n", count: 200)
        for visits in [1, WorkflowDefinition.maxVisitsCap] {
            let flow = WorkflowDefinition(name: name, nodes: [low, high], maxVisits: visits)
            #expect(DefinitionValidator.validate(flow) == [])
        }
        let longest = String(repeating: "a", count: 100)
        let capability = String(repeating: "c", count: 100)
        let prompt = String(repeating: "p", count: 2_000)
        #expect(DefinitionValidator.validate(definition([
            emit(longest, next: ["t"]),
            WorkflowNode(id: "t", kind: .task(capability: capability, input: .null), next: ["p"]),
            WorkflowNode(id: "p", kind: .approval(prompt: prompt)),
        ])) == [])
        #expect(DefinitionValidator.validate(definition([emitNode("a")]), limits: DefinitionLimits(maxNodes: 1)) == [])
    }

    // MARK: One test per code

    @Test func empty() {
        expectError(onlyError(definition([])), .empty, node: nil, path: "nodes")
    }

    @Test func tooManyNodes() {
        let chain = definition([emitNode("a", next: ["b"]), emitNode("b", next: ["c"]), emitNode("c")])
        expectError(onlyError(chain, limits: DefinitionLimits(maxNodes: 2)), .tooManyNodes, node: nil, path: "nodes")
        #expect(DefinitionLimits.default == DefinitionLimits(maxNodes: 500, maxBytes: 262_144))
    }

    @Test func badName() {
        expectError(onlyError(definition([emitNode("a")], name: "")), .badName, node: nil, path: "name")
        let long = String(repeating: "é", count: 201)
        expectError(onlyError(definition([emitNode("a")], name: long)), .badName, node: nil, path: "name")
    }

    @Test(arguments: ["", String(repeating: "x", count: 101), "has space", "slash/y", "colon:y", "ünï", "a\u{0}b"])
    func badID(id: String) {
        expectError(onlyError(around(emit(id))), .badID, node: id, path: "nodes[1].id")
    }

    @Test func duplicateID() {
        let flow = definition([emitNode("a", next: ["b"]), emitNode("b"), emitNode("b")])
        let error = onlyError(flow)
        expectError(error, .duplicateID, node: "b", path: "nodes[2].id")
        #expect(error?.message.contains("nodes[1]") == true)
    }

    @Test func unknownTarget() {
        expectError(onlyError(definition([emitNode("a", next: ["b", "ghost"]), emitNode("b")])),
                    .unknownTarget, node: "a", path: "nodes[0].next[1]")
        let condition = Condition(left: .bool(true), op: .truthy)
        let branches = definition([
            WorkflowNode(id: "c", kind: .condition(condition, whenTrue: ["b", "ghost"], whenFalse: ["phantom"])),
            emitNode("b"),
        ])
        let errors = DefinitionValidator.validate(branches)
        #expect(errors.count == 2)
        expectError(errors.first, .unknownTarget, node: "c", path: "nodes[0].then[1]")
        expectError(errors.last, .unknownTarget, node: "c", path: "nodes[0].else[0]")
        #expect(errors.last?.message.contains("phantom") == true)
    }

    @Test func selfTarget() {
        expectError(onlyError(definition([emitNode("a", next: ["b", "a"]), emitNode("b")])),
                    .selfTarget, node: "a", path: "nodes[0].next[1]")
        let condition = Condition(left: .bool(true), op: .truthy)
        expectError(onlyError(around(WorkflowNode(id: "c", kind: .condition(condition, whenTrue: ["z"], whenFalse: ["c"])))),
                    .selfTarget, node: "c", path: "nodes[1].else[0]")
    }

    @Test func noEntry() {
        let loop = definition([emitNode("a", next: ["b"]), emitNode("b", next: ["a"])])
        let errors = DefinitionValidator.validate(loop)
        #expect(errors.map(\.code) == [.noEntry, .cycle])
        expectError(errors.first, .noEntry, node: nil, path: "nodes")
    }

    @Test func severalEntries() {
        let flow = definition([emitNode("a", next: ["c"]), emitNode("b", next: ["c"]), emitNode("c"), emitNode("d")])
        let error = onlyError(flow)
        expectError(error, .severalEntries, node: nil, path: "nodes")
        for id in ["\"a\"", "\"b\"", "\"d\""] { #expect(error?.message.contains(id) == true) }
        #expect(error?.message.contains("\"c\"") == false)
    }

    @Test func cycle() {
        let flow = definition([emitNode("a", next: ["b"]), emitNode("b", next: ["c"]), emitNode("c", next: ["d"]), emitNode("d", next: ["b"])])
        let error = onlyError(flow)
        expectError(error, .cycle, node: "b", path: "nodes[1]")
        #expect(error?.message.hasSuffix("b → c → d → b") == true, "\(String(describing: error))")
    }

    @Test func oneErrorPerCycleStartingAtItsEarliestNode() {
        // Two cycles sharing nothing, one entered from its last node.
        let flow = definition([
            emitNode("a", next: ["b", "z"]), emitNode("b", next: ["c"]), emitNode("c", next: ["b"]),
            emitNode("x", next: ["y"]), emitNode("y", next: ["x"]), emitNode("z", next: ["y"]),
        ])
        let cycles = DefinitionValidator.validate(flow).filter { $0.code == .cycle }
        #expect(cycles.map(\.node) == ["b", "x"])
        #expect(cycles.map(\.path) == ["nodes[1]", "nodes[3]"])
        #expect(cycles.map(\.message).allSatisfy { $0.contains(" → ") })
        #expect(cycles.last?.message.hasSuffix("x → y → x") == true, "\(cycles)")
    }

    @Test func badLimit() {
        let cases: [(WorkflowNode, String)] = [
            (WorkflowNode(id: "n", kind: .emit(data: .null), retries: -1), "retries"),
            (WorkflowNode(id: "n", kind: .emit(data: .null), retries: WorkflowNode.maxRetriesCap + 1), "retries"),
            (WorkflowNode(id: "n", kind: .emit(data: .null), backoffMillis: -1), "backoffMs"),
            (WorkflowNode(id: "n", kind: .emit(data: .null), backoffMillis: WorkflowNode.maxBackoffMillis + 1), "backoffMs"),
            (WorkflowNode(id: "n", kind: .emit(data: .null), timeoutMillis: 0), "timeoutMs"),
            (WorkflowNode(id: "n", kind: .emit(data: .null), timeoutMillis: 86_400_001), "timeoutMs"),
            (WorkflowNode(id: "n", kind: .delay(millis: -1)), "millis"),
            (WorkflowNode(id: "n", kind: .delay(millis: 86_400_001)), "millis"),
        ]
        for (node, field) in cases {
            expectError(onlyError(around(node)), .badLimit, node: "n", path: "nodes[1].\(field)")
        }
        for visits in [0, -5, WorkflowDefinition.maxVisitsCap + 1] {
            let flow = WorkflowDefinition(name: "v", nodes: [emitNode("a")], maxVisits: visits)
            expectError(onlyError(flow), .badLimit, node: nil, path: "maxVisits")
        }
    }

    @Test func badReference() {
        let condition = { (left: Value, right: Value) in
            WorkflowNode(id: "n", kind: .condition(Condition(left: left, op: .equal, right: right), whenTrue: ["z"], whenFalse: []))
        }
        let cases: [(WorkflowNode, String)] = [
            (emitNode("n", data: .object(["x": ref("nodes.a")])), "data"),
            (emitNode("n", data: .array([ref("inputs..x")])), "data"),
            (emitNode("n", data: ref("outputs.a")), "data"),
            (WorkflowNode(id: "n", kind: .task(capability: "ocr", input: ref("nodes.ghost.output"))), "input"),
            (WorkflowNode(id: "n", kind: .task(capability: "ocr", input: ref("nodes.z.output.x"))), "input"),
            (WorkflowNode(id: "n", kind: .output(value: ref("nodes.n.output"))), "value"),
            (condition(ref("nodes.z.output"), .int(1)), "left"),
            (condition(.int(1), ref("nodes..output")), "right"),
        ]
        for (node, field) in cases {
            expectError(onlyError(around(node)), .badReference, node: "n", path: "nodes[1].\(field)")
        }
        // A sibling branch's output never exists when the other branch starts.
        let siblings = definition([
            emitNode("a", next: ["b", "c"]), emitNode("b", next: ["d"]),
            emitNode("c", next: ["d"], data: ref("nodes.b.output")), emitNode("d", data: ref("nodes.c.output.x")),
        ])
        let error = onlyError(siblings)
        expectError(error, .badReference, node: "c", path: "nodes[2].data")
        #expect(error?.message.contains("\"b\"") == true)
    }

    @Test func badField() {
        let long = String(repeating: "c", count: 101)
        for capability in ["", long, "with space", "a/b", "é"] {
            let task = WorkflowNode(id: "t", kind: .task(capability: capability, input: .null))
            expectError(onlyError(around(task)), .badField, node: "t", path: "nodes[1].capability")
        }
        let approval = WorkflowNode(id: "p", kind: .approval(prompt: String(repeating: "p", count: 2_001)))
        expectError(onlyError(around(approval)), .badField, node: "p", path: "nodes[1].prompt")
        let condition = WorkflowNode(id: "c", kind: .condition(Condition(left: .null, op: .exists), whenTrue: ["z"], whenFalse: []),
                                     next: ["z"])
        expectError(onlyError(around(condition)), .badField, node: "c", path: "nodes[1].next")
    }

    @Test func codesHaveTheirWireNames() {
        let codes: [(DefinitionError.Code, String)] = [
            (.empty, "empty"), (.tooManyNodes, "too_many_nodes"), (.badName, "bad_name"), (.badID, "bad_id"),
            (.duplicateID, "duplicate_id"), (.unknownTarget, "unknown_target"), (.selfTarget, "self_target"),
            (.noEntry, "no_entry"), (.severalEntries, "several_entries"), (.cycle, "cycle"), (.badLimit, "bad_limit"),
            (.badReference, "bad_reference"), (.badField, "bad_field"),
        ]
        for (code, raw) in codes { #expect(code.rawValue == raw) }
        let error = DefinitionError(code: .cycle, node: "a", path: "nodes[0]", message: "loops")
        #expect(error.description == "cycle at nodes[0]: loops")
    }

    // MARK: Several problems, odd inputs

    @Test func everyProblemIsReportedInNodeOrder() {
        let flow = WorkflowDefinition(name: "", nodes: [
            WorkflowNode(id: "a", kind: .delay(millis: -1), next: ["b c", "ghost"], retries: 99),
            WorkflowNode(id: "b c", kind: .task(capability: "", input: ref("nodes.x")), next: ["d"]),
            emitNode("d", next: ["d"]),
        ], maxVisits: 0)
        let errors = DefinitionValidator.validate(flow)
        #expect(errors.map(\.path) == [
            "maxVisits", "name",
            "nodes[0].next[1]", "nodes[0].retries", "nodes[0].millis",
            "nodes[1].id", "nodes[1].capability", "nodes[1].input",
            "nodes[2].next[0]",
        ], "\(errors)")
        #expect(errors.map(\.code) == [
            .badLimit, .badName, .unknownTarget, .badLimit, .badLimit, .badID, .badField, .badReference, .selfTarget,
        ])
        #expect(DefinitionValidator.validate(flow) == errors)
    }

    @Test func oddDefinitionsNeverCrash() {
        let huge = String(repeating: "h", count: 100_000)
        let odd: [WorkflowDefinition] = [
            definition([emit(huge, next: [huge, ""]), emitNode("", next: [huge])], name: huge),
            definition(Array(repeating: emitNode("x", next: ["x", "y"]), count: 5) + [emitNode("y", next: ["x"])]),
            definition(Array(repeating: emitNode("", next: [""]), count: 3)),
            definition([emitNode("a", next: ["b", "b", "b"]), emitNode("b", next: ["a", "a"]), emitNode("a", data: ref("nodes.a.output"))]),
            definition([WorkflowNode(id: "c", kind: .condition(Condition(left: ref(""), op: .less, right: ref(".")),
                                                                 whenTrue: ["c", "c"], whenFalse: ["c"]))]),
        ]
        for flow in odd {
            let errors = DefinitionValidator.validate(flow)
            #expect(!errors.isEmpty)
            #expect(errors.allSatisfy { $0.message.count < 1_000 })
            _ = DefinitionValidator.entry(of: flow)
            _ = DefinitionValidator.predecessors(in: flow)
        }
        let shared = DefinitionValidator.validate(odd[1])
        #expect(shared.contains { $0.code == .duplicateID })
        #expect(shared.contains { $0.code == .cycle && $0.message.contains("x → y → x") })
    }

    @Test func aLongChainIsValidatedWithoutDeepRecursion() {
        let count = 20_000
        var nodes = (0..<count).map { emitNode("n\($0)", next: ["n\($0 + 1)"]) }
        nodes[count - 1] = emitNode("n\(count - 1)", next: ["n0"], data: ref("nodes.n0.output"))
        let errors = DefinitionValidator.validate(definition(nodes), limits: DefinitionLimits(maxNodes: count))
        #expect(errors.map(\.code) == [.noEntry, .cycle])
        #expect(errors.last?.node == "n0")
    }

    // MARK: Entry and predecessors

    @Test func entryAndPredecessorsOfADiamond() {
        let diamond = definition([emitNode("a", next: ["b", "c"]), emitNode("b", next: ["d"]), emitNode("c", next: ["d"]), emitNode("d")])
        #expect(DefinitionValidator.validate(diamond) == [])
        #expect(DefinitionValidator.entry(of: diamond) == "a")
        #expect(DefinitionValidator.predecessors(in: diamond) == ["a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]])
    }

    @Test func entryIsNilWithoutExactlyOneRoot() {
        #expect(DefinitionValidator.entry(of: definition([])) == nil)
        #expect(DefinitionValidator.entry(of: definition([emitNode("a"), emitNode("b")])) == nil)
        #expect(DefinitionValidator.entry(of: definition([emitNode("a", next: ["b"]), emitNode("b", next: ["a"])])) == nil)
    }

    // MARK: Properties

    /// Random DAGs (edges only from lower to higher index, node 0 the only root) of every kind
    /// validate clean; one back edge along a path makes a cycle through both its ends appear.
    @Test func randomDAGsAreValidAndABackEdgeMakesACycle() async {
        let gen = Generator<UInt64, Shrink.None<UInt64>> { rng in rng.next() }
        await propertyCheck(count: 200, input: gen) { seed in
            var rng = SplitMix(seed: seed)
            var dag = RandomDAG(size: Int.random(in: 1...30, using: &rng), using: &rng)
            let clean = dag.definition
            #expect(DefinitionValidator.validate(clean) == [], "\(clean)")
            #expect(DefinitionValidator.entry(of: clean) == "n0")

            guard dag.size > 1 else { return }
            let from = Int.random(in: 1..<dag.size, using: &rng)
            let to = dag.someAncestor(of: from, using: &rng)
            dag.addEdge(from: from, to: to)
            let cycles = DefinitionValidator.validate(dag.definition).filter { $0.code == .cycle }
            #expect(!cycles.isEmpty)
            #expect(cycles.contains { $0.message.contains("n\(from) → n\(to)") }, "\(cycles)")
        }
    }
}

/// A random DAG: every node but the first has an earlier predecessor (so node 0 is the only
/// root), plus some extra forward edges; nodes of every kind, referencing ancestors' outputs.
private struct RandomDAG {
    var size: Int
    var successors: [[Int]]
    var kinds: [Int]
    var firstPredecessor: [Int]

    init(size: Int, using rng: inout SplitMix) {
        self.size = size
        successors = Array(repeating: [], count: size)
        firstPredecessor = Array(repeating: 0, count: size)
        kinds = (0..<size).map { _ in Int.random(in: 0..<6, using: &rng) }
        for node in 1..<max(1, size) {
            let predecessor = Int.random(in: 0..<node, using: &rng)
            firstPredecessor[node] = predecessor
            successors[predecessor].append(node)
            for other in 0..<node where other != predecessor && Int.random(in: 0..<8, using: &rng) == 0 {
                successors[other].append(node)
            }
        }
    }

    /// A node on the chain of first predecessors from `node` back to node 0.
    func someAncestor(of node: Int, using rng: inout SplitMix) -> Int {
        var chain: [Int] = []
        var current = node
        while current != 0 {
            current = firstPredecessor[current]
            chain.append(current)
        }
        return chain.randomElement(using: &rng) ?? 0
    }

    mutating func addEdge(from: Int, to: Int) { successors[from].append(to) }

    var definition: WorkflowDefinition {
        WorkflowDefinition(name: "random", nodes: (0..<size).map(node))
    }

    func node(_ index: Int) -> WorkflowNode {
        let next = successors[index].map { "n\($0)" }
        let earlier = index == 0 ? ref("inputs.x") : ref("nodes.n\(firstPredecessor[index]).output.x")
        let kind: NodeKind = switch kinds[index] {
        case 0: .emit(data: .object(["from": earlier]))
        case 1: .delay(millis: Int64(index))
        case 2: .approval(prompt: "n\(index)?")
        case 3: .task(capability: "cap:\(index)", input: .array([earlier, ref("inputs")]))
        case 4: .output(value: index % 2 == 0 ? earlier : nil)
        default: .condition(Condition(left: earlier, op: .exists),
                            whenTrue: Array(next.prefix(next.count / 2)), whenFalse: Array(next.dropFirst(next.count / 2)))
        }
        if case .condition = kind { return WorkflowNode(id: "n\(index)", kind: kind) }
        return WorkflowNode(id: "n\(index)", kind: kind, next: next, retries: index % 3, timeoutMillis: 1_000)
    }
}
