import Foundation
import LatticeCRDT
import LatticeRuns
import LatticeStreams
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The run event log on a memory durable store, as the server's is on its hub: each event
/// appended to `run/{id}` with the row attached, the row applied at commit.
struct MemoryRunEventLog: RunEventLog {
    let streams: MemoryDurableStreamStore

    func append(_ event: RunEvent, row: RunRowWrite, completion: @escaping @Sendable (Result<UInt64, any Error>) -> Void) {
        streams.append(stream: "run/\(row.record.id)", data: ByteBuffer(string: event.json), key: nil, attachment: row) { result in
            completion(result.mapError { $0 })
        }
    }
}

/// Keeps every task offer and cancel the executor makes.
final class RecordingDispatcher: TaskDispatcher, Sendable {
    let offers = Mutex<[TaskOffer]>([])
    let cancels = Mutex<[String]>([])

    var offered: [TaskOffer] { offers.withLock { $0 } }
    var cancelled: [String] { cancels.withLock { $0 } }

    func offer(_ task: TaskOffer) { offers.withLock { $0.append(task) } }
    func cancel(run: String, node: String, attempt: Int) { cancels.withLock { $0.append("\(run)/\(node)#\(attempt)") } }
}

/// An executor on one real event loop over memory stores.
struct ExecutorFixture {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let runs: MemoryRunStore
    let streams: MemoryDurableStreamStore
    let tasks = RecordingDispatcher()
    let executor: RunExecutor

    init(limits: RunLimits = RunLimits(), runs: MemoryRunStore = MemoryRunStore(), streams: MemoryDurableStreamStore? = nil) {
        self.runs = runs
        let streams = streams ?? MemoryDurableStreamStore(onAttachment: { runs.apply(attachment: $0) })
        self.streams = streams
        executor = RunExecutor(store: runs, log: MemoryRunEventLog(streams: streams), tasks: tasks,
                               loop: group.next(), limits: limits, clock: { Int64(Date().timeIntervalSince1970 * 1000) })
    }

    /// The same stores with a new executor: a restarted server.
    func restarted(limits: RunLimits = RunLimits()) -> ExecutorFixture {
        ExecutorFixture(limits: limits, runs: runs, streams: streams)
    }

    func shutdown() async throws { try await group.shutdownGracefully() }

    func define(_ nodes: [WorkflowNode], workspace: String = "w", resumable: Bool = false) async throws -> String {
        try await runs.createDefinition(id: nil, workspace: workspace,
                                        definition: WorkflowDefinition(name: "test", nodes: nodes, resumable: resumable),
                                        author: "u1", at: 0).id
    }

    func start(_ definition: String, workspace: String = "w", inputs: Value = .object([:]), key: String? = nil) async throws -> RunRecord {
        try await executor.start(RunStartRequest(workspace: workspace, definitionID: definition, inputs: inputs, actor: "u1", key: key))
    }

    /// Waits (up to 30 s: CI machines can be slow) until the stored row satisfies `condition`.
    func waitFor(_ run: String, _ what: String, _ condition: (RunRecord) -> Bool) async throws -> RunRecord {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let record = try await runs.run(id: run), condition(record) { return record }
            try await Task.sleep(for: .milliseconds(5))
        }
        let record = try await runs.run(id: run)
        Issue.record("run \(run) never became \(what): \(record?.json ?? "no row")")
        throw CancellationError()
    }

    func waitForStatus(_ run: String, _ status: RunStatus) async throws -> RunRecord {
        try await waitFor(run, status.rawValue) { $0.status == status }
    }

    /// The run's stream, decoded.
    func history(_ run: String) async throws -> [RunEvent] {
        try await streams.read(stream: "run/\(run)", after: 0, limit: 100_000).map { try RunEvent(json: String(buffer: $0.data)) }
    }

    /// The row is the fold of the stream, offsets from 1 with no gap.
    func checkHistory(_ run: String) async throws {
        let stored = try await streams.read(stream: "run/\(run)", after: 0, limit: 100_000)
        #expect(stored.map(\.offset) == Array(1...UInt64(max(1, stored.count))))
        let events = try await history(run)
        #expect(RunRecord.replay(events) == (try await runs.run(id: run)))
    }
}

/// The outcome of a command, for tests that race two of them.
func outcome(_ body: () async throws(RunCommandError) -> RunRecord) async -> Result<RunRecord, RunCommandError> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
