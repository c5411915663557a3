public import LatticeCRDT

/// The stored row of a run: the fold of its events (`apply`). Everything a second server node
/// would need to continue the run is here, none of it only in memory.
public struct RunRecord: Sendable, Equatable {
    public var header: RunHeader
    public var status: RunStatus
    public var nodes: [String: NodeRecord]
    /// The values of `output` nodes, by node id.
    public var outputs: [String: Value]
    /// Node attempts begun so far (the cap is the definition's `maxVisits`).
    public var visits: Int
    /// Whether any attempt was retried (an ok run then ends `retried_ok`).
    public var retried: Bool
    /// Why the run is cancelling or ended as it did, when there is a reason to tell.
    public var reason: String?
    public var createdAt: Int64
    public var startedAt: Int64?
    public var finishedAt: Int64?
    /// When the status last changed.
    public var updatedAt: Int64

    public init(header: RunHeader, createdAt: Int64) {
        self.header = header
        status = .queued
        nodes = [:]
        outputs = [:]
        visits = 0
        retried = false
        reason = nil
        self.createdAt = createdAt
        startedAt = nil
        finishedAt = nil
        updatedAt = createdAt
    }

    public var id: String { header.id }

    public func node(_ id: String) -> NodeRecord { nodes[id] ?? NodeRecord() }

    /// The outputs of nodes, by node id (what `nodes.ID.output` references read).
    public var nodeOutputs: [String: Value] { nodes.compactMapValues(\.output) }

    /// Folds a run's whole history; nil when it does not begin with `run.created`.
    public static func replay(_ events: [RunEvent]) -> RunRecord? {
        guard let first = events.first, case .created(let header) = first.change else { return nil }
        var record = RunRecord(header: header, createdAt: first.at)
        for event in events.dropFirst() { record.apply(event) }
        return record
    }

    /// Applies the next event of the run.
    public mutating func apply(_ event: RunEvent) {
        switch event.change {
        case .created:
            break
        case .status(let status, let reason):
            if status == .running, startedAt == nil { startedAt = event.at }
            self.status = status
            if let reason { self.reason = reason }
            updatedAt = event.at
        case .nodeStarted(let id, let attempt):
            var node = node(id)
            node.status = .running
            node.attempt = attempt
            node.startedAt = event.at
            node.retryAt = nil
            nodes[id] = node
            visits += 1
        case .nodeProgress(let id, _, let data):
            nodes[id, default: NodeRecord()].progress = data
        case .nodeRetrying(let id, _, let error, let retryAt):
            var node = node(id)
            node.status = .retrying
            node.error = error
            node.retryAt = retryAt
            node.retriesUsed += 1
            nodes[id] = node
            retried = true
        case .nodeWaiting(let id, _):
            var node = node(id)
            node.status = .waiting
            nodes[id] = node
        case .nodeDecided(let id, let approved, let by, let comment):
            nodes[id, default: NodeRecord()].decision = ApprovalDecision(approved: approved, by: by, comment: comment, at: event.at)
        case .nodeOutput(let id, let output, let collected):
            nodes[id, default: NodeRecord()].output = output
            if collected { outputs[id] = output }
        case .nodeFinished(let id, let status, let error):
            var node = node(id)
            node.status = status
            node.error = error
            node.retryAt = nil
            node.finishedAt = event.at
            nodes[id] = node
        case .finished(let status, let reason):
            self.status = status
            if let reason { self.reason = reason }
            finishedAt = event.at
            updatedAt = event.at
        }
    }
}

/// Where one node of a run stands.
public struct NodeRecord: Sendable, Equatable {
    public var status: NodeStatus = .pending
    /// The current (or last) attempt, from 1; 0 before the first.
    public var attempt: Int = 0
    public var output: Value?
    public var error: String?
    /// The last progress a worker reported.
    public var progress: Value?
    public var decision: ApprovalDecision?
    public var startedAt: Int64?
    public var finishedAt: Int64?
    /// While `retrying`: when the next attempt starts.
    public var retryAt: Int64?
    /// Failed attempts that were retried (the node's `retries` bounds it). Not the same as
    /// `attempt - 1`: an attempt restarted after a server restart uses no retry.
    public var retriesUsed: Int = 0

    public init() {}
}

/// A decision on an approval node.
public struct ApprovalDecision: Sendable, Equatable {
    public var approved: Bool
    /// Who decided (a user id).
    public var by: String
    public var comment: String?
    public var at: Int64

    public init(approved: Bool, by: String, comment: String?, at: Int64) {
        self.approved = approved
        self.by = by
        self.comment = comment
        self.at = at
    }
}
