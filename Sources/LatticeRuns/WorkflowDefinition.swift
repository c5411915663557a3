public import LatticeCRDT

/// A workflow definition: a DAG of nodes (docs/runs.md, "Definitions").
///
/// Edges are each node's `next` list. A node with several successors starts them all (their
/// branches run in parallel); a node with several predecessors is a join and waits until every
/// predecessor has been resolved. Exactly one node has no predecessor: the entry. Cycles are
/// refused (`DefinitionValidator`); repetition is expressed with per-node retries.
public struct WorkflowDefinition: Sendable, Equatable {
    public var name: String
    public var nodes: [WorkflowNode]
    /// Whether runs continue from their last completed node after a server restart, instead of
    /// ending `interrupted`. Only for definitions whose nodes may safely be restarted.
    public var resumable: Bool
    /// The cap on node visits (attempts included) of one run; over it, the run fails.
    public var maxVisits: Int
    /// Free-form data kept with the definition (not interpreted).
    public var metadata: Value
    /// What starts runs besides a member (docs/runs.md, "Triggers").
    public var triggers: [WorkflowTrigger]

    public static let defaultMaxVisits = 100
    public static let maxVisitsCap = 10_000

    public init(name: String, nodes: [WorkflowNode], resumable: Bool = false,
                maxVisits: Int = WorkflowDefinition.defaultMaxVisits, metadata: Value = .object([:]),
                triggers: [WorkflowTrigger] = []) {
        self.triggers = triggers
        self.name = name
        self.nodes = nodes
        self.resumable = resumable
        self.maxVisits = maxVisits
        self.metadata = metadata
    }

    public func node(_ id: String) -> WorkflowNode? { nodes.first { $0.id == id } }
}

/// One node of a definition.
public struct WorkflowNode: Sendable, Equatable {
    public var id: String
    public var kind: NodeKind
    /// Successors, started when this node finishes ok (a condition node uses its own branches).
    public var next: [String]
    /// Attempts after the first one when an attempt fails or times out (0 … `maxRetriesCap`).
    public var retries: Int
    /// The wait before the first retry, doubled for each later one (capped at `maxBackoffMillis`).
    public var backoffMillis: Int64
    /// How long one attempt may take before it fails as timed out; nil: no limit.
    public var timeoutMillis: Int64?
    /// When the node fails for good, the run goes on without it (its successors are skipped)
    /// and ends `partial` instead of `failed`.
    public var continueOnFailure: Bool

    public static let maxRetriesCap = 10
    public static let maxBackoffMillis: Int64 = 300_000

    public init(id: String, kind: NodeKind, next: [String] = [], retries: Int = 0,
                backoffMillis: Int64 = 1_000, timeoutMillis: Int64? = nil, continueOnFailure: Bool = false) {
        self.id = id
        self.kind = kind
        self.next = next
        self.retries = retries
        self.backoffMillis = backoffMillis
        self.timeoutMillis = timeoutMillis
        self.continueOnFailure = continueOnFailure
    }

    /// Every node this one can lead to.
    public var successors: [String] {
        if case .condition(_, let whenTrue, let whenFalse) = kind { return whenTrue + whenFalse }
        return next
    }

    /// The wait before retry number `retry` (1 for the first retry).
    public func backoff(beforeRetry retry: Int) -> Int64 {
        var wait = max(0, backoffMillis)
        for _ in 1..<max(1, retry) {
            wait = min(wait * 2, Self.maxBackoffMillis)
        }
        return min(wait, Self.maxBackoffMillis)
    }
}

/// What a node does. Values inside a node may hold references (`ValueReference`), resolved
/// when the node starts.
public enum NodeKind: Sendable, Equatable {
    /// Appends a `node.output` event with `data` and finishes at once.
    case emit(data: Value)
    /// Waits `millis`, then finishes.
    case delay(millis: Int64)
    /// Compares, then starts `whenTrue` or `whenFalse` (the other branch is skipped).
    case condition(Condition, whenTrue: [String], whenFalse: [String])
    /// Waits for a member's decision (`run.approve`); a denial ends the run `rejected`.
    case approval(prompt: String)
    /// Handed to a bot worker that registered `capability`, with `input`; its output is the
    /// worker's `task.complete` output.
    case task(capability: String, input: Value)
    /// Collects `value` (or, when nil, the output of the node's predecessor) into the run's
    /// `outputs` under the node's id.
    case output(value: Value?)

    /// The name of the kind in definitions and events.
    public var name: String {
        switch self {
        case .emit: "emit"
        case .delay: "delay"
        case .condition: "condition"
        case .approval: "approval"
        case .task: "task"
        case .output: "output"
        }
    }

    /// Every kind a definition may use.
    public static let names = ["emit", "delay", "condition", "approval", "task", "output"]
}

/// A safe comparison: no code is evaluated. `left` and `right` are values or references.
public struct Condition: Sendable, Equatable {
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        /// A string containing a string, or an array containing a value.
        case contains
        /// `left` is not null, false, 0, "" or empty.
        case truthy
        /// `left` resolves to something (a reference that exists).
        case exists
    }

    public var left: Value
    public var op: Operator
    public var right: Value

    public init(left: Value, op: Operator, right: Value = .null) {
        self.left = left
        self.op = op
        self.right = right
    }
}
