import Foundation
import LatticeCRDT
import LatticeTraces
import Testing

/// Replays the editing traces from `../shared/data/editing-traces/` (relative to the repo root).
@Suite struct TraceTests {
    static var tracesDir: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("../shared/data/editing-traces").standardizedFileURL
    }

    static func load(_ rel: String) throws -> (EditingTrace, [TextReplay.Txn], [TextReplay.Patch]) {
        let t = try EditingTrace.load(path: tracesDir.appendingPathComponent(rel).path)
        let txns = t.txns.map { TextReplay.Txn(patchStart: $0.patchStart, patchCount: $0.patchCount, agent: $0.agent, parents: $0.parents) }
        let patches = t.patches.map { TextReplay.Patch(pos: $0.pos, delete: $0.delete, insertStart: $0.insertStart, insertCount: $0.insertCount) }
        return (t, txns, patches)
    }

    @Test(arguments: ["sequential/friendsforever_flat.json.gz", "sequential/seph-blog1.json.gz", "sequential/automerge-paper.json.gz"])
    func sequentialTraceReplaysToEndContent(_ rel: String) throws {
        let (t, txns, patches) = try TraceTests.load(rel)
        #expect(t.kind == .sequential)
        let doc = try TextReplay.sequential(txns: txns, patches: patches, scalars: t.insertScalars)
        #expect(doc.scalars == t.endScalars)
        // The final state survives a snapshot round trip.
        let loaded = try TextCRDT.decodeSnapshot(doc.encodeSnapshot())
        #expect(loaded.scalars == t.endScalars)
    }

    @Test func concurrentTraceConverges() throws {
        let (t, txns, patches) = try TraceTests.load("concurrent/friendsforever.json.gz")
        #expect(t.kind == .concurrent)
        #expect(t.numAgents == 2)
        let r = try TextReplay.concurrent(txns: txns, patches: patches, scalars: t.insertScalars, numAgents: t.numAgents, mergeAll: true)
        #expect(r.remoteOpsIntegrated > 0)
        for rep in r.replicas { #expect(rep.scalars == t.endScalars) }
    }

    @Test func concurrentTraceThroughDocumentsWithShuffledDelivery() throws {
        // A small synthetic concurrent trace in the same format, replayed through the parser.
        let json = """
        {"kind":"concurrent","endContent":"","numAgents":2,"txns":[
         {"parents":[],"agent":0,"numChildren":2,"time":"","patches":[[0,0,"ab"]]},
         {"parents":[0],"agent":1,"numChildren":1,"time":"","patches":[[2,0,"Y"]]},
         {"parents":[0],"agent":0,"numChildren":1,"time":"","patches":[[0,1,"X"]]},
         {"parents":[1,2],"agent":1,"numChildren":0,"time":"","patches":[[3,0,"!"]]}]}
        """
        let t = try EditingTrace.parse(json: Data(json.utf8))
        let txns = t.txns.map { TextReplay.Txn(patchStart: $0.patchStart, patchCount: $0.patchCount, agent: $0.agent, parents: $0.parents) }
        let patches = t.patches.map { TextReplay.Patch(pos: $0.pos, delete: $0.delete, insertStart: $0.insertStart, insertCount: $0.insertCount) }
        let r = try TextReplay.concurrent(txns: txns, patches: patches, scalars: t.insertScalars, numAgents: 2, mergeAll: true)
        #expect(r.replicas[0].string == "XbY!")
        #expect(r.replicas[1].string == "XbY!")
    }

    @Test func malformedTracesAreRejected() {
        #expect(throws: (any Error).self) { try EditingTrace.parse(json: Data("{\"txns\":[]}".utf8)) }
        #expect(throws: (any Error).self) { try EditingTrace.gunzip(Data([0x1f, 0x8b, 8, 0, 0, 0])) }
    }
}

@Suite struct TraceFormatTests {
    static func replay(_ json: String) throws -> (EditingTrace, TextReplay.ConcurrentResult?, TextCRDT?) {
        let t = try EditingTrace.parse(json: Data(json.utf8))
        let txns = t.txns.map { TextReplay.Txn(patchStart: $0.patchStart, patchCount: $0.patchCount, agent: $0.agent, parents: $0.parents) }
        let patches = t.patches.map { TextReplay.Patch(pos: $0.pos, delete: $0.delete, insertStart: $0.insertStart, insertCount: $0.insertCount) }
        let start = t.startContent.unicodeScalars.map { $0.value }
        if t.kind == .concurrent {
            return (t, try TextReplay.concurrent(txns: txns, patches: patches, scalars: t.insertScalars, start: start, numAgents: t.numAgents, mergeAll: true), nil)
        }
        return (t, nil, try TextReplay.sequential(txns: txns, patches: patches, scalars: t.insertScalars, start: start))
    }

    @Test func sequentialWithStartContentEscapesAndMultiPatchTxns() throws {
        let json = #"{"startContent":"h\u00e9llo","endContent":"H\u00e9llo \ud83d\ude00!","txns":[{"time":"x","patches":[[0,1,"H"],[5,0," \ud83d\ude00"]]},{"patches":[[7,0,"!"]]}]}"#
        let (t, _, doc) = try TraceFormatTests.replay(json)
        #expect(t.kind == .sequential)
        #expect(doc?.string == "Héllo 😀!")
        #expect(doc?.scalars == t.endScalars)
    }

    @Test func concurrentWithStartContent() throws {
        let json = """
        {"kind":"concurrent","startContent":"ab","endContent":"","numAgents":3,"txns":[
         {"parents":[],"agent":0,"patches":[[1,0,"0"]]},
         {"parents":[],"agent":2,"patches":[[2,0,"2"]]},
         {"parents":[0,1],"agent":1,"patches":[[0,1,"1"]]}]}
        """
        let (_, r, _) = try TraceFormatTests.replay(json)
        let reps = try #require(r).replicas
        #expect(reps.count == 3)
        #expect(reps.allSatisfy { $0.string == "10b2" })
    }
}
