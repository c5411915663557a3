import Foundation
import Testing

/// Runs and bot workers over lattice.v1 against a real `lattice serve` (docs/protocol.md, "Runs
/// and workers"): `run.start`/`run.cancel`/`run.approve`, `worker.register`, `task.assign`,
/// `task.progress`/`task.complete`/`task.fail`, `task.cancel`, leases that end.
@Suite("runs: bot workers and run requests over WebSocket", .latticeServer(APITestSupport.serveArguments),
       .timeLimit(.minutes(5)))
struct RunWorkerTests {
    static func taskFlow(capability: String, retries: Int = 0) -> [String: Any] {
        ["name": "Count", "nodes": [
            ["id": "count", "kind": "task", "capability": capability, "input": ["text": ["$ref": "inputs.text"]],
             "retries": retries, "backoffMs": 10, "next": ["result"]],
            ["id": "result", "kind": "output", "value": ["$ref": "nodes.count.output"]],
        ]]
    }

    func definition(_ t: APITestSupport, _ ws: String, token: String, _ body: [String: Any]) throws -> String {
        let made = try t.call("POST", "/api/workspaces/\(ws)/definitions", token: token, json: body)
        return try #require((made.json["definition"] as? [String: Any])?["id"] as? String, "\(made)")
    }

    func json(_ object: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    func runRow(_ t: APITestSupport, _ id: String, token: String) throws -> [String: Any] {
        try t.call("GET", "/api/runs/\(id)", token: token).json["run"] as? [String: Any] ?? [:]
    }

    func waitForEnd(_ t: APITestSupport, _ id: String, token: String) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(20)
        var row = try runRow(t, id, token: token)
        while row["finishedAt"] as? Int == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(25))
            row = try runRow(t, id, token: token)
        }
        return row
    }

    @Test("run.start over the socket, a worker gets task.assign, heartbeats, completes; the run ends ok with its output; a second completion is refused")
    func workerCompletes() async throws {
        let t = try APITestSupport()
        let server = try TestServerProcess.require()
        let (ws, owner, _) = try await t.workspace("work")
        let def = try definition(t, ws, token: owner, Self.taskFlow(capability: "wc"))
        let bot = try await t.member("editor", in: ws, name: "bot-\(ws)")
        let viewer = try await t.member("viewer", in: ws, name: "viewer-\(ws)")

        let worker = try await StreamClient.connect(port: server.port, token: bot.token)
        let early = try await worker.request(#"{"type":"task.complete","id":1,"lease":"l_x","output":{}}"#)
        #expect(early.type == "error" && early.code == "not_a_worker", "\(early)")
        let registered = try await worker.request(json(["type": "worker.register", "id": 2, "workspace": ws, "capabilities": ["wc"], "concurrency": 2]))
        #expect(registered.type == "ok", "\(registered)")

        let watcher = try await StreamClient.connect(port: server.port, token: viewer.token)
        let refused = try await watcher.request(json(["type": "run.start", "id": 1, "workspace": ws, "definition": def]))
        #expect(refused.type == "error" && refused.code == "forbidden", "a viewer does not start runs: \(refused)")

        let starter = try await StreamClient.connect(port: server.port, token: owner)
        let started = try await starter.request(json(["type": "run.start", "id": 7, "workspace": ws, "definition": def,
                                                      "inputs": ["text": "one two three"], "key": "k1"]))
        #expect(started.type == "ok" && started.stream?.hasPrefix("run/") == true && started.epoch != nil, "\(started)")
        let run = try #require((started.json["run"] as? [String: Any])?["id"] as? String)
        let again = try await starter.request(json(["type": "run.start", "id": 8, "workspace": ws, "definition": def, "key": "k1"]))
        #expect((again.json["run"] as? [String: Any])?["id"] as? String == run, "idempotent by key: \(again)")

        let assign = try await worker.next(timeout: 20) { $0.type == "task.assign" }
        #expect(assign.json["run"] as? String == run && assign.json["node"] as? String == "count" && assign.json["capability"] as? String == "wc")
        #expect((assign.json["input"] as? [String: Any])?["text"] as? String == "one two three", "\(assign)")
        let lease = try #require(assign.json["lease"] as? String)
        let beat = try await worker.request(json(["type": "task.progress", "id": 3, "lease": lease, "data": ["pct": 50]]))
        #expect(beat.type == "ok", "\(beat)")
        let done = try await worker.request(json(["type": "task.complete", "id": 4, "lease": lease, "output": ["words": 3]]))
        #expect(done.type == "ok", "\(done)")
        let twice = try await worker.request(json(["type": "task.complete", "id": 5, "lease": lease, "output": ["words": 4]]))
        #expect(twice.type == "error" && twice.code == "lease_ended", "\(twice)")
        let unknown = try await worker.request(json(["type": "task.fail", "id": 6, "lease": "l_never", "error": "x"]))
        #expect(unknown.type == "error" && unknown.code == "unknown_lease", "\(unknown)")

        let row = try await waitForEnd(t, run, token: owner)
        #expect(row["status"] as? String == "ok", "\(row)")
        #expect(((row["outputs"] as? [String: Any])?["result"] as? [String: Any])?["words"] as? Int == 3, "\(row)")
        let events = try t.call("GET", "/api/runs/\(run)/events", token: viewer.token).json["events"] as? [[String: Any]] ?? []
        let types = events.compactMap { ($0["event"] as? [String: Any])?["type"] as? String }
        #expect(types.contains("node.progress"), "a heartbeat with data is a run event: \(types)")

        let cancelFinished = try await starter.request(json(["type": "run.cancel", "id": 9, "run": run]))
        #expect(cancelFinished.type == "error" && cancelFinished.code == "run_finished", "\(cancelFinished)")
        let outsider = try await t.member("owner", in: "demo", name: "outsider-\(ws)")
        let stranger = try await StreamClient.connect(port: server.port, token: outsider.token)
        let hidden = try await stranger.request(json(["type": "run.cancel", "id": 1, "run": run]))
        #expect(hidden.type == "error" && hidden.code == "not_found", "\(hidden)")
        for client in [worker, watcher, starter, stranger] { await client.close() }
    }

    @Test("a bot token made for some capabilities registers only those; a viewer cannot register")
    func tokenCapabilities() async throws {
        let t = try APITestSupport()
        let server = try TestServerProcess.require()
        let (ws, owner, _) = try await t.workspace("caps")
        let made = try t.call("POST", "/api/tokens", token: owner, json: ["kind": "bot", "workspace": ws, "capabilities": ["wc"]])
        let botToken = try #require(made.json["token"] as? String, "\(made)")
        let bot = try await StreamClient.connect(port: server.port, token: botToken)
        let refused = try await bot.request(json(["type": "worker.register", "id": 1, "workspace": ws, "capabilities": ["wc", "deploy"]]))
        #expect(refused.type == "error" && refused.code == "forbidden" && refused.text.contains("this token serves wc"), "\(refused)")
        let accepted = try await bot.request(json(["type": "worker.register", "id": 2, "workspace": ws, "capabilities": ["wc"]]))
        #expect(accepted.type == "ok", "\(accepted)")
        let viewer = try await t.member("viewer", in: ws, name: "caps-viewer-\(ws)")
        let watcher = try await StreamClient.connect(port: server.port, token: viewer.token)
        let denied = try await watcher.request(json(["type": "worker.register", "id": 1, "workspace": ws, "capabilities": ["wc"]]))
        #expect(denied.type == "error" && denied.code == "forbidden", "\(denied)")
        for client in [bot, watcher] { await client.close() }
    }

    @Test("a worker that vanishes mid-task: the task is offered again to a second worker and the run still ends ok")
    func vanishedWorker() async throws {
        let t = try APITestSupport()
        let server = try TestServerProcess.require()
        let (ws, owner, _) = try await t.workspace("vanish")
        let def = try definition(t, ws, token: owner, Self.taskFlow(capability: "slow", retries: 2))
        let first = try await StreamClient.connect(port: server.port, token: owner)
        _ = try await first.request(json(["type": "worker.register", "id": 1, "workspace": ws, "capabilities": ["slow"]]))
        let started = try t.call("POST", "/api/workspaces/\(ws)/runs", token: owner, json: ["definition": def, "inputs": ["text": "a"]])
        let run = try #require((started.json["run"] as? [String: Any])?["id"] as? String, "\(started)")
        let firstAssign = try await first.next(timeout: 20) { $0.type == "task.assign" }
        #expect(firstAssign.json["attempt"] as? Int == 1)
        await first.kill()

        let second = try await StreamClient.connect(port: server.port, token: owner)
        _ = try await second.request(json(["type": "worker.register", "id": 1, "workspace": ws, "capabilities": ["slow"]]))
        let secondAssign = try await second.next(timeout: 20) { $0.type == "task.assign" }
        #expect(secondAssign.json["run"] as? String == run && secondAssign.json["attempt"] as? Int == 2, "\(secondAssign)")
        let lease = try #require(secondAssign.json["lease"] as? String)
        #expect(lease != firstAssign.json["lease"] as? String)
        let done = try await second.request(json(["type": "task.complete", "id": 2, "lease": lease, "output": ["words": 1]]))
        #expect(done.type == "ok", "\(done)")
        let row = try await waitForEnd(t, run, token: owner)
        #expect(row["status"] as? String == "retried_ok" || row["status"] as? String == "ok", "\(row)")
        #expect(((row["nodes"] as? [String: Any])?["count"] as? [String: Any])?["attempt"] as? Int == 2, "\(row)")
        await second.close()
    }

    @Test("run.cancel during a task: the worker gets task.cancel, the run ends cancelled, the worker's late completion is refused; task.fail not retryable fails the run")
    func cancelDuringTask() async throws {
        let t = try APITestSupport()
        let server = try TestServerProcess.require()
        let (ws, owner, _) = try await t.workspace("cancel-task")
        let def = try definition(t, ws, token: owner, Self.taskFlow(capability: "hang"))
        let worker = try await StreamClient.connect(port: server.port, token: owner)
        _ = try await worker.request(json(["type": "worker.register", "id": 1, "workspace": ws, "capabilities": ["hang"]]))
        let client = try await StreamClient.connect(port: server.port, token: owner)
        let started = try await client.request(json(["type": "run.start", "id": 1, "workspace": ws, "definition": def, "inputs": ["text": "x"]]))
        let run = try #require((started.json["run"] as? [String: Any])?["id"] as? String, "\(started)")
        let assign = try await worker.next(timeout: 20) { $0.type == "task.assign" }
        let lease = try #require(assign.json["lease"] as? String)

        let cancelled = try await client.request(json(["type": "run.cancel", "id": 2, "run": run, "reason": "changed my mind"]))
        #expect(cancelled.type == "ok", "\(cancelled)")
        let stop = try await worker.next(timeout: 20) { $0.type == "task.cancel" }
        #expect(stop.json["lease"] as? String == lease && stop.json["run"] as? String == run, "\(stop)")
        let late = try await worker.request(json(["type": "task.complete", "id": 2, "lease": lease, "output": [:]]))
        #expect(late.type == "error" && late.code == "lease_ended", "\(late)")
        let row = try await waitForEnd(t, run, token: owner)
        #expect(row["status"] as? String == "cancelled", "\(row)")

        let second = try await client.request(json(["type": "run.start", "id": 3, "workspace": ws, "definition": def, "inputs": ["text": "y"]]))
        let failing = try #require((second.json["run"] as? [String: Any])?["id"] as? String, "\(second)")
        let next = try await worker.next(timeout: 20) { $0.type == "task.assign" && $0.json["run"] as? String == failing }
        let failed = try await worker.request(json(["type": "task.fail", "id": 3, "lease": next.json["lease"] as? String ?? "",
                                                    "error": "disk full", "retryable": false]))
        #expect(failed.type == "ok", "\(failed)")
        let failedRow = try await waitForEnd(t, failing, token: owner)
        #expect(failedRow["status"] as? String == "failed", "\(failedRow)")
        for c in [worker, client] { await c.close() }
    }
}

/// A lease that runs out: the worker is told to stop and the task comes back as a new attempt.
@Suite("runs: task leases that expire", .timeLimit(.minutes(3)))
struct RunLeaseExpiryTests {
    @Test("no heartbeat within --task-lease: task.cancel, then the task is offered again as a new attempt, which can complete")
    func leaseExpires() async throws {
        let dataDir = NSTemporaryDirectory() + "lattice-lease-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let server = try await TestServerProcess.launch(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0",
                                                         "--web-root", "/nonexistent", "--data-dir", dataDir, "--task-lease", "2"])
        defer { server.terminate() }
        let admin = try #require(server.adminToken)
        let made = try HTTPTestClient.request(port: server.port, "POST", "/api/workspaces/demo/definitions", token: admin,
                                              json: RunWorkerTests.taskFlow(capability: "nap", retries: 5))
        let def = try #require((made.json["definition"] as? [String: Any])?["id"] as? String, "\(made)")
        let worker = try await StreamClient.connect(port: server.port, token: admin)
        _ = try await worker.request(#"{"type":"worker.register","id":1,"workspace":"demo","capabilities":["nap"]}"#)
        let started = try HTTPTestClient.request(port: server.port, "POST", "/api/workspaces/demo/runs", token: admin, json: ["definition": def])
        let run = try #require((started.json["run"] as? [String: Any])?["id"] as? String, "\(started)")
        let first = try await worker.next(timeout: 20) { $0.type == "task.assign" }
        let stop = try await worker.next(timeout: 20) { $0.type == "task.cancel" }
        #expect(stop.json["lease"] as? String == first.json["lease"] as? String)
        // The next attempts are answered at once. On a loaded machine one may still outlive its
        // lease: its completion is refused (lease_ended) and the next attempt comes, maybe before
        // that answer, so every message is read here, none skipped.
        var completed = false
        var attempt = 1
        var sent = 0
        while !completed, attempt < 6 {
            let message = try await worker.next(timeout: 20)
            switch message.type {
            case "task.assign":
                attempt = message.json["attempt"] as? Int ?? 0
                let lease = try #require(message.json["lease"] as? String)
                sent += 1
                try await worker.send(#"{"type":"task.complete","id":\#(sent + 1),"lease":"\#(lease)","output":{"ok":true}}"#)
            case "ok":
                completed = true
            case "error":
                #expect(message.code == "lease_ended", "\(message)")
            default:
                break  // task.cancel of an attempt that outlived its lease
            }
        }
        #expect(completed && attempt >= 2, "a later attempt completed (attempt \(attempt))")
        let deadline = ContinuousClock.now + .seconds(20)
        var status = ""
        while status != "retried_ok", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(25))
            let row = try HTTPTestClient.request(port: server.port, "GET", "/api/runs/\(run)", token: admin)
            status = (row.json["run"] as? [String: Any])?["status"] as? String ?? ""
        }
        #expect(status == "retried_ok")
        await worker.close()
    }
}
