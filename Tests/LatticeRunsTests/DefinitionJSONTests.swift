import Foundation
import LatticeCRDT
import LatticeRuns
import Testing

@Suite struct DefinitionJSONTests {
    static let everyKind = WorkflowDefinition(name: "all", nodes: [
        WorkflowNode(id: "e", kind: .emit(data: .object(["x": .object(["$ref": .string("inputs.x")])])), next: ["d"]),
        WorkflowNode(id: "d", kind: .delay(millis: 250), next: ["c"], retries: 2, backoffMillis: 50, timeoutMillis: 900),
        WorkflowNode(id: "c", kind: .condition(Condition(left: .string("a"), op: .contains, right: .string("b")), whenTrue: ["a"], whenFalse: ["t"])),
        WorkflowNode(id: "a", kind: .approval(prompt: "ok?"), next: ["o"], continueOnFailure: true),
        WorkflowNode(id: "t", kind: .task(capability: "work", input: .array([.int(1)])), next: ["o"]),
        WorkflowNode(id: "o", kind: .output(value: nil)),
    ], resumable: true, maxVisits: 7, metadata: .object(["owner": .string("me")]))

    @Test func everyKindRoundTrips() throws {
        #expect(try WorkflowDefinition(json: Self.everyKind.json) == Self.everyKind)
        #expect(DefinitionValidator.validate(Self.everyKind) == [])
    }

    @Test func exportAndImportKeepTheFormat() throws {
        let exported = Self.everyKind.exportJSON
        #expect(exported.contains(#""format":"lattice.workflow/1""#))
        #expect(try WorkflowDefinition(json: exported) == Self.everyKind)
        #expect(throws: DefinitionErrors.self) { try WorkflowDefinition(json: #"{"format":"other/2","name":"x","nodes":[]}"#) }
    }

    @Test func defaultsApplyWhenFieldsAreLeftOut() throws {
        let definition = try WorkflowDefinition(json: #"{"name":"x","nodes":[{"id":"a","kind":"task","capability":"c"}]}"#)
        #expect(definition.maxVisits == WorkflowDefinition.defaultMaxVisits)
        #expect(!definition.resumable)
        #expect(definition.nodes == [WorkflowNode(id: "a", kind: .task(capability: "c", input: .object([:])))])
    }

    @Test func everyShapeErrorIsReportedWithItsPath() {
        let text = #"""
        {"name": 3, "extra": true, "nodes": [
          {"id": "a", "kind": "teleport"},
          {"id": "b", "kind": "delay", "millis": "soon", "next": "c"},
          {"id": "c", "kind": "condition", "op": "~=", "then": [1], "next": ["a"]},
          {"kind": "emit"},
          7
        ]}
        """#
        do {
            _ = try WorkflowDefinition(json: text)
            Issue.record("a broken definition was read")
        } catch {
            let found = error.errors.map { "\($0.code.rawValue) \($0.path)" }
            #expect(found == ["bad_field extra", "bad_field name", "unknown_kind nodes[0].kind", "bad_field nodes[1].millis",
                              "bad_field nodes[1].next", "bad_field nodes[2].op", "bad_field nodes[2].then[0]",
                              "bad_field nodes[2].next", "bad_field nodes[3].id", "bad_field nodes[4]"])
            #expect(error.errors[2].node == "a")
            #expect(error.errors[2].message.contains("teleport"))
        }
    }

    @Test func notJSONAndTooLargeAreTheirOwnCodes() {
        #expect(throws: DefinitionErrors.self) { try WorkflowDefinition(json: "{") }
        do { _ = try WorkflowDefinition(json: "{") } catch { #expect(error.errors.map(\.code) == [.badJSON]) }
        let big = #"{"name":"x","metadata":{"s":""# + String(repeating: "y", count: 300_000) + #""},"nodes":[]}"#
        do { _ = try WorkflowDefinition(json: big) } catch { #expect(error.errors.map(\.code) == [.tooLarge]) }
    }

    static let runsDoc = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/runs.md")

    @Test func theExampleOfDocsRunsIsValid() throws {
        let text = try String(contentsOf: Self.runsDoc, encoding: .utf8)
        let example = try #require(text.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```").first)
        let definition = try WorkflowDefinition(json: example)
        #expect(DefinitionValidator.validate(definition) == [])
        #expect(definition.nodes.map(\.kind.name) == ["task", "condition", "approval", "emit", "output"])
    }

    @Test func everyCodeIsInTheTableOfDocsRuns() throws {
        let text = try String(contentsOf: Self.runsDoc, encoding: .utf8)
        for code in DefinitionError.Code.all {
            #expect(text.contains("| `\(code.rawValue)` |"), "\(code.rawValue) is missing from docs/runs.md")
        }
    }
}
