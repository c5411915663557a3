import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `lattice run …` and `lattice worker` as child processes against a real `lattice serve`
/// (docs/client.md, "Runs" and "Workers").
@Suite("runs: lattice run and lattice worker", .latticeServer(APITestSupport.serveArguments), .timeLimit(.minutes(5)))
struct RunCLITests {
    var url: String { "ws://127.0.0.1:\(TestServerProcess.current!.port)/ws" }

    func definition(_ body: [String: Any]) throws -> String {
        let t = try APITestSupport()
        let made = try t.call("POST", "/api/workspaces/demo/definitions", token: try t.admin, json: body)
        return try #require((made.json["definition"] as? [String: Any])?["id"] as? String, "\(made)")
    }

    @Test("lattice worker runs its command per task (input on stdin, stdout as output); run start --follow prints the events and exits 0; a failing command fails the run: exit 4")
    func workerAndFollow() async throws {
        let count = try definition(RunWorkerTests.taskFlow(capability: "cli-wc"))
        let boom = try definition(RunWorkerTests.taskFlow(capability: "cli-boom"))
        // `wc -w` of the input {"text":"one two three"} counts 3 words.
        let counter = try await ChildProcess(["worker", "--url", url, "--workspace", "demo", "--capability", "cli-wc", "--concurrency", "2",
                                              "--", "sh", "-c", #"printf '{"words":%d}' $(wc -w)"#])
        let failer = try await ChildProcess(["worker", "--url", url, "--workspace", "demo", "--capability", "cli-boom",
                                             "--", "sh", "-c", "echo 'disk full' >&2; exit 3"])
        defer {
            for child in [counter, failer] where child.process.isRunning { kill(child.process.processIdentifier, SIGTERM) }
        }
        #expect(await counter.wait { _, err in err.contains("# worker of demo serving cli-wc") }, "\(counter.stderr)")
        #expect(await failer.wait { _, err in err.contains("# worker of demo serving cli-boom") }, "\(failer.stderr)")

        let ok = try await ChildProcess.run(["run", "start", count, "--url", url, "--input", "text=one two three", "--follow"])
        #expect(ok.status == 0, "\(ok)")
        #expect(ok.stdout.contains("node.output") || ok.stdout.contains("node.finished"), "\(ok.stdout)")
        #expect(ok.stdout.contains("run.finished ok"), "\(ok.stdout)")
        #expect(await counter.wait { _, err in err.contains("done") }, "\(counter.stderr)")
        let runID = try #require(ok.stdout.split(separator: "\n").first?.split(separator: " ").first.map(String.init))
        let row = try APITestSupport().call("GET", "/api/runs/\(runID)", token: try APITestSupport().admin)
        let output = ((row.json["run"] as? [String: Any])?["outputs"] as? [String: Any])?["result"] as? [String: Any]
        #expect(output?["words"] as? Int == 3, "\(row)")

        let failed = try await ChildProcess.run(["run", "start", boom, "--url", url, "--follow", "--json"])
        #expect(failed.status == 4, "\(failed)")
        #expect(failed.stdout.contains("exit status 3: disk full"), "\(failed.stdout)")

        for child in [counter, failer] { kill(child.process.processIdentifier, SIGTERM) }
        #expect(await counter.exitStatus(within: 15) == 0, "\(counter.stderr)")
        #expect(await failer.exitStatus(within: 15) == 0, "\(failer.stderr)")
    }

    @Test("lattice run watch follows a run from its start and exits 5 when lattice run cancel cancels it; approve and --deny decide; errors exit 2")
    func watchCancelApprove() async throws {
        let approval = try definition(RunAPITests.approvalFlow)
        let started = try await ChildProcess.run(["run", "start", approval, "--url", url, "--input", "who=\"cli\"", "--key", "watch-1"])
        #expect(started.status == 0, "\(started)")
        let runID = try #require(started.stdout.split(separator: " ").first.map(String.init), "\(started.stdout)")
        let again = try await ChildProcess.run(["run", "start", approval, "--url", url, "--key", "watch-1"])
        #expect(again.stdout.hasPrefix(runID), "the same key is the same run: \(again)")

        let watcher = try await ChildProcess(["run", "watch", runID, "--url", url])
        #expect(await watcher.wait { out, _ in out.contains("node.waiting ok") }, "\(watcher.stdout + watcher.stderr)")
        let cancel = try await ChildProcess.run(["run", "cancel", runID, "--url", url, "--reason", "from the cli"])
        #expect(cancel.status == 0 && cancel.stdout.contains("cancelled"), "\(cancel)")
        #expect(await watcher.exitStatus(within: 20) == 5, "\(watcher.stdout + watcher.stderr)")
        #expect(watcher.stdout.hasPrefix("1 run.created"), "from the first event: \(watcher.stdout)")
        let twice = try await ChildProcess.run(["run", "cancel", runID, "--url", url])
        #expect(twice.status == 2 && twice.stderr.contains("run_finished"), "\(twice)")

        let second = try await ChildProcess.run(["run", "start", approval, "--url", url, "--input", "who=x"])
        let secondID = try #require(second.stdout.split(separator: " ").first.map(String.init))
        let waiter = try await ChildProcess(["run", "watch", secondID, "--url", url])
        #expect(await waiter.wait { out, _ in out.contains("node.waiting ok") }, "\(waiter.stdout)")
        let denied = try await ChildProcess.run(["run", "approve", secondID, "--deny", "--comment", "no", "--url", url])
        #expect(denied.status == 0, "\(denied)")
        #expect(await waiter.exitStatus(within: 20) == 6, "rejected: \(waiter.stdout)")

        let missing = try await ChildProcess.run(["run", "watch", "run_nope", "--url", url])
        #expect(missing.status == 2, "\(missing)")
    }

    @Test("lattice bench runs --json: runs complete through bot workers with none failed, and a latency is measured")
    func benchRuns() async throws {
        let bench = try await ChildProcess.run(["bench", "runs", "--url", url, "--duration", "1", "--in-flight", "4", "--workers", "2", "--json"], within: 60)
        #expect(bench.status == 0, "\(bench)")
        let line = bench.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let report = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        #expect((report["runs_completed"] as? Int ?? 0) > 0 && report["failed"] as? Int == 0, "\(bench)")
        #expect((report["step_to_monitor_p50_us"] as? Int ?? 0) > 0, "\(report)")
        #expect((report["events_per_s"] as? Int ?? 0) > (report["runs_per_s"] as? Int ?? 0), "several events per run: \(report)")
    }
}
