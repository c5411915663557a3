/// Where a run stands (docs/runs.md, "Statuses").
public enum RunStatus: String, Sendable, CaseIterable, Codable {
    /// Created, waiting for a free slot (the server and workspace limits).
    case queued
    /// At least one node is being worked on.
    case running
    /// Every node still open waits for a human decision.
    case awaitingApproval = "awaiting_approval"
    /// A cancel was asked for; workers were told to stop their tasks.
    case cancelling
    case ok
    /// Finished ok after at least one retry.
    case retriedOK = "retried_ok"
    case failed
    /// An approval was denied.
    case rejected
    case cancelled
    /// The server stopped while the run was active, and the definition is not resumable.
    case interrupted
    /// Finished, but a node marked `continueOnFailure` failed on the way.
    case partial

    public var isTerminal: Bool {
        switch self {
        case .queued, .running, .awaitingApproval, .cancelling: false
        case .ok, .retriedOK, .failed, .rejected, .cancelled, .interrupted, .partial: true
        }
    }

    public static let active: [RunStatus] = allCases.filter { !$0.isTerminal }
}

/// Where one node of a run stands.
public enum NodeStatus: String, Sendable, CaseIterable, Codable {
    /// Not reached yet.
    case pending
    /// An attempt is under way (a task out to a worker, a delay counting down).
    case running
    /// Waiting for a decision (approval nodes).
    case waiting
    /// Between attempts: waiting out the backoff before the next one.
    case retrying
    case ok
    case failed
    /// Not on the path the run took (a condition's other branch, or after a failed optional node).
    case skipped
    case cancelled

    public var isResolved: Bool {
        switch self {
        case .pending, .running, .waiting, .retrying: false
        case .ok, .failed, .skipped, .cancelled: true
        }
    }
}
