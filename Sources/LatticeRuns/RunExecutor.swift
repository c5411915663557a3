public import LatticeCRDT
public import NIOCore

/// A request to start a run.
public struct RunStartRequest: Sendable, Equatable {
    public var workspace: String
    public var definitionID: String
    /// nil: the newest version.
    public var version: Int?
    public var inputs: Value
    /// Who starts it (a user or bot id, or `trigger:…`).
    public var actor: String
    /// The client's idempotency key: the same key in the same workspace gives the same run.
    public var key: String?
    /// The starter's display name and kind (kept in the run's header for workspace activity).
    public var actorName: String?
    public var actorKind: String?

    public init(workspace: String, definitionID: String, version: Int? = nil, inputs: Value = .object([:]),
                actor: String, key: String? = nil, actorName: String? = nil, actorKind: String? = nil) {
        self.actorName = actorName
        self.actorKind = actorKind
        self.workspace = workspace
        self.definitionID = definitionID
        self.version = version
        self.inputs = inputs
        self.actor = actor
        self.key = key
    }
}

/// Why a run command was not carried out.
public enum RunCommandError: Error, Sendable, Equatable {
    case definitionNotFound(String)
    /// The pinned definition does not validate (checked again at start).
    case invalidDefinition([DefinitionError])
    /// The inputs are not an object, or larger than `RunLimits.maxInputBytes`.
    case badInputs(String)
    case runNotFound(String)
    /// The run's state machine refused the input (finished, already cancelling, not waiting…).
    case refused(RunRefusal)
    case storeFailed(String)
}

/// Drives runs: one `RunMachine` per active run, on one event loop (no lock, and no thread
/// ever blocks while a run waits: delays and timeouts are scheduled tasks of the loop).
///
/// Each input goes to the run's machine; the events it makes are appended to `run/{id}` in
/// order, each with the row as it is after it; the actions (timers, task offers, task cancels)
/// are carried out once the last of those events is committed, and the caller's answer comes
/// then too, so whatever a client was told has happened is on disk.
public final class RunExecutor: Sendable {
    let store: any RunStore
    let log: any RunEventLog
    let tasks: any TaskDispatcher
    public let loop: any EventLoop
    let clock: @Sendable () -> Int64
    public let limits: RunLimits
    let state: NIOLoopBoundBox<ExecutorState>

    public init(store: any RunStore, log: any RunEventLog, tasks: any TaskDispatcher, loop: any EventLoop,
                limits: RunLimits = RunLimits(), clock: @escaping @Sendable () -> Int64) {
        self.store = store
        self.log = log
        self.tasks = tasks
        self.loop = loop
        self.limits = limits
        self.clock = clock
        state = .makeBoxSendingValue(ExecutorState(), as: ExecutorState.self, eventLoop: loop)
    }

    // MARK: Commands

    /// Creates a run (`queued`) and starts it as soon as a slot is free. Returns its row once
    /// `run.created` is committed; with a key already used in the workspace, the run of that key.
    public func start(_ request: RunStartRequest) async throws(RunCommandError) -> RunRecord {
        try await begin(request).record
    }

    /// `start`, saying whether the run is new (false: an earlier start with the same key made it).
    public func begin(_ request: RunStartRequest) async throws(RunCommandError) -> (record: RunRecord, isNew: Bool) {
        guard case .object = request.inputs else { throw .badInputs("inputs must be a JSON object") }
        let size = request.inputs.json.utf8.count
        guard size <= limits.maxInputBytes else {
            throw .badInputs("inputs are \(size) bytes; the limit is \(limits.maxInputBytes)")
        }
        let stored: StoredDefinition?
        do { stored = try await store.definition(id: request.definitionID, version: request.version) } catch { throw Self.storeError(error) }
        guard let stored, stored.workspace == request.workspace, request.version != nil || stored.deletedAt == nil else {
            throw .definitionNotFound(request.definitionID)
        }
        let problems = DefinitionValidator.validate(stored.definition)
        guard problems.isEmpty else { throw .invalidDefinition(problems) }
        let header = RunHeader(id: RunIDs.make(), workspace: request.workspace, definitionID: stored.id, version: stored.version,
                               inputs: request.inputs, actor: request.actor, key: request.key, actorName: request.actorName,
                               actorKind: request.actorKind)
        let reservation: RunReservation
        do { reservation = try await store.reserve(header, at: clock()) } catch { throw Self.storeError(error) }
        switch reservation {
        case .existing(let record):
            return (record, false)
        case .reserved(let record):
            let created = try await submit { executor in
                executor.create(record, definition: stored.definition)
            }
            return (created, true)
        }
    }

    public func cancel(run: String, reason: String, by actor: String) async throws(RunCommandError) -> RunRecord {
        try await send(.cancel(reason: reason, by: actor), to: run)
    }

    public func decide(run: String, node: String?, approved: Bool, by actor: String, comment: String?) async throws(RunCommandError) -> RunRecord {
        try await send(.decide(node: node, approved: approved, by: actor, comment: comment), to: run)
    }

    public func taskProgress(run: String, node: String, attempt: Int, data: Value) async throws(RunCommandError) -> RunRecord {
        try await send(.taskProgress(node: node, attempt: attempt, data: data), to: run)
    }

    public func taskCompleted(run: String, node: String, attempt: Int, output: Value) async throws(RunCommandError) -> RunRecord {
        try await send(.taskCompleted(node: node, attempt: attempt, output: output), to: run)
    }

    public func taskFailed(run: String, node: String, attempt: Int, error: String, retryable: Bool) async throws(RunCommandError) -> RunRecord {
        try await send(.taskFailed(node: node, attempt: attempt, error: error, retryable: retryable), to: run)
    }

    public func taskStopped(run: String, node: String, attempt: Int) async throws(RunCommandError) -> RunRecord {
        try await send(.taskStopped(node: node, attempt: attempt), to: run)
    }

    /// Start-up reconciliation: every run the store holds as active is handed `recover` (it
    /// ends `interrupted`, or keeps waiting, or continues: see `RunMachine.recover`), and queued
    /// runs are queued again in their order. Returns the runs it looked at, as they are after.
    public func recover() async throws(RunCommandError) -> [RunRecord] {
        let active: [RunRecord]
        do { active = try await store.activeRuns() } catch { throw Self.storeError(error) }
        var recovered: [RunRecord] = []
        for record in active {
            let stored: StoredDefinition?
            do { stored = try await store.definition(id: record.header.definitionID, version: record.header.version) } catch { throw Self.storeError(error) }
            recovered.append(try await submit { executor in
                executor.adopt(record, definition: stored?.definition)
            })
        }
        return recovered
    }

    /// The active runs this executor drives (tests, metrics).
    public func activeRunCount() async -> Int {
        (try? await loop.submit { self.state.value.runs.count }.get()) ?? 0
    }

    // MARK: Plumbing

    /// Runs `body` on the loop; it answers through the promise it is given.
    func submit<Answer: Sendable>(_ body: @escaping @Sendable (RunExecutor) -> EventLoopFuture<Answer>) async throws(RunCommandError) -> Answer {
        do {
            return try await loop.flatSubmit { body(self) }.get()
        } catch let error as RunCommandError {
            throw error
        } catch {
            throw .storeFailed("\(error)")
        }
    }

    func send(_ input: RunMachine.Input, to run: String) async throws(RunCommandError) -> RunRecord {
        let onLoop = try await submit { executor in executor.handle(input, run: run) }
        if let onLoop { return onLoop }
        // Not active here: a finished run (or none) answers from its row.
        let record: RunRecord?
        do { record = try await store.run(id: run) } catch { throw Self.storeError(error) }
        guard let record else { throw .runNotFound(run) }
        if record.status.isTerminal { throw .refused(.finished(record.status)) }
        throw .runNotFound(run)
    }

    static func storeError(_ error: RunStoreError) -> RunCommandError {
        switch error {
        case .definitionNotFound(let id): .definitionNotFound(id)
        default: .storeFailed("\(error)")
        }
    }
}

/// Run ids: `run_` and 16 random hex digits.
enum RunIDs {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bits = generator.next() as UInt64
        let hex = String(bits, radix: 16)
        return "run_" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
