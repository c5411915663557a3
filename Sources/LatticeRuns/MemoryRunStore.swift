public import LatticeStreams
import Synchronization

/// A `RunStore` in memory, for tests of what sits on a run store, with the SQLite adapter's
/// semantics (the contract suite runs on both). Run rows change through `reserve` and
/// `apply(_:)`: hook `apply(attachment:)` to `MemoryDurableStreamStore(onAttachment:)` and a row changes at
/// its event's commit, as a SQLite store's does in its transaction.
public final class MemoryRunStore: RunStore, Sendable {
    private struct State {
        /// Every version of each definition, oldest first.
        var definitions: [String: [StoredDefinition]] = [:]
        var runs: [String: RunRecord] = [:]
        /// What an SQLite store would have put into its activity outbox with each change.
        var activity: [ActivityOutboxEntry] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// The workspace activity recorded with definition changes, oldest first (there is no
    /// relay in memory: tests read it here).
    public var recordedActivity: [ActivityOutboxEntry] { state.withLock { $0.activity } }

    /// Makes the row write an append carried (a `RunRowWrite`); other attachments are not a
    /// run store's and are ignored. Pass it as `MemoryDurableStreamStore(onAttachment:)`.
    public func apply(attachment: any DurableAppendAttachment) {
        guard let write = attachment as? RunRowWrite else { return }
        apply(write)
    }

    /// The run's row becomes `write.record`.
    public func apply(_ write: RunRowWrite) {
        state.withLock { $0.runs[write.record.id] = write.record }
    }

    // MARK: Definitions

    public func createDefinition(id: String?, workspace: String, definition: WorkflowDefinition,
                                 author: String, at: Int64, activity: DefinitionActivity?) async throws(RunStoreError) -> StoredDefinition {
        let stored = StoredDefinition(id: id ?? Self.makeID(prefix: "def_"), workspace: workspace, version: 1,
                                      definition: definition, author: author, createdAt: at)
        try state.withLock { (state) throws(RunStoreError) in
            guard state.definitions[stored.id] == nil else { throw .definitionExists(stored.id) }
            state.definitions[stored.id] = [stored]
            state.activity += activity?(stored) ?? []
        }
        return stored
    }

    public func updateDefinition(id: String, definition: WorkflowDefinition, expectedVersion: Int?,
                                 author: String, at: Int64, activity: DefinitionActivity?) async throws(RunStoreError) -> StoredDefinition {
        try state.withLock { (state) throws(RunStoreError) in
            guard let newest = state.definitions[id]?.last, newest.deletedAt == nil else { throw .definitionNotFound(id) }
            if let expectedVersion, expectedVersion != newest.version {
                throw .versionConflict(expected: expectedVersion, newest: newest.version)
            }
            let next = StoredDefinition(id: id, workspace: newest.workspace, version: newest.version + 1,
                                        definition: definition, author: author, createdAt: at)
            state.definitions[id, default: []].append(next)
            state.activity += activity?(next) ?? []
            return next
        }
    }

    public func deleteDefinition(id: String, at: Int64, activity: DefinitionActivity?) async throws(RunStoreError) {
        try state.withLock { (state) throws(RunStoreError) in
            guard var versions = state.definitions[id], let newest = versions.last, newest.deletedAt == nil else {
                throw .definitionNotFound(id)
            }
            for index in versions.indices { versions[index].deletedAt = at }
            state.definitions[id] = versions
            state.activity += activity?(versions[versions.count - 1]) ?? []
        }
    }

    public func definition(id: String, version: Int?) async throws(RunStoreError) -> StoredDefinition? {
        state.withLock { state in
            guard let versions = state.definitions[id] else { return nil }
            guard let version else { return versions.last }
            return versions.first { $0.version == version }
        }
    }

    public func definitions(workspace: String) async throws(RunStoreError) -> [StoredDefinition] {
        state.withLock { state in
            state.definitions.values.compactMap(\.last)
                .filter { $0.workspace == workspace && $0.deletedAt == nil }
                .sorted { $0.id < $1.id }
        }
    }

    public func triggeredDefinitions() async throws(RunStoreError) -> [StoredDefinition] {
        state.withLock { state in
            state.definitions.values.compactMap(\.last)
                .filter { $0.deletedAt == nil && !$0.definition.triggers.isEmpty }
                .sorted { $0.id < $1.id }
        }
    }

    public func versions(of id: String) async throws(RunStoreError) -> [StoredDefinition] {
        state.withLock { $0.definitions[id] ?? [] }
    }

    // MARK: Runs

    public func reserve(_ header: RunHeader, at: Int64) async throws(RunStoreError) -> RunReservation {
        var header = header
        if header.id.isEmpty { header.id = Self.makeID(prefix: "run_") }
        let record = RunRecord(header: header, createdAt: at)
        return try state.withLock { (state) throws(RunStoreError) in
            if let key = header.key,
               let existing = state.runs.values.first(where: { $0.header.workspace == header.workspace && $0.header.key == key }) {
                return .existing(existing)
            }
            guard state.runs[header.id] == nil else { throw .storeFailed("run \(header.id) exists") }
            state.runs[header.id] = record
            return .reserved(record)
        }
    }

    public func run(id: String) async throws(RunStoreError) -> RunRecord? {
        state.withLock { $0.runs[id] }
    }

    public func runs(_ query: RunQuery) async throws(RunStoreError) -> [RunRecord] {
        state.withLock { state in
            let cursor = query.before.map { before in state.runs[before].map { ($0.createdAt, $0.id) } }
            if case .some(.none) = cursor { return [] }  // an unknown `before`: nothing, as SQLite
            return state.runs.values
                .filter { run in
                    run.header.workspace == query.workspace
                        && (query.statuses.isEmpty || query.statuses.contains(run.status))
                        && (query.definitionID.map { $0 == run.header.definitionID } ?? true)
                        && (cursor.flatMap { $0 }.map { (run.createdAt, run.id) < $0 } ?? true)
                }
                .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
                .prefix(min(max(query.limit, 1), 500))
                .map { $0 }
        }
    }

    public func activeRuns() async throws(RunStoreError) -> [RunRecord] {
        state.withLock { state in
            state.runs.values.filter { !$0.status.isTerminal }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }

    public func runWorkspaces() async throws(RunStoreError) -> [String: String] {
        state.withLock { state in state.runs.mapValues(\.header.workspace) }
    }

    /// `prefix` + 16 hex digits (the SQLite store uses the CSPRNG; ids in memory need only be unique).
    private static func makeID(prefix: String) -> String {
        let hex = String(UInt64.random(in: .min ... .max), radix: 16)
        return prefix + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
