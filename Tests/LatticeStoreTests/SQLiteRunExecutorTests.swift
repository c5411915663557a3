import Foundation
import LatticeCRDT
import LatticeRuns
import LatticeStreams
import NIOCore
import NIOPosix
import Testing
@testable import LatticeStore

/// The run executor over the real SQLite store: every event goes through the group-commit
/// writer with its row, and a reopened store continues each run where its row says.
@Suite struct SQLiteRunExecutorTests {
    struct StoreLog: RunEventLog {
        let store: SQLiteStore
        func append(_ event: RunEvent, row: RunRowWrite, completion: @escaping @Sendable (Result<UInt64, any Error>) -> Void) {
            store.append(stream: "run/\(row.record.id)", data: ByteBuffer(string: event.json), key: nil, attachment: row) {
                completion($0.mapError { $0 })
            }
        }
    }

    struct NoWorkers: TaskDispatcher {
        func offer(_ task: TaskOffer) {}
        func cancel(run: String, node: String, attempt: Int) {}
    }

    static func executor(_ store: SQLiteStore, _ group: MultiThreadedEventLoopGroup) -> RunExecutor {
        RunExecutor(store: store, log: StoreLog(store: store), tasks: NoWorkers(), loop: group.next(),
                    clock: { Int64(Date().timeIntervalSince1970 * 1000) })
    }

    static func waitFor(_ store: SQLiteStore, _ run: String, _ status: RunStatus, or other: RunStatus? = nil) async throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let now = try await store.run(id: run)?.status, now == status || now == other { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("run \(run) never became \(status.rawValue): \(try await store.run(id: run)?.json ?? "no row")")
    }

    /// The stored row is the fold of the stored stream, whose offsets run from 1 without a gap.
    static func checkHistory(_ store: SQLiteStore, _ run: String) async throws -> UInt64 {
        let stored = try await store.read(stream: "run/\(run)", after: 0, limit: 10_000)
        #expect(stored.map(\.offset) == Array(1...UInt64(stored.count)))
        let events = try stored.map { try RunEvent(json: String(buffer: $0.data)) }
        #expect(RunRecord.replay(events) == (try await store.run(id: run)))
        return UInt64(stored.count)
    }

    @Test func runsGoOnAcrossAReopenedStoreAndTheirRowsAreTheirStreams() async throws {
        try await withTemporaryDirectory { directory in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            var store = try SQLiteStore.open(directory: directory)
            var executor = Self.executor(store, group)
            func define(_ nodes: [WorkflowNode], resumable: Bool = false) async throws -> String {
                let runs: any RunStore = store
                return try await runs.createDefinition(id: nil, workspace: "w", definition: WorkflowDefinition(name: "d", nodes: nodes, resumable: resumable),
                                                 author: "u", at: 0).id
            }
            let quick = try await define([WorkflowNode(id: "a", kind: .emit(data: .int(1)), next: ["b"]),
                                          WorkflowNode(id: "b", kind: .delay(millis: 5), next: ["c"]),
                                          WorkflowNode(id: "c", kind: .output(value: .object(["$ref": .string("nodes.a.output")])))])
            let gated = try await define([WorkflowNode(id: "gate", kind: .approval(prompt: "?"), next: ["after"]),
                                          WorkflowNode(id: "after", kind: .emit(data: .null))])
            let slow = try await define([WorkflowNode(id: "w", kind: .delay(millis: 60_000))])
            let resumable = try await define([WorkflowNode(id: "w", kind: .delay(millis: 3_000), next: ["x"]),
                                              WorkflowNode(id: "x", kind: .emit(data: .string("done")))], resumable: true)
            let finished = try await executor.start(RunStartRequest(workspace: "w", definitionID: quick, actor: "u"))
            let waiting = try await executor.start(RunStartRequest(workspace: "w", definitionID: gated, actor: "u", key: "k"))
            let running = try await executor.start(RunStartRequest(workspace: "w", definitionID: slow, actor: "u"))
            let resuming = try await executor.start(RunStartRequest(workspace: "w", definitionID: resumable, actor: "u"))
            try await Self.waitFor(store, finished.id, .ok)
            try await Self.waitFor(store, waiting.id, .awaitingApproval)
            try await Self.waitFor(store, running.id, .running)
            try await Self.waitFor(store, resuming.id, .running, or: .ok)
            // On a loaded machine the 3 s delay may be over before the "restart".
            let resumedAfterRestart = try await store.run(id: resuming.id)?.status == .running
            #expect(try await store.run(id: finished.id)?.outputs == ["c": .int(1)])
            var before: [String: UInt64] = [:]
            for run in [finished, waiting, running, resuming] { before[run.id] = try await Self.checkHistory(store, run.id) }

            // The server stops; a new one opens the same database.
            try await group.shutdownGracefully()
            store.close()
            let group2 = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            store = try SQLiteStore.open(directory: directory)
            executor = Self.executor(store, group2)
            let recovered = try await executor.recover()
            #expect(Set(recovered.map(\.id)) == (resumedAfterRestart ? [waiting.id, running.id, resuming.id] : [waiting.id, running.id]))
            #expect(try await store.run(id: running.id)?.status == .interrupted)
            _ = try await executor.decide(run: waiting.id, node: "gate", approved: true, by: "u2", comment: nil)
            try await Self.waitFor(store, waiting.id, .ok)
            try await Self.waitFor(store, resuming.id, .ok)
            // The same key still names the same run after the restart.
            #expect(try await executor.start(RunStartRequest(workspace: "w", definitionID: gated, actor: "u", key: "k")).id == waiting.id)
            for run in [finished, waiting, running, resuming] {
                let count = try await Self.checkHistory(store, run.id)
                #expect(count >= before[run.id]!, "offsets continue after the restart")
            }
            #expect(try await Self.checkHistory(store, finished.id) == before[finished.id])
            try await group2.shutdownGracefully()
            store.close()
        }
    }
}
