import LatticeCRDT
import LatticeRuns
import Testing

@Suite struct RunEventJSONTests {
    static let header = RunHeader(id: "r1", workspace: "w", definitionID: "d", version: 2,
                                  inputs: .object(["n": .int(3)]), actor: "u1", key: "k")

    static let everyChange: [RunEvent.Change] = [
        .created(header),
        .status(.running, reason: nil),
        .status(.cancelling, reason: "asked"),
        .nodeStarted(node: "a", attempt: 1),
        .nodeProgress(node: "a", attempt: 1, data: .object(["pct": .int(50)])),
        .nodeRetrying(node: "a", attempt: 1, error: "boom", retryAt: 99),
        .nodeWaiting(node: "ap", prompt: "ok?"),
        .nodeDecided(node: "ap", approved: false, by: "u2", comment: nil),
        .nodeDecided(node: "ap", approved: true, by: "u2", comment: "fine"),
        .nodeOutput(node: "a", output: .null, collected: false),
        .nodeOutput(node: "out", output: .string("x"), collected: true),
        .nodeFinished(node: "a", status: .failed, error: "boom"),
        .nodeFinished(node: "b", status: .skipped, error: nil),
        .finished(.partial, reason: nil),
        .finished(.cancelled, reason: "by u1"),
    ]

    @Test func everyEventRoundTrips() throws {
        for (index, change) in Self.everyChange.enumerated() {
            let event = RunEvent(at: Int64(1000 + index), change)
            #expect(try RunEvent(json: event.json) == event, "\(event.json)")
        }
    }

    @Test func eventTypesAreTheDocumentedOnes() {
        let types = Set(Self.everyChange.map { RunEvent(at: 0, $0).type })
        #expect(types == ["run.created", "run.status", "node.started", "node.progress", "node.retrying", "node.waiting",
                          "node.decided", "node.output", "node.finished", "run.finished"])
    }

    @Test func theRowRoundTripsThroughJSON() throws {
        let events = Self.everyChange.enumerated().map { RunEvent(at: Int64($0.offset), $0.element) }
        let record = try #require(RunRecord.replay(events))
        #expect(try RunRecord(json: record.json) == record)
        #expect(record.outputs == ["out": .string("x")])
        #expect(record.node("a").output == .null)
        #expect(record.status == .cancelled)
    }

    @Test func badEventsAreRefusedWithTheirReason() {
        #expect(throws: RunDecodeError("run event: unknown type \"nope\"")) { try RunEvent(json: #"{"type":"nope","at":1}"#) }
        #expect(throws: RunDecodeError("run event: missing \"at\"")) { try RunEvent(json: #"{"type":"run.status"}"#) }
        #expect(throws: RunDecodeError("run event: not JSON")) { try RunEvent(json: "{") }
        #expect(RunRecord.replay([RunEvent(at: 0, .status(.running, reason: nil))]) == nil)
    }
}
