import Foundation
import LatticeCRDT
import LatticeProtocol
import LatticeRuns
import LatticeStreams
import NIOCore
import NIOPosix
import Testing
@testable import LatticeServer

/// The executor publishing through the hub: a monitor that subscribes late replays the run
/// from its first event, then follows it live, with no gap and no duplicate; the stored row is
/// the fold of the stream.
@Suite("runs through the hub", .timeLimit(.minutes(1)))
struct HubRunEventLogTests {
    struct NoWorkers: TaskDispatcher {
        func offer(_ task: TaskOffer) {}
        func cancel(run: String, node: String, attempt: Int) {}
    }

    @Test("a late monitor gets the run's whole history, then its live events, in order")
    func lateMonitorReplaysThenFollows() async throws {
        let runs = MemoryRunStore()
        let store = MemoryDurableStreamStore(onAttachment: { runs.apply(attachment: $0) })
        let fixture = try await HubFixture.make(store: store)
        let executor = RunExecutor(store: runs, log: HubRunEventLog(hub: fixture.hub), tasks: NoWorkers(),
                                   loop: fixture.group.next(), clock: { Int64(Date().timeIntervalSince1970 * 1000) })
        let nodes = [WorkflowNode(id: "a", kind: .emit(data: .int(1)), next: ["gate"]),
                     WorkflowNode(id: "gate", kind: .approval(prompt: "go?"), next: ["w"]),
                     WorkflowNode(id: "w", kind: .delay(millis: 20), next: ["out"]),
                     WorkflowNode(id: "out", kind: .output(value: .string("done")))]
        let definition = try await runs.createDefinition(id: nil, workspace: "w", definition: WorkflowDefinition(name: "d", nodes: nodes),
                                                         author: "u", at: 0)
        let run = try await executor.start(RunStartRequest(workspace: "w", definitionID: definition.id, actor: "u"))
        let stream = testStream("run/\(run.id)")
        let deadline = Date().addingTimeInterval(30)
        while try await runs.run(id: run.id)?.status != .awaitingApproval, Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }

        // Late: the run is half done. From offset 0 of the stream's epoch.
        let monitor = try await fixture.subscriber(on: 1 - fixture.hub.homeIndex(of: stream))
        monitor.subscribe(stream, since: StreamPosition(epoch: store.head(of: stream.name).epoch, offset: 0))
        #expect(await monitor.waitUntil { $0.contains { $0.type == "event" && ($0.data["type"] as? String) == "node.waiting" } })
        _ = try await executor.decide(run: run.id, node: "gate", approved: true, by: "u2", comment: nil)
        #expect(await monitor.waitUntil { $0.contains { $0.type == "event" && ($0.data["type"] as? String) == "run.finished" } })

        let events = monitor.messages.filter { $0.type == "event" }
        #expect(events.map { $0.offset ?? 0 } == Array(1...events.count))
        let stored = try await store.read(stream: stream.name, after: 0, limit: 1_000)
        #expect(stored.count == events.count)
        let history = try stored.map { try RunEvent(json: String(buffer: $0.data)) }
        let row = try await runs.run(id: run.id)
        #expect(RunRecord.replay(history) == row)
        #expect(row?.status == .ok)
        #expect(row?.outputs == ["out": .string("done")])
        await fixture.close()
    }
}
