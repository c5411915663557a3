public import LatticeProtocol

/// What the server sends a bot worker outside any answer.
public enum WorkerMessage: Sendable, Equatable {
    case assign(ServerMessage.TaskAssign)
    case cancel(ServerMessage.TaskCancel)
}

/// The answer to a run request: the run's row (JSON) and where its stream can be replayed from.
public struct RunAnswer: Sendable, Equatable {
    /// The run's stored row, as the server sent it (docs/runs.md, "The stored row").
    public var row: RawJSON
    /// `run/{id}`.
    public var stream: String
    /// The stream's epoch and newest offset when the server answered; `since` with this epoch
    /// and offset 0 replays the whole run.
    public var position: StreamPosition?
}

/// Runs and worker reports over the session (docs/protocol.md, "Runs and workers"). Each throws
/// `.server(code:…)` with the server's code when refused (e.g. `lease_ended`, `run_finished`).
extension LatticeSession {
    /// Starts a run of `definition` in `workspace`; `inputs` is a JSON object as text; the same
    /// `key` gives back the same run.
    public func startRun(workspace: String, definition: String, version: Int? = nil, inputs: String? = nil,
                         key: String? = nil) async throws -> RunAnswer {
        var raw: RawJSON?
        if let inputs {
            guard let value = RawJSON(validating: inputs), value.isObject else {
                throw LatticeClientError.refused(ProtocolError(.wrongType, "field 'inputs' must be a JSON object"))
            }
            raw = value
        }
        return try Self.runAnswer(try await request(.runStart(.init(workspace: workspace, definition: definition, version: version,
                                                                    inputs: raw, key: key))))
    }

    public func cancelRun(_ run: String, reason: String? = nil) async throws -> RunAnswer {
        try Self.runAnswer(try await request(.runCancel(.init(run: run, reason: reason))))
    }

    public func decideRun(_ run: String, approved: Bool, node: String? = nil, comment: String? = nil) async throws -> RunAnswer {
        try Self.runAnswer(try await request(.runApprove(.init(run: run, node: node, approved: approved, comment: comment))))
    }

    /// A heartbeat for `lease`, with progress `data` (JSON text) when given.
    public func taskProgress(lease: String, data: String? = nil) async throws {
        _ = try await request(.taskProgress(.init(lease: lease, data: try Self.json(data, field: "data"))))
    }

    public func completeTask(lease: String, output: String?) async throws {
        _ = try await request(.taskComplete(.init(lease: lease, output: try Self.json(output, field: "output"))))
    }

    public func failTask(lease: String, error: String, retryable: Bool = true) async throws {
        _ = try await request(.taskFail(.init(lease: lease, error: error, retryable: retryable)))
    }

    private static func json(_ text: String?, field: String) throws -> RawJSON? {
        guard let text else { return nil }
        guard let value = RawJSON(validating: text) else {
            throw LatticeClientError.refused(ProtocolError(.badJSON, "field '\(field)' is not one JSON value"))
        }
        return value
    }

    private static func runAnswer(_ ok: ServerMessage.OK) throws -> RunAnswer {
        guard let row = ok.run, let stream = ok.stream else {
            throw LatticeClientError.server(code: .internal, message: "a run answer without its run", stream: nil)
        }
        return RunAnswer(row: row, stream: stream.name, position: ok.position)
    }
}
