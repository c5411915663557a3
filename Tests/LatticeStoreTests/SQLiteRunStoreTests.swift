import GRDB
import LatticeCRDT
import LatticeRuns
import LatticeStreams
import NIOCore
import Testing
@testable import LatticeStore

/// What only the SQLite run store can show: a row and its event commit in one transaction or
/// not at all, and a stored body that no longer reads is an error, not a crash.
@Suite struct SQLiteRunStoreTests {
    let header = RunHeader(id: "run_1", workspace: "ws", definitionID: "def_a", version: 1, inputs: .object([:]),
                           actor: "u_ada", key: nil)

    @Test func aFailedTransactionStoresNeitherTheEventNorTheRow() async throws {
        try await withStore { store, directory in
            let fixture = RunStoreFixture(runs: store, streams: store)
            guard case .reserved(var record) = try await store.reserve(header, at: 10) else {
                Issue.record("not reserved")
                return
            }
            _ = try await fixture.append(RunEvent(at: 10, .created(header)), to: &record)
            let before = record
            // Another connection takes offset 2 behind the store's back: the next append's
            // transaction fails.
            let other = try DatabaseQueue(path: databasePath(directory))
            try await other.write { db in
                try db.execute(sql: "INSERT INTO stream_events VALUES ('run/run_1', 2, CAST('0' AS BLOB), NULL, 0)")
            }
            try other.close()
            await #expect(throws: DurableAppendError.self) {
                _ = try await fixture.append(RunEvent(at: 20, .status(.running, reason: nil)), to: &record)
            }
            #expect(try await store.run(id: "run_1") == before)
        }
    }

    @Test func storedBodiesThatDoNotReadAreStoreFailures() async throws {
        try await withStore { store, directory in
            _ = try await store.reserve(header, at: 10)
            _ = try await store.createDefinition(id: "def_a", workspace: "ws",
                                                 definition: WorkflowDefinition(name: "a", nodes: [WorkflowNode(id: "n", kind: .delay(millis: 1))]),
                                                 author: "u_ada", at: 10)
            let other = try DatabaseQueue(path: databasePath(directory))
            try await other.write { db in
                try db.execute(sql: "UPDATE runs SET body = '{\"id\":1}'")
                try db.execute(sql: "UPDATE run_definitions SET body = 'not json'")
            }
            try other.close()
            for read in [{ _ = try await store.run(id: "run_1") }, { _ = try await store.activeRuns() },
                         { _ = try await store.definition(id: "def_a", version: nil) },
                         { _ = try await store.definitions(workspace: "ws") }] as [@Sendable () async throws -> Void] {
                do {
                    try await read()
                    Issue.record("an undecodable body was read")
                } catch let error as RunStoreError {
                    guard case .storeFailed = error else { Issue.record("\(error)"); continue }
                }
            }
            await #expect(throws: RunStoreError.self) {
                _ = try await store.updateDefinition(id: "def_a", definition: WorkflowDefinition(name: "b", nodes: []),
                                                     expectedVersion: nil, author: "u_ada", at: 20)
            }
        }
    }
}
