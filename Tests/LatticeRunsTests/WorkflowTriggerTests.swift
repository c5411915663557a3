import LatticeCRDT
import LatticeRuns
import Testing

/// Triggers in definitions: their JSON, their errors, and the period arithmetic the server's
/// interval timers use for idempotency keys.
@Suite struct WorkflowTriggerTests {
    static let oneNode = #"[{"id":"a","kind":"emit","data":1}]"#

    func definition(triggers: String) throws(DefinitionErrors) -> WorkflowDefinition {
        try WorkflowDefinition(json: #"{"name":"t","nodes":\#(Self.oneNode),"triggers":\#(triggers)}"#)
    }

    func errors(triggers: String) -> [DefinitionError] {
        do {
            _ = try definition(triggers: triggers)
            return []
        } catch {
            return error.errors
        }
    }

    @Test func intervalTriggersReadAndRoundTrip() throws {
        let read = try definition(triggers: #"[{"kind":"interval","everyMs":60000,"inputs":{"who":"cron"}},{"kind":"interval","everyMs":1000}]"#)
        #expect(read.triggers == [.interval(everyMillis: 60_000, inputs: .object(["who": .string("cron")])),
                                  .interval(everyMillis: 1_000, inputs: .object([:]))])
        #expect(try WorkflowDefinition(json: read.json) == read)
        #expect(try WorkflowDefinition(json: read.exportJSON) == read)
        let none = try WorkflowDefinition(json: #"{"name":"t","nodes":\#(Self.oneNode)}"#)
        #expect(none.triggers.isEmpty && !none.json.contains("triggers"), "no triggers: the field is left out")
    }

    @Test func everyTriggerProblemIsBadTriggerWithItsPath() {
        let cases: [(String, String)] = [
            (#"{"kind":"interval"}"#, "triggers"),
            (#"[{"kind":"interval","everyMs":999}]"#, "triggers[0].everyMs"),
            (#"[{"kind":"interval","everyMs":2592000001}]"#, "triggers[0].everyMs"),
            (#"[{"kind":"interval","everyMs":"1s"}]"#, "triggers[0].everyMs"),
            (#"[{"kind":"interval","everyMs":1000,"inputs":[1]}]"#, "triggers[0].inputs"),
            (#"[{"kind":"interval","everyMs":1000,"cron":"* * *"}]"#, "triggers[0].cron"),
            (#"[{"kind":"webhook"}]"#, "triggers[0].kind"),
            (#"[{"everyMs":1000}]"#, "triggers[0]"),
            (#"[3]"#, "triggers[0]"),
        ]
        for (triggers, path) in cases {
            let found = errors(triggers: triggers)
            #expect(found.contains { $0.code == .badTrigger && $0.path == path }, "\(triggers): \(found)")
        }
        let many = "[" + Array(repeating: #"{"kind":"interval","everyMs":1000}"#, count: 17).joined(separator: ",") + "]"
        #expect(errors(triggers: many).contains { $0.code == .badTrigger && $0.path == "triggers" })
    }

    @Test func periodsAndKeys() {
        #expect(WorkflowTrigger.nextPeriod(everyMillis: 1_000, after: 12_345) == 13_000)
        #expect(WorkflowTrigger.nextPeriod(everyMillis: 1_000, after: 13_000) == 14_000, "a period that begins now is not the next")
        #expect(WorkflowTrigger.intervalKey(everyMillis: 1_000, now: 13_000) == WorkflowTrigger.intervalKey(everyMillis: 1_000, now: 13_999))
        #expect(WorkflowTrigger.intervalKey(everyMillis: 1_000, now: 13_999) != WorkflowTrigger.intervalKey(everyMillis: 1_000, now: 14_000))
        #expect(WorkflowTrigger.intervalKey(everyMillis: 1_000, now: 5_000) != WorkflowTrigger.intervalKey(everyMillis: 5_000, now: 5_000),
                "the period length is part of the key")
    }

    @Test func eventTriggersReadRoundTripAndMatch() throws {
        let read = try definition(triggers: #"[{"kind":"event","stream":"channel/demo/deploys","type":"deploy","inputs":{"env":"prod"}},{"kind":"event","stream":"channel/demo/all"}]"#)
        #expect(read.triggers == [.event(stream: "channel/demo/deploys", type: "deploy", inputs: .object(["env": .string("prod")])),
                                  .event(stream: "channel/demo/all", type: nil, inputs: .object([:]))])
        #expect(try WorkflowDefinition(json: read.json) == read)
        #expect(WorkflowTrigger.matches(type: "deploy", data: .object(["type": .string("deploy")])))
        #expect(!WorkflowTrigger.matches(type: "deploy", data: .object(["type": .string("other")])))
        #expect(!WorkflowTrigger.matches(type: "deploy", data: .string("deploy")), "only an object's type counts")
        #expect(WorkflowTrigger.matches(type: nil, data: .int(3)), "no type: every event")
        #expect(WorkflowTrigger.eventInputs(.object(["env": .string("prod")]), data: .int(3), offset: 9)
                == .object(["env": .string("prod"), "event": .int(3), "eventOffset": .int(9)]))
    }

    @Test func eventTriggerProblems() {
        let cases: [(String, String)] = [
            (#"[{"kind":"event"}]"#, "triggers[0].stream"),
            (#"[{"kind":"event","stream":"workspace/demo"}]"#, "triggers[0].stream"),
            (#"[{"kind":"event","stream":"channel//x"}]"#, "triggers[0].stream"),
            (#"[{"kind":"event","stream":"channel/demo/x","type":""}]"#, "triggers[0].type"),
            (#"[{"kind":"event","stream":"channel/demo/x","type":3}]"#, "triggers[0].type"),
            (#"[{"kind":"event","stream":"channel/demo/x","inputs":"a"}]"#, "triggers[0].inputs"),
            (#"[{"kind":"event","stream":"channel/demo/x","every":1}]"#, "triggers[0].every"),
        ]
        for (triggers, path) in cases {
            let found = errors(triggers: triggers)
            #expect(found.contains { $0.code == .badTrigger && $0.path == path }, "\(triggers): \(found)")
        }
    }
}
