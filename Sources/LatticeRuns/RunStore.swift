public import LatticeStreams

/// One stored version of a definition.
public struct StoredDefinition: Sendable, Equatable {
    public var id: String
    public var workspace: String
    /// 1 for the first version; every edit adds one.
    public var version: Int
    public var definition: WorkflowDefinition
    /// Who made this version.
    public var author: String
    public var createdAt: Int64
    /// Set when the definition was deleted: its versions stay readable for the runs that pinned them.
    public var deletedAt: Int64?

    public init(id: String, workspace: String, version: Int, definition: WorkflowDefinition,
                author: String, createdAt: Int64, deletedAt: Int64? = nil) {
        self.id = id
        self.workspace = workspace
        self.version = version
        self.definition = definition
        self.author = author
        self.createdAt = createdAt
        self.deletedAt = deletedAt
    }
}

/// Why a run-store call did not happen.
public enum RunStoreError: Error, Sendable, Equatable {
    case definitionNotFound(String)
    /// An update named a version that is no longer the newest.
    case versionConflict(expected: Int, newest: Int)
    /// A definition id already taken (create with an explicit id).
    case definitionExists(String)
    case storeFailed(String)
}

/// The answer to `RunStore.reserve`.
public enum RunReservation: Sendable, Equatable {
    /// A new row, status `queued`; its `run.created` event is still to be appended.
    case reserved(RunRecord)
    /// The workspace already has a run with this idempotency key: that run.
    case existing(RunRecord)
}

/// A filter on listed runs.
public struct RunQuery: Sendable, Equatable {
    public var workspace: String
    public var statuses: [RunStatus]
    public var definitionID: String?
    /// Only runs created before this run (pagination by the previous page's last id).
    public var before: String?
    public var limit: Int

    public init(workspace: String, statuses: [RunStatus] = [], definitionID: String? = nil,
                before: String? = nil, limit: Int = 50) {
        self.workspace = workspace
        self.statuses = statuses
        self.definitionID = definitionID
        self.before = before
        self.limit = limit
    }
}

/// The write a durable store makes in the same transaction as a run event it appends to
/// `run/{id}`: the run's row as it is after that event. So the row and the stream can never
/// disagree, whatever moment the process dies at.
public struct RunRowWrite: DurableAppendAttachment, Equatable {
    public var record: RunRecord
    /// Workspace activity the event leads to (a summary: started, waiting for approval,
    /// finished), recorded in the store's outbox in the same transaction.
    public var activity: [ActivityOutboxEntry]
    public init(record: RunRecord, activity: [ActivityOutboxEntry] = []) {
        self.record = record
        self.activity = activity
    }
}

/// The storage the executor needs (definitions, versions, run rows). The run rows change only
/// through `RunRowWrite`s carried by appends to the run's stream (`DurableStreamStore`), and
/// through `reserve`. `LatticeStore` implements it on SQLite; `MemoryRunStore` is for tests.
public protocol RunStore: Sendable {
    // MARK: Definitions

    /// Stores version 1 of a new definition. `id` nil: the store makes one. `activity` (made
    /// from the stored version) is recorded in the store's activity outbox in the same
    /// transaction, for each of these three changes.
    func createDefinition(id: String?, workspace: String, definition: WorkflowDefinition,
                          author: String, at: Int64, activity: DefinitionActivity?) async throws(RunStoreError) -> StoredDefinition
    /// Stores the next version. With `expectedVersion`, refused unless it is the newest.
    func updateDefinition(id: String, definition: WorkflowDefinition, expectedVersion: Int?,
                          author: String, at: Int64, activity: DefinitionActivity?) async throws(RunStoreError) -> StoredDefinition
    /// Marks the definition deleted (its versions stay, for the runs that pinned them);
    /// `activity` gets the newest version as deleted.
    func deleteDefinition(id: String, at: Int64, activity: DefinitionActivity?) async throws(RunStoreError)
    /// A version of a definition, deleted or not; `version` nil: the newest.
    func definition(id: String, version: Int?) async throws(RunStoreError) -> StoredDefinition?
    /// The newest version of every definition of `workspace` not deleted, by id.
    func definitions(workspace: String) async throws(RunStoreError) -> [StoredDefinition]
    /// Every version of a definition, oldest first.
    func versions(of id: String) async throws(RunStoreError) -> [StoredDefinition]
    /// The newest version of every definition not deleted that has triggers, in every
    /// workspace (the server arms them at start-up).
    func triggeredDefinitions() async throws(RunStoreError) -> [StoredDefinition]

    // MARK: Runs

    /// Creates the row of a new run (status `queued`), unless the workspace already has a run
    /// with `header.key`: then that run is returned and nothing is written.
    func reserve(_ header: RunHeader, at: Int64) async throws(RunStoreError) -> RunReservation
    func run(id: String) async throws(RunStoreError) -> RunRecord?
    /// Runs of a workspace, newest first.
    func runs(_ query: RunQuery) async throws(RunStoreError) -> [RunRecord]
    /// Every run whose status is not terminal, oldest first (start-up reconciliation, queue).
    func activeRuns() async throws(RunStoreError) -> [RunRecord]
    /// The workspace of every run, by run id (the server's access check of `run/{id}` streams
    /// needs it without waiting on the store; loaded once at start-up).
    func runWorkspaces() async throws(RunStoreError) -> [String: String]
}

/// Workspace activity a definition change leads to, made from the stored version (its id and
/// version are the store's to give), recorded in the change's transaction.
public typealias DefinitionActivity = @Sendable (StoredDefinition) -> [ActivityOutboxEntry]

extension RunStore {
    /// The same changes, recording no activity (tests, seeding).
    public func createDefinition(id: String?, workspace: String, definition: WorkflowDefinition,
                                 author: String, at: Int64) async throws(RunStoreError) -> StoredDefinition {
        try await createDefinition(id: id, workspace: workspace, definition: definition, author: author, at: at, activity: nil)
    }

    public func updateDefinition(id: String, definition: WorkflowDefinition, expectedVersion: Int?,
                                 author: String, at: Int64) async throws(RunStoreError) -> StoredDefinition {
        try await updateDefinition(id: id, definition: definition, expectedVersion: expectedVersion, author: author, at: at, activity: nil)
    }

    public func deleteDefinition(id: String, at: Int64) async throws(RunStoreError) {
        try await deleteDefinition(id: id, at: at, activity: nil)
    }
}
