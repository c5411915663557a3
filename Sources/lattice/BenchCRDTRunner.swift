import Foundation
import LatticeCRDT
import LatticeTraces

/// The body of `lattice bench crdt`.
enum BenchCRDT {
    struct Report {
        var trace: String
        var kind: String
        var agents: Int
        var correct: Bool
        var edits: Int
        var txns: Int
        var runs: Int
        var seconds: Double
        var medianSeconds: Double
        var peakRSSBytes: Int
        var baselineRSSBytes: Int
        var docHeapBytes: Int
        var runCount: Int
        var finalChars: Int
        var snapshotBytes: Int
        var snapshotLoadSeconds: Double
        var snapshotRoundTrip: Bool
        var converged: Bool

        func jsonLine() -> String {
            func esc(_ s: String) -> String {
                var o = ""
                for u in s.unicodeScalars {
                    switch u {
                    case "\"": o += "\\\""
                    case "\\": o += "\\\\"
                    default:
                        if u.value < 0x20 { o += String(format: "\\u%04x", u.value) } else { o.unicodeScalars.append(u) }
                    }
                }
                return "\"\(o)\""
            }
            func num(_ d: Double) -> String { String(format: "%.6f", d) }
            let fields: [(String, String)] = [
                ("trace", esc(trace)), ("kind", esc(kind)), ("agents", "\(agents)"), ("correct", correct ? "true" : "false"),
                ("edits", "\(edits)"), ("txns", "\(txns)"), ("runs", "\(runs)"),
                ("seconds", num(seconds)), ("median_seconds", num(medianSeconds)),
                ("peak_rss_bytes", "\(peakRSSBytes)"), ("baseline_rss_bytes", "\(baselineRSSBytes)"),
                ("doc_heap_bytes", "\(docHeapBytes)"), ("items", "\(runCount)"), ("final_chars", "\(finalChars)"),
                ("snapshot_bytes", "\(snapshotBytes)"), ("snapshot_load_seconds", num(snapshotLoadSeconds)),
                ("snapshot_roundtrip", snapshotRoundTrip ? "true" : "false"), ("replicas_converged", converged ? "true" : "false"),
            ]
            return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        }

        func humanText() -> String {
            """
            trace:               \(trace) (\(kind), \(agents) agent(s))
            correct:             \(correct) (replicas converged: \(converged))
            edits:               \(edits) in \(txns) txns
            replay (best/median of \(runs)): \(String(format: "%.4f", seconds)) s / \(String(format: "%.4f", medianSeconds)) s
            peak RSS:            \(peakRSSBytes) bytes (baseline before replay \(baselineRSSBytes))
            document heap:       \(docHeapBytes) bytes, \(runCount) items, \(finalChars) chars
            snapshot:            \(snapshotBytes) bytes, load \(String(format: "%.5f", snapshotLoadSeconds)) s, round trip \(snapshotRoundTrip)
            """
        }
    }

    /// A memory field of `/proc/PID/status`, in bytes (0 when unreadable); `self` by default.
    static func procStatus(_ key: String, pid: String = "self") -> Int {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix(key + ":") {
            let digits = line.dropFirst(key.count + 1).filter { $0.isNumber }
            return (Int(digits) ?? 0) * 1024
        }
        return 0
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    struct Input {
        var patches: [TextReplay.Patch]
        var txns: [TextReplay.Txn]
        var scalars: [UInt32]
        var expected: [UInt32]
        var start: [UInt32]
        var kind: EditingTrace.Kind
        var numAgents: Int
    }

    /// Loads and converts the trace; the parsed trace is released when this returns.
    static func load(path: String) throws -> Input {
        let trace = try EditingTrace.load(path: path)
        return Input(
            patches: trace.patches.map { TextReplay.Patch(pos: $0.pos, delete: $0.delete, insertStart: $0.insertStart, insertCount: $0.insertCount) },
            txns: trace.txns.map { TextReplay.Txn(patchStart: $0.patchStart, patchCount: $0.patchCount, agent: $0.agent, parents: $0.parents) },
            scalars: trace.insertScalars, expected: trace.endScalars, start: trace.startContent.unicodeScalars.map { $0.value },
            kind: trace.kind, numAgents: trace.numAgents)
    }

    static func run(path: String, runs: Int, log: (String) -> Void) throws -> Report {
        let input: Input
        do { input = try load(path: path) } catch let e as EditingTrace.LoadError { throw e } catch {
            throw EditingTrace.LoadError.format("cannot read \(path): \(error.localizedDescription)")
        }
        let patches = input.patches, txns = input.txns, scalars = input.scalars, expected = input.expected
        let kind = input.kind, numAgents = input.numAgents, start = input.start
        let name = URL(fileURLWithPath: path).lastPathComponent
        let edits = patches.count
        let txnCount = txns.count

        // Reset the peak-RSS counter so the figure is about the replay, not the JSON parse.
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let baseline = procStatus("VmRSS")

        func replayOnce() throws -> TextCRDT {
            switch kind {
            case .sequential:
                return try TextReplay.sequential(txns: txns, patches: patches, scalars: scalars, start: start)
            case .concurrent:
                return try TextReplay.concurrent(txns: txns, patches: patches, scalars: scalars, start: start, numAgents: numAgents).replicas[0]
            }
        }

        var times: [Double] = []
        var last = TextCRDT()
        var correct = true
        var converged = true
        for i in 0..<runs {
            last = TextCRDT()
            let t0 = now()
            let doc = try replayOnce()
            let t1 = now()
            times.append(Double(t1 - t0) / 1e9)
            let ok = doc.scalars == expected
            correct = correct && ok
            log("run \(i + 1): \(String(format: "%.4f", times.last!)) s, correct: \(ok)")
            last = doc
        }
        let peak = procStatus("VmHWM")
        if kind == .concurrent {
            // All replicas must converge after a full merge.
            let all = try TextReplay.concurrent(txns: txns, patches: patches, scalars: scalars, start: start, numAgents: numAgents, mergeAll: true)
            let first = all.replicas[0].scalars
            converged = all.replicas.allSatisfy { $0.scalars == first }
            correct = correct && converged && first == expected
            log("all \(numAgents) replicas converge: \(converged)")
        }
        let snap = last.encodeSnapshot()
        var loadBest = Double.infinity
        var roundTrip = true
        for _ in 0..<max(runs, 3) {
            let t0 = now()
            let loaded = try TextCRDT.decodeSnapshot(snap)
            let t1 = now()
            loadBest = min(loadBest, Double(t1 - t0) / 1e9)
            roundTrip = roundTrip && loaded.scalars == last.scalars
        }
        let sorted = times.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return Report(trace: name, kind: kind.rawValue, agents: numAgents, correct: correct && roundTrip, edits: edits, txns: txnCount,
                      runs: runs, seconds: sorted[0], medianSeconds: median, peakRSSBytes: peak, baselineRSSBytes: baseline,
                      docHeapBytes: last.approximateHeapBytes, runCount: last.runCount, finalChars: last.count,
                      snapshotBytes: snap.count, snapshotLoadSeconds: loadBest, snapshotRoundTrip: roundTrip, converged: converged)
    }
}
