public import LatticeCRDT

/// One event of a run, as appended to its stream `run/{id}` (docs/runs.md, "Events").
///
/// The events are the run's history and its source of truth: `RunRecord.apply` folds them, so
/// the stored row of a run is the fold of its stream from offset 1 (tested).
public struct RunEvent: Sendable, Equatable {
    public var at: Int64
    public var change: Change

    public init(at: Int64, _ change: Change) {
        self.at = at
        self.change = change
    }

    public enum Change: Sendable, Equatable {
        /// The run exists (status `queued`).
        case created(RunHeader)
        /// The run's status changed (running, awaiting_approval, cancelling).
        case status(RunStatus, reason: String?)
        /// An attempt of a node began.
        case nodeStarted(node: String, attempt: Int)
        /// A worker reported progress on a task.
        case nodeProgress(node: String, attempt: Int, data: Value)
        /// An attempt failed and another follows after `retryAt`.
        case nodeRetrying(node: String, attempt: Int, error: String, retryAt: Int64)
        /// An approval node waits for a decision.
        case nodeWaiting(node: String, prompt: String)
        /// A decision on an approval node.
        case nodeDecided(node: String, approved: Bool, by: String, comment: String?)
        /// A node produced its output (readable by later nodes as `nodes.ID.output`);
        /// `collected` for `output` nodes, whose value goes into the run's `outputs`.
        case nodeOutput(node: String, output: Value, collected: Bool)
        /// A node is resolved: ok, failed, skipped or cancelled.
        case nodeFinished(node: String, status: NodeStatus, error: String?)
        /// The run ended.
        case finished(RunStatus, reason: String?)
    }

    /// The `type` of the event in JSON.
    public var type: String {
        switch change {
        case .created: "run.created"
        case .status: "run.status"
        case .nodeStarted: "node.started"
        case .nodeProgress: "node.progress"
        case .nodeRetrying: "node.retrying"
        case .nodeWaiting: "node.waiting"
        case .nodeDecided: "node.decided"
        case .nodeOutput: "node.output"
        case .nodeFinished: "node.finished"
        case .finished: "run.finished"
        }
    }
}

/// What a run is, fixed when it is created.
public struct RunHeader: Sendable, Equatable {
    public var id: String
    public var workspace: String
    public var definitionID: String
    /// The definition version the run pinned, to its end.
    public var version: Int
    public var inputs: Value
    /// Who started it: a user id, a bot id, or a trigger (`trigger:…`).
    public var actor: String
    /// The client's idempotency key, if it gave one.
    public var key: String?
    /// The starter's display name and kind (`user`, `bot`), as workspace activity shows them
    /// (absent in older rows).
    public var actorName: String?
    public var actorKind: String?

    public init(id: String, workspace: String, definitionID: String, version: Int, inputs: Value,
                actor: String, key: String?, actorName: String? = nil, actorKind: String? = nil) {
        self.actorName = actorName
        self.actorKind = actorKind
        self.id = id
        self.workspace = workspace
        self.definitionID = definitionID
        self.version = version
        self.inputs = inputs
        self.actor = actor
        self.key = key
    }
}
