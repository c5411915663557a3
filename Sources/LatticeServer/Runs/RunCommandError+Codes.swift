import LatticeRuns

/// The stable code and sentence of each refused run command, the same over REST and lattice.v1
/// (docs/runs.md, "Errors").
extension RunCommandError {
    enum Kind: Sendable {
        case notFound, invalid, badRequest, conflict, internalError
    }

    var kind: Kind {
        switch self {
        case .definitionNotFound, .runNotFound: .notFound
        case .invalidDefinition: .invalid
        case .badInputs: .badRequest
        case .refused(let refusal):
            switch refusal {
            case .ambiguous: .badRequest
            case .unknownNode: .notFound
            case .finished, .alreadyCancelling, .notQueued, .notWaiting, .stale: .conflict
            }
        case .storeFailed: .internalError
        }
    }

    var code: String {
        switch self {
        case .definitionNotFound, .runNotFound: "not_found"
        case .invalidDefinition: "invalid"
        case .badInputs: "bad_request"
        case .refused(let refusal):
            switch refusal {
            case .finished: "run_finished"
            case .alreadyCancelling: "already_cancelling"
            case .notQueued, .notWaiting: "conflict"
            case .ambiguous: "bad_request"
            case .unknownNode: "not_found"
            case .stale: "stale"
            }
        case .storeFailed: "internal"
        }
    }

    var message: String {
        switch self {
        case .definitionNotFound(let id): "no definition \(id)"
        case .invalidDefinition(let errors): "the pinned definition does not validate: \(errors.map(\.description).joined(separator: "; "))"
        case .badInputs(let why): why
        case .runNotFound(let id): "no run \(id)"
        case .refused(let refusal):
            switch refusal {
            case .finished(let status): "the run has already ended (\(status.rawValue))"
            case .alreadyCancelling: "the run is already being cancelled"
            case .notQueued(let status): "the run is not queued (\(status.rawValue))"
            case .notWaiting(let node): node.map { "node \($0) does not wait for a decision (another decision may have won)" }
                ?? "no approval waits for a decision (another decision may have won)"
            case .ambiguous(let nodes): "several approvals wait (\(nodes.joined(separator: ", "))): name the node"
            case .unknownNode(let node): "the run's definition has no node \(node)"
            case .stale(let node, let attempt): "attempt \(attempt) of node \(node) is no longer current"
            }
        case .storeFailed(let why): "store failed: \(why)"
        }
    }
}
