import Foundation
import GRDB
import LatticeAuth
public import LatticeRuns

/// Definitions and run rows (migration v7). Reads go through the pool's readers, off the event
/// loops; definition writes and `reserve` through the pool's writer, between the group-commit
/// writer's batches. A run row otherwise changes only in the transaction of its run event
/// (`RunRowWrite`, applied by `AttachmentWrite`), so the row never disagrees with the stream.
extension SQLiteStore: RunStore {
    // MARK: Definitions

    public func createDefinition(id: String?, workspace: String, definition: WorkflowDefinition,
                                 author: String, at: Int64, activity: DefinitionActivity?) async throws(RunStoreError) -> StoredDefinition {
        let stored = StoredDefinition(id: id ?? Crypto.makeID(prefix: "def_"), workspace: workspace, version: 1,
                                      definition: definition, author: author, createdAt: at)
        return try await runWrite { db in
            if try Self.newestDefinition(id: stored.id, db) != nil { throw RunStoreError.definitionExists(stored.id) }
            try Self.insert(stored, db)
            try AttachmentWrite.recordActivity(activity?(stored) ?? []).apply(db)
            return stored
        }
    }

    public func updateDefinition(id: String, definition: WorkflowDefinition, expectedVersion: Int?,
                                 author: String, at: Int64, activity: DefinitionActivity?) async throws(RunStoreError) -> StoredDefinition {
        try await runWrite { db in
            guard let newest = try Self.newestDefinition(id: id, db), newest.deletedAt == nil else {
                throw RunStoreError.definitionNotFound(id)
            }
            if let expectedVersion, expectedVersion != newest.version {
                throw RunStoreError.versionConflict(expected: expectedVersion, newest: newest.version)
            }
            let next = StoredDefinition(id: id, workspace: newest.workspace, version: newest.version + 1,
                                        definition: definition, author: author, createdAt: at)
            try Self.insert(next, db)
            try AttachmentWrite.recordActivity(activity?(next) ?? []).apply(db)
            return next
        }
    }

    public func deleteDefinition(id: String, at: Int64, activity: DefinitionActivity?) async throws(RunStoreError) {
        try await runWrite { db in
            guard let newest = try Self.newestDefinition(id: id, db), newest.deletedAt == nil else {
                throw RunStoreError.definitionNotFound(id)
            }
            // Every version is marked, so a pinned version read later says it was deleted.
            try db.execute(sql: "UPDATE run_definitions SET deleted_at = ? WHERE id = ?", arguments: [at, id])
            var deleted = newest
            deleted.deletedAt = at
            try AttachmentWrite.recordActivity(activity?(deleted) ?? []).apply(db)
        }
    }

    public func definition(id: String, version: Int?) async throws(RunStoreError) -> StoredDefinition? {
        try await runRead { db in
            guard let version else { return try Self.newestDefinition(id: id, db) }
            return try Row.fetchOne(db, sql: "SELECT * FROM run_definitions WHERE id = ? AND version = ?",
                                    arguments: [id, version]).map(Self.storedDefinition)
        }
    }

    public func definitions(workspace: String) async throws(RunStoreError) -> [StoredDefinition] {
        try await runRead { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM run_definitions AS d
                WHERE d.workspace = ? AND d.deleted_at IS NULL
                  AND d.version = (SELECT MAX(version) FROM run_definitions WHERE id = d.id)
                ORDER BY d.id
                """, arguments: [workspace]).map(Self.storedDefinition)
        }
    }

    public func triggeredDefinitions() async throws(RunStoreError) -> [StoredDefinition] {
        try await runRead { db in
            // The LIKE only narrows the read; the decoded definition decides.
            try Row.fetchAll(db, sql: """
                SELECT * FROM run_definitions AS d
                WHERE d.deleted_at IS NULL AND d.body LIKE '%"triggers"%'
                  AND d.version = (SELECT MAX(version) FROM run_definitions WHERE id = d.id)
                ORDER BY d.id
                """).map(Self.storedDefinition).filter { !$0.definition.triggers.isEmpty }
        }
    }

    public func versions(of id: String) async throws(RunStoreError) -> [StoredDefinition] {
        try await runRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM run_definitions WHERE id = ? ORDER BY version",
                             arguments: [id]).map(Self.storedDefinition)
        }
    }

    // MARK: Runs

    public func reserve(_ header: RunHeader, at: Int64) async throws(RunStoreError) -> RunReservation {
        var named = header
        if named.id.isEmpty { named.id = Crypto.makeID(prefix: "run_") }
        let record = RunRecord(header: named, createdAt: at)
        return try await runWrite { db in
            if let key = record.header.key,
               let existing = try Row.fetchOne(db, sql: "SELECT body FROM runs WHERE workspace = ? AND key = ?",
                                               arguments: [record.header.workspace, key]) {
                return .existing(try Self.runRecord(existing))
            }
            try Self.writeRunRow(record, db)
            return .reserved(record)
        }
    }

    public func run(id: String) async throws(RunStoreError) -> RunRecord? {
        try await runRead { db in
            try Row.fetchOne(db, sql: "SELECT body FROM runs WHERE id = ?", arguments: [id]).map(Self.runRecord)
        }
    }

    public func runs(_ query: RunQuery) async throws(RunStoreError) -> [RunRecord] {
        var sql = "SELECT body FROM runs WHERE workspace = ?"
        var arguments: StatementArguments = [query.workspace]
        if !query.statuses.isEmpty {
            sql += " AND status IN (\(databaseQuestionMarks(count: query.statuses.count)))"
            arguments += StatementArguments(query.statuses.map(\.rawValue))
        }
        if let definitionID = query.definitionID {
            sql += " AND definition_id = ?"
            arguments += [definitionID]
        }
        if let before = query.before {
            // Strictly older than that run in the list's order (an unknown id: nothing).
            sql += " AND (created_at, id) < (SELECT created_at, id FROM runs WHERE id = ?)"
            arguments += [before]
        }
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        arguments += [min(max(query.limit, 1), 500)]
        let (statement, values) = (sql, arguments)
        return try await runRead { db in
            try Row.fetchAll(db, sql: statement, arguments: values).map(Self.runRecord)
        }
    }

    public func activeRuns() async throws(RunStoreError) -> [RunRecord] {
        let active = RunStatus.active.map(\.rawValue)
        return try await runRead { db in
            try Row.fetchAll(db, sql: """
                SELECT body FROM runs WHERE status IN (\(databaseQuestionMarks(count: active.count)))
                ORDER BY created_at, id
                """, arguments: StatementArguments(active)).map(Self.runRecord)
        }
    }

    public func runWorkspaces() async throws(RunStoreError) -> [String: String] {
        try await runRead { db in
            var table: [String: String] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT id, workspace FROM runs")
            while let row = try rows.next() { table[row["id"]] = row["workspace"] }
            return table
        }
    }

    // MARK: Rows

    /// The run's row as `record` says, inserted or replaced (a `RunRowWrite`, inside the
    /// transaction of its event; `reserve`). The filtered columns follow the record.
    static func writeRunRow(_ record: RunRecord, _ db: Database) throws {
        // Cached: the writer makes this statement for most run events (parsing it each time
        // showed in profiles of `lattice bench runs`).
        let statement = try db.cachedStatement(sql: """
            INSERT INTO runs (id, workspace, definition_id, version, status, key, created_at, updated_at, body)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, body = excluded.body
            """)
        try statement.execute(arguments: [record.id, record.header.workspace, record.header.definitionID, record.header.version,
                                          record.status.rawValue, record.header.key, record.createdAt, record.updatedAt, record.json])
    }

    private static func insert(_ stored: StoredDefinition, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO run_definitions (id, workspace, version, body, author, created_at, deleted_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [stored.id, stored.workspace, stored.version, stored.definition.json, stored.author,
                             stored.createdAt, stored.deletedAt])
    }

    private static func newestDefinition(id: String, _ db: Database) throws -> StoredDefinition? {
        try Row.fetchOne(db, sql: "SELECT * FROM run_definitions WHERE id = ? ORDER BY version DESC LIMIT 1",
                         arguments: [id]).map(storedDefinition)
    }

    /// A stored version was accepted when it was written: a limit lowered since does not hide it.
    private static let storedBodyLimits = DefinitionLimits(maxNodes: .max, maxBytes: .max)

    /// A stored body that no longer reads is reported, never trusted or crashed on.
    private static func storedDefinition(_ row: Row) throws -> StoredDefinition {
        let id: String = row["id"]
        let definition: WorkflowDefinition
        do { definition = try WorkflowDefinition(json: row["body"], limits: storedBodyLimits) } catch {
            throw RunStoreError.storeFailed("definition \(id) version \(row["version"] as Int): its stored body does not read: \(error)")
        }
        return StoredDefinition(id: id, workspace: row["workspace"], version: row["version"], definition: definition,
                                author: row["author"], createdAt: row["created_at"], deletedAt: row["deleted_at"])
    }

    private static func runRecord(_ row: Row) throws -> RunRecord {
        do { return try RunRecord(json: row["body"]) } catch {
            throw RunStoreError.storeFailed("a stored run row does not read: \(error)")
        }
    }

    // MARK: Errors

    private func runRead<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(RunStoreError) -> T {
        do { return try await pool.read { db in try body(db) } } catch { throw Self.runStoreError(error) }
    }

    private func runWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(RunStoreError) -> T {
        do { return try await pool.write { db in try body(db) } } catch { throw Self.runStoreError(error) }
    }

    private static func runStoreError(_ error: any Error) -> RunStoreError {
        (error as? RunStoreError) ?? .storeFailed(String(describing: error))
    }
}
