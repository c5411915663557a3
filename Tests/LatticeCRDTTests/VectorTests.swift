import Foundation
import LatticeCRDT
import Testing

/// Shared JSON test vectors (`Tests/vectors/crdt/*.json`) for the JavaScript twin.
/// Each file: replicas, ops (JSON op form), a delivery order per replica (indexes into ops, with
/// duplicates and out-of-causal-order arrivals) and the expected final state.
/// Regenerate with `LATTICE_WRITE_VECTORS=1 swift test --filter VectorTests`.
@Suite(.serialized) struct VectorTests {
    /// `Tests/vectors/crdt`, found from this file's path (the vectors are not a resource of the target).
    static var dir: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("vectors").appendingPathComponent("crdt")
    }

    static let specs: [(name: String, seed: UInt64, replicas: Int, steps: Int, textOnly: Bool)] = [
        ("text-2-replicas", 11, 2, 40, true),
        ("text-3-replicas", 12, 3, 80, true),
        ("text-5-replicas", 13, 5, 120, true),
        ("mixed-2-replicas", 21, 2, 60, false),
        ("mixed-3-replicas", 22, 3, 100, false),
        ("mixed-4-replicas", 23, 4, 150, false),
        ("mixed-5-replicas", 24, 5, 200, false),
    ]

    static func vector(name: String, seed: UInt64, replicas: Int, steps: Int, textOnly: Bool) throws -> Value {
        let s = try Scenario.random(seed: seed, replicaCount: replicas, steps: steps, textOnly: textOnly)
        var deliveries: [String: Value] = [:]
        for (i, d) in s.replicas.enumerated() { deliveries[d.replica] = .array(s.deliveries[i].map { .int(Int64($0)) }) }
        let d0 = s.replicas[0]
        return .object([
            "name": .string(name),
            "format": .int(1),
            "description": .string("Random session (seed \(seed)): \(replicas) replicas, \(steps) steps. Apply ops[i] for i in deliveries[replica], in order, to a fresh replica; every replica must end with `expected`."),
            "replicas": .array(s.replicas.map { .string($0.replica) }),
            "ops": .array(s.ops.map { $0.jsonValue }),
            "deliveries": .object(deliveries),
            "expected": .object([
                "state": d0.state,
                "version": d0.versionValue,
                "textElementIDs": .object(["body": .array(d0.textElementIDs(Scenario.text).map { .array([.string($0.replica), .int(Int64($0.counter))]) })]),
            ]),
        ])
    }

    @Test func vectorsAreUpToDateAndReplay() throws {
        let write = ProcessInfo.processInfo.environment["LATTICE_WRITE_VECTORS"] == "1"
        for spec in VectorTests.specs {
            let v = try VectorTests.vector(name: spec.name, seed: spec.seed, replicas: spec.replicas, steps: spec.steps, textOnly: spec.textOnly)
            let url = VectorTests.dir.appendingPathComponent(spec.name + ".json")
            if write { try Data((v.json + "\n").utf8).write(to: url) }
            let text = try String(contentsOf: url, encoding: .utf8)
            let stored = try Value.parseJSON(text)
            #expect(stored == v, "vector \(spec.name) differs from the generator; regenerate")
            try VectorTests.replay(stored)
        }
    }

    /// Replays a vector exactly as the JavaScript twin must.
    static func replay(_ v: Value) throws {
        let ops = try (v["ops"]?.arrayValue ?? []).map { try Op(jsonValue: $0) }
        let expected = try #require(v["expected"])
        for r in v["replicas"]?.arrayValue ?? [] {
            let name = try #require(r.stringValue)
            var d = Document(replica: name)
            for i in v["deliveries"]?[name]?.arrayValue ?? [] { try d.apply(ops[Int(i.intValue!)]) }
            #expect(d.pending.isEmpty)
            #expect(d.state == expected["state"])
            #expect(d.versionValue == expected["version"])
            let ids = d.textElementIDs(["body"]).map { Value.array([.string($0.replica), .int(Int64($0.counter))]) }
            #expect(.array(ids) == expected["textElementIDs"]?["body"])
        }
    }

    @Test func everyVectorFileReplays() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: VectorTests.dir.path).filter { $0.hasSuffix(".json") }
        #expect(files.count >= VectorTests.specs.count)
        for f in files {
            try VectorTests.replay(try Value.parseJSON(String(contentsOf: VectorTests.dir.appendingPathComponent(f), encoding: .utf8)))
        }
    }
}
