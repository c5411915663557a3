import LatticeAuth
import LatticeCRDT
import LatticeRuns
import LatticeStreams
import NIOCore
import Testing
@testable import LatticeStore

/// The run store adapters the contract runs on.
enum RunStoreKind: String, CaseIterable, CustomStringConvertible {
    case memory, sqlite
    var description: String { rawValue }
}

/// A run store and the durable stream store whose appends carry its `RunRowWrite`s (one
/// SQLite store is both; in memory the stream store applies them through `onAttachment`).
struct RunStoreFixture {
    let runs: any RunStore
    let streams: any DurableStreamStore

    /// Appends `event` to the run's stream with the row it leads to, and waits for the commit.
    func append(_ event: RunEvent, to record: inout RunRecord) async throws -> UInt64 {
        record.apply(event)
        return try await commit(stream: "run/\(record.id)", data: "{\"type\":\"\(event.type)\"}",
                                attachment: RunRowWrite(record: record)).get()
    }

    func commit(stream: String, data: String, attachment: (any DurableAppendAttachment)?) async -> Result<UInt64, DurableAppendError> {
        await withCheckedContinuation { continuation in
            streams.append(stream: stream, data: ByteBuffer(string: data), key: nil, attachment: attachment) {
                continuation.resume(returning: $0)
            }
        }
    }
}

func withRunStore<T>(_ kind: RunStoreKind, _ body: (RunStoreFixture) async throws -> T) async throws -> T {
    switch kind {
    case .memory:
        let runs = MemoryRunStore()
        let streams = MemoryDurableStreamStore(onAttachment: { runs.apply(attachment: $0) })
        return try await body(RunStoreFixture(runs: runs, streams: streams))
    case .sqlite:
        return try await withStore { store, _ in try await body(RunStoreFixture(runs: store, streams: store)) }
    }
}

/// The `RunStore` contract, on both adapters: definitions keep every version, run rows are
/// reserved once per idempotency key and change with their events' commits.
@Suite struct RunStoreContractTests {
    func definition(_ name: String) -> WorkflowDefinition {
        WorkflowDefinition(name: name, nodes: [WorkflowNode(id: "a", kind: .emit(data: .string(name)))])
    }

    func header(_ id: String, workspace: String = "ws", definition: String = "def_a", key: String? = nil) -> RunHeader {
        RunHeader(id: id, workspace: workspace, definitionID: definition, version: 1, inputs: .object([:]),
                  actor: "u_ada", key: key)
    }

    func reserved(_ runs: any RunStore, _ header: RunHeader, at: Int64) async throws -> RunRecord {
        guard case .reserved(let record) = try await runs.reserve(header, at: at) else {
            throw RunStoreError.storeFailed("\(header.id) was not reserved")
        }
        return record
    }

    @Test(arguments: RunStoreKind.allCases)
    func everyUpdateIsANewVersionAndPinnedVersionsStayReadable(_ kind: RunStoreKind) async throws {
        try await withRunStore(kind) { fixture in
            let runs = fixture.runs
            let first = try await runs.createDefinition(id: nil, workspace: "ws", definition: definition("one"), author: "u_ada", at: 10)
            #expect(first.id.hasPrefix("def_") && first.id.count == 20)
            #expect(first.version == 1 && first.deletedAt == nil)
            let second = try await runs.updateDefinition(id: first.id, definition: definition("two"), expectedVersion: 1, author: "u_bob", at: 20)
            let third = try await runs.updateDefinition(id: first.id, definition: definition("three"), expectedVersion: nil, author: "u_ada", at: 30)
            #expect(second.version == 2 && third.version == 3 && second.author == "u_bob" && third.workspace == "ws")
            #expect(try await runs.versions(of: first.id) == [first, second, third])
            #expect(try await runs.definition(id: first.id, version: 1) == first)
            #expect(try await runs.definition(id: first.id, version: nil) == third)
            #expect(try await runs.definitions(workspace: "ws") == [third])
            #expect(try await runs.definitions(workspace: "other") == [])

            try await runs.deleteDefinition(id: first.id, at: 40)
            #expect(try await runs.definitions(workspace: "ws") == [])
            let pinned = try await runs.definition(id: first.id, version: 1)
            #expect(pinned?.definition == definition("one") && pinned?.deletedAt == 40)
            #expect(try await runs.definition(id: first.id, version: nil)?.version == 3)
            await #expect(throws: RunStoreError.definitionNotFound(first.id)) {
                _ = try await runs.updateDefinition(id: first.id, definition: definition("four"), expectedVersion: nil, author: "u_ada", at: 50)
            }
            await #expect(throws: RunStoreError.definitionNotFound(first.id)) { try await runs.deleteDefinition(id: first.id, at: 50) }
            #expect(try await runs.versions(of: first.id).count == 3)
        }
    }

    @Test(arguments: RunStoreKind.allCases)
    func takenIdsStaleVersionsAndUnknownDefinitionsAreRefused(_ kind: RunStoreKind) async throws {
        try await withRunStore(kind) { fixture in
            let runs = fixture.runs
            _ = try await runs.createDefinition(id: "def_x", workspace: "ws", definition: definition("x"), author: "u_ada", at: 1)
            await #expect(throws: RunStoreError.definitionExists("def_x")) {
                _ = try await runs.createDefinition(id: "def_x", workspace: "other", definition: definition("y"), author: "u_ada", at: 2)
            }
            await #expect(throws: RunStoreError.versionConflict(expected: 5, newest: 1)) {
                _ = try await runs.updateDefinition(id: "def_x", definition: definition("z"), expectedVersion: 5, author: "u_ada", at: 3)
            }
            await #expect(throws: RunStoreError.definitionNotFound("def_none")) {
                _ = try await runs.updateDefinition(id: "def_none", definition: definition("z"), expectedVersion: nil, author: "u_ada", at: 3)
            }
            await #expect(throws: RunStoreError.definitionNotFound("def_none")) { try await runs.deleteDefinition(id: "def_none", at: 3) }
            #expect(try await runs.definition(id: "def_none", version: nil) == nil)
            #expect(try await runs.definition(id: "def_x", version: 2) == nil)
            #expect(try await runs.versions(of: "def_none") == [])
            #expect(try await runs.versions(of: "def_x").map(\.definition) == [definition("x")])
        }
    }

    @Test(arguments: RunStoreKind.allCases)
    func reserveIsIdempotentPerWorkspaceKey(_ kind: RunStoreKind) async throws {
        try await withRunStore(kind) { fixture in
            let runs = fixture.runs
            let first = try await reserved(runs, header("run_1", key: "k"), at: 10)
            #expect(first == RunRecord(header: header("run_1", key: "k"), createdAt: 10) && first.status == .queued)
            #expect(try await runs.reserve(header("run_2", key: "k"), at: 11) == .existing(first))
            #expect(try await runs.run(id: "run_2") == nil)
            let elsewhere = try await reserved(runs, header("run_3", workspace: "other", key: "k"), at: 12)
            #expect(elsewhere.id == "run_3")
            let keyless = try await reserved(runs, header("run_4"), at: 13)
            let again = try await reserved(runs, header("run_5"), at: 13)
            #expect(keyless.id == "run_4" && again.id == "run_5")
            let named = try await reserved(runs, header(""), at: 14)
            #expect(named.id.hasPrefix("run_") && named.id.count == 20)
            #expect(try await runs.run(id: named.id) == named)
            #expect(try await runs.run(id: "run_1") == first)
        }
    }

    @Test(arguments: RunStoreKind.allCases)
    func aRowWriteCommitsWithItsEvent(_ kind: RunStoreKind) async throws {
        try await withRunStore(kind) { fixture in
            var record = try await reserved(fixture.runs, header("run_1"), at: 10)
            #expect(try await fixture.append(RunEvent(at: 10, .created(record.header)), to: &record) == 1)
            #expect(try await fixture.append(RunEvent(at: 20, .status(.running, reason: nil)), to: &record) == 2)
            // Both are there once the completion has been called.
            let stored = try await fixture.runs.run(id: "run_1")
            #expect(stored == record)
            #expect(stored?.status == .running && stored?.startedAt == 20 && stored?.updatedAt == 20)
            let events = try await fixture.streams.read(stream: "run/run_1", after: 0, limit: 10)
            #expect(events.map(\.offset) == [1, 2])
            _ = try await fixture.append(RunEvent(at: 30, .finished(.ok, reason: nil)), to: &record)
            #expect(try await fixture.runs.runs(RunQuery(workspace: "ws", statuses: [.ok])).map(\.id) == ["run_1"])
            #expect(try await fixture.runs.activeRuns() == [])
        }
    }

    @Test(arguments: RunStoreKind.allCases)
    func runsAreListedNewestFirstFilteredAndPaged(_ kind: RunStoreKind) async throws {
        try await withRunStore(kind) { fixture in
            let runs = fixture.runs
            // run_1 … run_6 at 1 … 6 (run_6 and run_5 share a time: the id orders them).
            for (n, at) in [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 5)] {
                var record = try await reserved(runs, header("run_\(n)", definition: n % 2 == 0 ? "def_even" : "def_odd"), at: Int64(at))
                if n % 3 == 0 { _ = try await fixture.append(RunEvent(at: 10, .status(.running, reason: nil)), to: &record) }
            }
            _ = try await reserved(runs, header("run_other", workspace: "other"), at: 7)
            func ids(_ query: RunQuery) async throws -> [String] { try await runs.runs(query).map(\.id) }
            #expect(try await ids(RunQuery(workspace: "ws")) == ["run_6", "run_5", "run_4", "run_3", "run_2", "run_1"])
            #expect(try await ids(RunQuery(workspace: "ws", statuses: [.running])) == ["run_6", "run_3"])
            #expect(try await ids(RunQuery(workspace: "ws", statuses: [.running, .queued], definitionID: "def_even")) == ["run_6", "run_4", "run_2"])
            #expect(try await ids(RunQuery(workspace: "ws", definitionID: "def_odd")) == ["run_5", "run_3", "run_1"])
            #expect(try await ids(RunQuery(workspace: "ws", limit: 2)) == ["run_6", "run_5"])
            #expect(try await ids(RunQuery(workspace: "ws", before: "run_5", limit: 2)) == ["run_4", "run_3"])
            #expect(try await ids(RunQuery(workspace: "ws", before: "run_6")) == ["run_5", "run_4", "run_3", "run_2", "run_1"])
            #expect(try await ids(RunQuery(workspace: "ws", before: "run_1")) == [])
            #expect(try await ids(RunQuery(workspace: "ws", limit: 0)) == ["run_6"], "the limit is at least 1")
            #expect(try await ids(RunQuery(workspace: "other")) == ["run_other"])
            #expect(try await ids(RunQuery(workspace: "none")) == [])
        }
    }

    @Test(arguments: RunStoreKind.allCases)
    func activeRunsAreExactlyTheNonTerminalOnesOldestFirst(_ kind: RunStoreKind) async throws {
        try await withRunStore(kind) { fixture in
            let changes: [(String, RunEvent.Change?)] = [
                ("run_a", nil), ("run_b", .status(.running, reason: nil)), ("run_c", .finished(.ok, reason: nil)),
                ("run_d", .status(.awaitingApproval, reason: nil)), ("run_e", .finished(.failed, reason: "boom")),
                ("run_f", .status(.cancelling, reason: "asked")), ("run_g", .finished(.interrupted, reason: nil)),
            ]
            for (index, (id, change)) in changes.enumerated() {
                var record = try await reserved(fixture.runs, header(id, workspace: index % 2 == 0 ? "ws" : "other"), at: Int64(100 - index))
                if let change { _ = try await fixture.append(RunEvent(at: 200, change), to: &record) }
            }
            let active = try await fixture.runs.activeRuns()
            #expect(active.map(\.id) == ["run_f", "run_d", "run_b", "run_a"])
            #expect(active.allSatisfy { !$0.status.isTerminal })
            let workspaces = try await fixture.runs.runWorkspaces()
            #expect(workspaces == Dictionary(uniqueKeysWithValues: changes.enumerated().map { index, change in
                (change.0, index % 2 == 0 ? "ws" : "other")
            }), "every run, finished or not, with its workspace")
        }
    }

    @Test(arguments: RunStoreKind.allCases)
    func triggeredDefinitionsAreTheNewestVersionsWithTriggersNotDeleted(_ kind: RunStoreKind) async throws {
        try await withRunStore(kind) { fixture in
            let runs = fixture.runs
            var hourly = definition("hourly")
            hourly.triggers = [.interval(everyMillis: 3_600_000, inputs: .object([:]))]
            _ = try await runs.createDefinition(id: "def_plain", workspace: "ws", definition: definition("plain"), author: "u", at: 1)
            _ = try await runs.createDefinition(id: "def_hourly", workspace: "ws", definition: hourly, author: "u", at: 1)
            _ = try await runs.createDefinition(id: "def_other", workspace: "other", definition: hourly, author: "u", at: 1)
            _ = try await runs.createDefinition(id: "def_gone", workspace: "ws", definition: hourly, author: "u", at: 1)
            try await runs.deleteDefinition(id: "def_gone", at: 2)
            _ = try await runs.createDefinition(id: "def_dropped", workspace: "ws", definition: hourly, author: "u", at: 1)
            _ = try await runs.updateDefinition(id: "def_dropped", definition: definition("no longer"), expectedVersion: 1, author: "u", at: 3)
            let triggered = try await runs.triggeredDefinitions()
            #expect(triggered.map(\.id) == ["def_hourly", "def_other"], "every workspace; not deleted; the newest version decides")
            #expect(triggered.allSatisfy { $0.definition.triggers == hourly.triggers })
        }
    }

    /// The activity a store recorded with definition changes, oldest first.
    func recorded(_ runs: any RunStore) async throws -> [String] {
        if let memory = runs as? MemoryRunStore { return memory.recordedActivity.map(\.data) }
        let sqlite = try #require(runs as? SQLiteStore)
        return try await sqlite.pendingActivity(limit: 100).map { String(decoding: $0.data, as: UTF8.self) }
    }

    @Test(arguments: RunStoreKind.allCases)
    func definitionChangesRecordTheirActivityWithTheChangeOnly(_ kind: RunStoreKind) async throws {
        try await withRunStore(kind) { fixture in
            let runs = fixture.runs
            let note: DefinitionActivity = { stored in
                [ActivityOutboxEntry(stream: "workspace/\(stored.workspace)", data: "\(stored.id) v\(stored.version) deleted:\(stored.deletedAt != nil)")]
            }
            let made = try await runs.createDefinition(id: nil, workspace: "ws", definition: definition("a"), author: "u", at: 1, activity: note)
            _ = try await runs.updateDefinition(id: made.id, definition: definition("b"), expectedVersion: 1, author: "u", at: 2, activity: note)
            await #expect(throws: RunStoreError.self) {
                _ = try await runs.updateDefinition(id: made.id, definition: definition("c"), expectedVersion: 1, author: "u", at: 3, activity: note)
            }
            try await runs.deleteDefinition(id: made.id, at: 4, activity: note)
            await #expect(throws: RunStoreError.self) { try await runs.deleteDefinition(id: made.id, at: 5, activity: note) }
            #expect(try await recorded(runs) == ["\(made.id) v1 deleted:false", "\(made.id) v2 deleted:false", "\(made.id) v2 deleted:true"],
                    "one entry per change made, none for a refused one")
        }
    }
}
