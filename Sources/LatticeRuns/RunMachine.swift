/// The run state machine (docs/runs.md, "Statuses" and "How a run proceeds"). Pure: no I/O, no
/// clock — `now` comes with every input — and no state besides `record`, the run's stored row,
/// so a machine rebuilt from the row after a restart carries on exactly where it was.
///
/// Every change is an event: `handle` appends events (each applied to `record` as it is made,
/// through `RunRecord.apply`, the same fold a replay of `run/{id}` uses) and returns them with
/// the actions the executor carries out. An input that makes no sense now is refused with a
/// `RunRefusal` and changes nothing.
public struct RunMachine: Sendable {
    public let definition: WorkflowDefinition
    public private(set) var record: RunRecord
    /// How long workers get to confirm a cancelled task before the run ends `cancelled` anyway.
    public var cancelGraceMillis: Int64
    let predecessors: [String: [String]]
    private var step = Step()
    /// The time of the input being handled.
    private(set) var now: Int64 = 0

    public init(definition: WorkflowDefinition, record: RunRecord, cancelGraceMillis: Int64 = 10_000) {
        self.definition = definition
        self.record = record
        self.cancelGraceMillis = cancelGraceMillis
        predecessors = DefinitionValidator.predecessors(in: definition)
    }

    /// A new run's machine and its first event (`run.created`, status `queued`).
    public static func create(_ header: RunHeader, definition: WorkflowDefinition, at now: Int64,
                              cancelGraceMillis: Int64 = 10_000) -> (RunMachine, RunEvent) {
        let event = RunEvent(at: now, .created(header))
        return (RunMachine(definition: definition, record: RunRecord(header: header, createdAt: now),
                           cancelGraceMillis: cancelGraceMillis), event)
    }

    public var status: RunStatus { record.status }

    public mutating func handle(_ input: Input, now: Int64) throws(RunRefusal) -> Step {
        self.now = now
        step = Step()
        try check(input)
        switch input {
        case .start:
            emit(.status(.running, reason: nil))
            guard let entry = DefinitionValidator.entry(of: definition) else {
                failRun("the definition has no entry node")
                break
            }
            activate(entry)
        case .timer(let timer): fire(timer)
        case .taskProgress(let node, let attempt, let data):
            emit(.nodeProgress(node: node, attempt: attempt, data: data))
        case .taskCompleted(let node, _, let output):
            emit(.nodeOutput(node: node, output: output, collected: false))
            if record.status == .cancelling {
                emit(.nodeFinished(node: node, status: .ok, error: nil))
            } else {
                succeed(node)
            }
        case .taskFailed(let node, _, let error, let retryable):
            if record.status == .cancelling {
                emit(.nodeFinished(node: node, status: .cancelled, error: error))
            } else {
                failAttempt(node, error: error, retryable: retryable)
            }
        case .taskStopped(let node, _):
            emit(.nodeFinished(node: node, status: .cancelled, error: record.reason))
        case .decide(let node, let approved, let by, let comment):
            decide(try waitingApproval(node), approved: approved, by: by, comment: comment)
        case .cancel(let reason, let by):
            cancel(reason: reason, by: by)
        case .recover:
            recover()
        }
        settle()
        return step
    }

    /// Refuses an input that does not apply to the run as it stands.
    private func check(_ input: Input) throws(RunRefusal) {
        if record.status.isTerminal { throw .finished(record.status) }
        switch input {
        case .start:
            if record.status != .queued { throw .notQueued(record.status) }
        case .timer, .recover:
            break
        case .taskProgress(let node, let attempt, _), .taskCompleted(let node, let attempt, _),
             .taskFailed(let node, let attempt, _, _), .taskStopped(let node, let attempt):
            guard case .task? = definition.node(node)?.kind else { throw .unknownNode(node) }
            let current = record.node(node)
            if current.status != .running || current.attempt != attempt { throw .stale(node: node, attempt: attempt) }
        case .decide:
            if record.status == .cancelling { throw .alreadyCancelling }
        case .cancel:
            if record.status == .cancelling { throw .alreadyCancelling }
        }
    }

    // MARK: Events

    /// Appends one event and folds it into the row.
    mutating func emit(_ change: RunEvent.Change) {
        let event = RunEvent(at: now, change)
        record.apply(event)
        step.events.append(event)
    }

    mutating func act(_ action: Action) {
        step.actions.append(action)
    }

    var openNodes: [String] {
        definition.nodes.map(\.id).filter { id in
            let status = record.node(id).status
            return status == .running || status == .waiting || status == .retrying
        }
    }

    /// After every input: ends the run when nothing is left open, and keeps the status true
    /// (`awaiting_approval` while only approvals are open, `running` otherwise).
    private mutating func settle() {
        guard !record.status.isTerminal else { return }
        let open = openNodes
        if record.status == .cancelling {
            if open.isEmpty { finish(.cancelled, reason: record.reason) }
            return
        }
        guard record.status != .queued else { return }
        if open.isEmpty {
            let partial = definition.nodes.contains { record.node($0.id).status == .failed }
            finish(partial ? .partial : (record.retried ? .retriedOK : .ok), reason: nil)
            return
        }
        let onlyApprovals = open.allSatisfy { record.node($0).status == .waiting }
        let status: RunStatus = onlyApprovals ? .awaitingApproval : .running
        if status != record.status { emit(.status(status, reason: nil)) }
    }

    /// Ends the run. Nodes it never reached are marked skipped, so every node of a finished run
    /// is resolved.
    mutating func finish(_ status: RunStatus, reason: String?) {
        for node in definition.nodes where record.node(node.id).status == .pending {
            emit(.nodeFinished(node: node.id, status: .skipped, error: nil))
        }
        emit(.finished(status, reason: reason))
        act(.finished(status))
    }
}
