import Foundation
import Testing

/// Definitions and runs over REST against a real `lattice serve`, with monitors on `run/{id}`
/// over WebSocket (docs/api.md "Definitions" and "Runs", docs/runs.md).
@Suite("runs: definitions and runs over REST, monitors over WebSocket", .latticeServer(APITestSupport.serveArguments),
       .timeLimit(.minutes(5)))
struct RunAPITests {
    static var approvalFlow: [String: Any] { [
        "name": "Ship it",
        "nodes": [
            ["id": "hello", "kind": "emit", "data": ["$ref": "inputs.who"], "next": ["wait"]],
            ["id": "wait", "kind": "delay", "millis": 200, "next": ["ok"]],
            ["id": "ok", "kind": "approval", "prompt": "Ship?", "next": ["done"]],
            ["id": "done", "kind": "output", "value": ["shipped": true]],
        ],
    ] }

    static func longDelay(_ millis: Int) -> [String: Any] {
        ["name": "Slow", "nodes": [["id": "nap", "kind": "delay", "millis": millis, "next": ["end"]], ["id": "end", "kind": "output"]]]
    }

    func create(_ t: APITestSupport, _ ws: String, _ definition: [String: Any], token: String) throws -> String {
        let made = try t.call("POST", "/api/workspaces/\(ws)/definitions", token: token, json: definition)
        #expect(made.status == 201, "\(made)")
        return try #require((made.json["definition"] as? [String: Any])?["id"] as? String, "\(made)")
    }

    func run(_ answer: HTTPAnswer) -> [String: Any] { answer.json["run"] as? [String: Any] ?? [:] }

    /// Polls `GET /api/runs/{id}` until `done` holds (20 s at most).
    func waitFor(_ t: APITestSupport, run id: String, token: String, _ done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(20)
        var row = run(try t.call("GET", "/api/runs/\(id)", token: token))
        while !done(row), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(25))
            row = run(try t.call("GET", "/api/runs/\(id)", token: token))
        }
        return row
    }

    @Test("definitions: every problem at once (422), versions on edit, If-Match, export then import, delete keeps versions")
    func definitions() async throws {
        let t = try APITestSupport()
        let (ws, owner, _) = try await t.workspace("defs")
        let viewer = try await t.member("viewer", in: ws, name: "defs-viewer-\(ws)")

        let bad: [String: Any] = ["name": "", "nodes": [["id": "a", "kind": "emit", "next": ["nowhere"]], ["id": "a", "kind": "teleport"]]]
        let refused = try t.call("POST", "/api/workspaces/\(ws)/definitions", token: owner, json: bad)
        #expect(refused.status == 422 && refused.errorCode == "invalid", "\(refused)")
        let errors = (refused.json["error"] as? [String: Any])?["errors"] as? [[String: Any]] ?? []
        #expect(errors.contains { $0["code"] as? String == "unknown_kind" && $0["path"] as? String == "nodes[1].kind" }, "\(errors)")
        let validated = try t.call("POST", "/api/workspaces/\(ws)/definitions/validate", token: viewer.token,
                                   json: ["name": "x", "nodes": [["id": "a", "kind": "emit", "next": ["b"]]]])
        #expect(validated.status == 200 && validated.json["valid"] as? Bool == false, "\(validated)")
        #expect(((validated.json["errors"] as? [[String: Any]])?.first?["code"] as? String) == "unknown_target", "\(validated)")
        #expect(try t.call("POST", "/api/workspaces/\(ws)/definitions", token: viewer.token, json: Self.approvalFlow).status == 403)

        let id = try create(t, ws, Self.approvalFlow, token: owner)
        var edited = Self.approvalFlow
        edited["name"] = "Ship it, v2"
        let v2 = try t.call("PUT", "/api/definitions/\(id)", token: owner, json: edited, headers: ["If-Match": "1"])
        #expect(v2.status == 200 && (v2.json["definition"] as? [String: Any])?["version"] as? Int == 2, "\(v2)")
        let stale = try t.call("PUT", "/api/definitions/\(id)", token: owner, json: edited, headers: ["If-Match": "1"])
        #expect(stale.status == 409, "\(stale)")
        let versions = try t.call("GET", "/api/definitions/\(id)/versions", token: viewer.token)
        #expect((versions.json["versions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1, 2], "\(versions)")
        let first = try t.call("GET", "/api/definitions/\(id)?version=1", token: viewer.token)
        #expect((first.json["definition"] as? [String: Any])?["name"] as? String == "Ship it", "\(first)")

        let exported = try t.call("GET", "/api/definitions/\(id)/export", token: viewer.token)
        #expect(exported.status == 200 && exported.json["format"] as? String == "lattice.workflow/1", "\(exported)")
        let imported = try t.call("POST", "/api/workspaces/\(ws)/definitions", token: owner, body: exported.body)
        #expect(imported.status == 201, "\(imported)")
        let copy = try #require((imported.json["definition"] as? [String: Any])?["id"] as? String)
        let again = try t.call("GET", "/api/definitions/\(copy)/export", token: owner)
        #expect(again.json["nodes"] as? NSArray == exported.json["nodes"] as? NSArray, "import then export keeps the definition")

        #expect(try t.call("DELETE", "/api/definitions/\(copy)", token: owner).status == 200)
        let listed = try t.call("GET", "/api/workspaces/\(ws)/definitions", token: viewer.token)
        #expect((listed.json["definitions"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id], "\(listed)")
        #expect(try t.call("GET", "/api/definitions/\(copy)?version=1", token: owner).status == 200, "a deleted definition's versions stay")

        let activity = try await ActivityIntegrationTests.waitForActivity(t, ws, token: owner, count: 6)
        let changes = activity.filter { $0.object["area"] as? String == "definitions" }
        #expect(changes.map(\.type) == ["definition.created", "definition.updated", "definition.created", "definition.deleted"],
                "\(activity.map(\.type))")
        #expect(changes.first?.subject == ["kind": "definition", "id": id, "name": "Ship it"] && changes[1].fields["version"] == "2",
                "\(changes.map(\.object))")

        let outsider = try await t.member("owner", in: "demo", name: "defs-outsider-\(ws)")
        #expect(try t.call("GET", "/api/definitions/\(id)", token: outsider.token).status == 404)
        #expect(try t.call("GET", "/api/workspaces/\(ws)/definitions", token: outsider.token).status == 403)
    }

    @Test("a run end to end: a viewer monitor gets every event live, a late monitor replays from 0 without gap or duplicate, two concurrent approvals: one wins")
    func approvalRun() async throws {
        let t = try APITestSupport()
        let server = try TestServerProcess.require()
        let (ws, owner, _) = try await t.workspace("runs")
        let viewer = try await t.member("viewer", in: ws, name: "runs-viewer-\(ws)")
        let editor = try await t.member("editor", in: ws, name: "runs-editor-\(ws)")
        let id = try create(t, ws, Self.approvalFlow, token: owner)

        let forbidden = try t.call("POST", "/api/workspaces/\(ws)/runs", token: viewer.token, json: ["definition": id])
        #expect(forbidden.status == 403, "a viewer watches but does not start: \(forbidden)")
        let started = try t.call("POST", "/api/workspaces/\(ws)/runs", token: editor.token,
                                 json: ["definition": id, "inputs": ["who": "ada"], "key": "ship-1"])
        #expect(started.status == 201, "\(started)")
        let runID = try #require(run(started)["id"] as? String)
        let again = try t.call("POST", "/api/workspaces/\(ws)/runs", token: editor.token, json: ["definition": id, "key": "ship-1"])
        #expect(again.status == 200 && run(again)["id"] as? String == runID, "the same key is the same run: \(again)")

        let monitor = try await StreamClient.connect(port: server.port, token: viewer.token)
        let page = try t.call("GET", "/api/runs/\(runID)/events", token: viewer.token)
        let epoch = try #require(page.json["epoch"] as? String, "\(page)")
        let ok = try await monitor.request(#"{"type":"subscribe","id":1,"stream":"run/\#(runID)","since":{"epoch":"\#(epoch)","offset":0}}"#)
        #expect(ok.type == "ok", "\(ok)")

        let waiting = try await waitFor(t, run: runID, token: viewer.token) { $0["status"] as? String == "awaiting_approval" }
        #expect(waiting["status"] as? String == "awaiting_approval", "\(waiting)")
        #expect((waiting["outputs"] as? [String: Any]) != nil)

        // Two decisions at once: exactly one is carried out.
        let port = server.port
        let answers = await withTaskGroup(of: Int.self) { group in
            for approved in [true, false] {
                group.addTask {
                    (try? HTTPTestClient.request(port: port, "POST", "/api/runs/\(runID)/approve", token: editor.token,
                                                 json: ["approved": approved, "comment": "race"]).status) ?? 0
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.sorted() == [200, 409], "\(answers)")
        let finished = try await waitFor(t, run: runID, token: viewer.token) { ($0["finishedAt"] as? Int) != nil }
        let status = try #require(finished["status"] as? String)
        #expect(status == "ok" || status == "rejected", "\(finished)")

        // The live monitor saw every event, in order, from offset 1, ending with run.finished.
        var live: [(Int, String)] = []
        while live.last?.1 != "run.finished" {
            let event = try await monitor.next(timeout: 20) { $0.type == "event" || $0.type == "recovered" }
            if event.type == "recovered" { continue }
            live.append((event.offset ?? -1, (event.json["data"] as? [String: Any])?["type"] as? String ?? ""))
        }
        #expect(live.map(\.0) == Array(1...live.count), "no gap, no duplicate: \(live)")
        #expect(live.first?.1 == "run.created")
        #expect(live.map(\.1).contains("node.waiting") && live.map(\.1).contains("node.decided"), "\(live)")

        // A late monitor replays the same history.
        let late = try await StreamClient.connect(port: server.port, token: viewer.token)
        _ = try await late.request(#"{"type":"subscribe","id":1,"stream":"run/\#(runID)","since":{"epoch":"\#(epoch)","offset":0}}"#)
        var replayed: [Int] = []
        while replayed.count < live.count {
            let event = try await late.next(timeout: 20) { $0.type == "event" }
            replayed.append(event.offset ?? -1)
        }
        #expect(replayed == live.map(\.0))

        // Finished: cancelling is answered plainly.
        let cancel = try t.call("POST", "/api/runs/\(runID)/cancel", token: editor.token, json: [:])
        #expect(cancel.status == 409 && cancel.errorCode == "run_finished", "\(cancel)")
        // Another workspace's member learns nothing about the run.
        let outsider = try await t.member("owner", in: "demo", name: "runs-outsider-\(ws)")
        #expect(try t.call("GET", "/api/runs/\(runID)", token: outsider.token).status == 404)
        let outsiderSocket = try await StreamClient.connect(port: server.port, token: outsider.token)
        let refused = try await outsiderSocket.request(#"{"type":"subscribe","id":1,"stream":"run/\#(runID)"}"#)
        #expect(refused.type == "error" && refused.code == "forbidden", "\(refused)")
        for socket in [monitor, late, outsiderSocket] { await socket.close() }
    }

    @Test("the first start seeds the demo workspace with example definitions; the parallel one runs to ok with both branches joined")
    func demoDefinitions() async throws {
        let t = try APITestSupport()
        let admin = try t.admin
        let listed = try t.call("GET", "/api/workspaces/demo/definitions", token: admin)
        let names = Set((listed.json["definitions"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        #expect(names.isSuperset(of: ["Greet and approve", "Count words with a bot", "Parallel branches"]), "\(listed)")
        let parallel = try #require((listed.json["definitions"] as? [[String: Any]])?.first { $0["name"] as? String == "Parallel branches" }?["id"] as? String)
        let started = run(try t.call("POST", "/api/workspaces/demo/runs", token: admin, json: ["definition": parallel]))
        let id = try #require(started["id"] as? String)
        let done = try await waitFor(t, run: id, token: admin) { ($0["finishedAt"] as? Int) != nil }
        #expect(done["status"] as? String == "ok", "\(done)")
        let output = (done["outputs"] as? [String: Any])?["join"] as? [String: Any]
        #expect((output?["right"] as? [String: Any])?["side"] as? String == "right" && output?["started"] as? Bool == true, "\(done)")
    }

    @Test("a run's summary on workspace/{ws}: run.started by its starter, run.awaiting_approval with the node, run.finished with the status")
    func activitySummary() async throws {
        let t = try APITestSupport()
        let (ws, owner, _) = try await t.workspace("runs-activity")
        let editor = try await t.member("editor", in: ws, name: "starter-\(ws)")
        let id = try create(t, ws, Self.approvalFlow, token: owner)
        let runID = try #require(run(try t.call("POST", "/api/workspaces/\(ws)/runs", token: editor.token,
                                               json: ["definition": id, "inputs": ["who": "x"]]))["id"] as? String)
        _ = try await waitFor(t, run: runID, token: owner) { $0["status"] as? String == "awaiting_approval" }
        #expect(try t.call("POST", "/api/runs/\(runID)/approve", token: owner, json: ["approved": true]).status == 200)
        _ = try await waitFor(t, run: runID, token: owner) { ($0["finishedAt"] as? Int) != nil }
        let events = try await ActivityIntegrationTests.waitForActivity(t, ws, token: owner, count: 5)
        let runs = events.filter { $0.object["area"] as? String == "runs" }
        #expect(runs.map(\.type) == ["run.started", "run.awaiting_approval", "run.finished"], "\(events.map(\.type))")
        #expect(runs.allSatisfy { $0.subject == ["kind": "run", "id": runID] })
        #expect(runs.first?.actor["name"] == "starter-\(ws)" && runs.first?.actor["kind"] == "user", "\(runs.first?.object ?? [:])")
        #expect(runs.dropFirst().first?.fields["node"] == "ok")
        #expect(runs.last?.fields["status"] == "ok" && runs.last?.fields["definition"] == id)
    }

    @Test("an interval trigger starts one run per period with the trigger as its actor; deleting the definition stops it")
    func intervalTrigger() async throws {
        let t = try APITestSupport()
        let (ws, owner, _) = try await t.workspace("trigger")
        var body = Self.longDelay(10)
        body["triggers"] = [["kind": "interval", "everyMs": 1000, "inputs": ["from": "timer"]]]
        let id = try create(t, ws, body, token: owner)
        let deadline = ContinuousClock.now + .seconds(20)
        var runs: [[String: Any]] = []
        while runs.count < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            runs = try t.call("GET", "/api/workspaces/\(ws)/runs?definition=\(id)", token: owner).json["runs"] as? [[String: Any]] ?? []
        }
        #expect(runs.count >= 2, "\(runs)")
        #expect(runs.allSatisfy { $0["actor"] as? String == "trigger:interval" && ($0["inputs"] as? [String: String]) == ["from": "timer"] }, "\(runs)")
        let keys = runs.compactMap { $0["key"] as? String }
        #expect(Set(keys).count == keys.count && keys.allSatisfy { $0.hasPrefix("trigger:\(id):") }, "one run per period: \(keys)")
        let done = try await waitFor(t, run: try #require(runs.last?["id"] as? String), token: owner) { ($0["finishedAt"] as? Int) != nil }
        #expect(done["status"] as? String == "ok", "\(done)")

        // A second triggered definition is the clock: once it has started three more runs, more
        // than two periods have passed since the delete, and the deleted one started none.
        let clock = try create(t, ws, body, token: owner)
        #expect(try t.call("DELETE", "/api/definitions/\(id)", token: owner).status == 200)
        func count(_ definition: String) throws -> Int {
            (try t.call("GET", "/api/workspaces/\(ws)/runs?definition=\(definition)&limit=500", token: owner).json["runs"] as? [Any])?.count ?? 0
        }
        var settled = try count(id)
        let ticksAtDelete = try count(clock)
        while try count(clock) < ticksAtDelete + 3, ContinuousClock.now < deadline + .seconds(20) {
            if try count(clock) == ticksAtDelete + 1 { settled = try count(id) }  // a period begun at the delete may still start one
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try count(clock) >= ticksAtDelete + 3)
        #expect(try count(id) == settled, "no run of the deleted definition after the delete")
    }

    @Test("an event trigger starts a run per matching event on its channel with the event as input; another workspace's channel is refused; deleting stops it")
    func eventTrigger() async throws {
        let t = try APITestSupport()
        let server = try TestServerProcess.require()
        let (ws, owner, _) = try await t.workspace("on-event")
        var body = Self.longDelay(10)
        body["triggers"] = [["kind": "event", "stream": "channel/\(ws)/deploys", "type": "deploy", "inputs": ["env": "prod"]]]
        let id = try create(t, ws, body, token: owner)
        var everything = Self.longDelay(10)
        everything["triggers"] = [["kind": "event", "stream": "channel/\(ws)/deploys"]]
        let clock = try create(t, ws, everything, token: owner)
        var foreign = Self.longDelay(10)
        foreign["triggers"] = [["kind": "event", "stream": "channel/demo/deploys"]]
        let refused = try t.call("POST", "/api/workspaces/\(ws)/definitions", token: owner, json: foreign)
        #expect(refused.status == 422 && refused.text.contains("bad_trigger"), "\(refused)")

        func runs(_ definition: String) throws -> [[String: Any]] {
            try t.call("GET", "/api/workspaces/\(ws)/runs?definition=\(definition)&limit=500", token: owner).json["runs"] as? [[String: Any]] ?? []
        }
        func waitUntil(_ condition: () throws -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(20)
            while try !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        }
        let publisher = try await StreamClient.connect(port: server.port, token: owner)
        func publish(_ data: String) async throws {
            let ok = try await publisher.request(#"{"type":"publish","id":1,"stream":"channel/\#(ws)/deploys","data":\#(data)}"#)
            #expect(ok.type == "ok", "\(ok)")
        }
        try await publish(#"{"type":"deploy","version":"1.2"}"#)
        try await publish(#"{"type":"chat","text":"hi"}"#)
        try await waitUntil { try runs(clock).count >= 2 }
        #expect(try runs(clock).count == 2, "the unfiltered trigger sees both events")
        let started = try runs(id)
        #expect(started.count == 1, "only the deploy matches: \(started)")
        let inputs = started.first?["inputs"] as? [String: Any]
        #expect(inputs?["env"] as? String == "prod" && (inputs?["event"] as? [String: String])?["version"] == "1.2", "\(started)")
        #expect(started.first?["actor"] as? String == "trigger:event")

        #expect(try t.call("DELETE", "/api/definitions/\(id)", token: owner).status == 200)
        // The delete is applied on the executor's loop (queued before the DELETE is answered),
        // where the trigger sees the channel's next events.
        try await publish(#"{"type":"deploy","version":"1.3"}"#)
        try await waitUntil { try runs(clock).count >= 3 }
        #expect(try runs(clock).count == 3)
        #expect(try runs(id).count == 1, "no run of the deleted definition")
        await publisher.close()
    }

    @Test("cancel during a delay and during an approval ends the run cancelled at once; cancelling twice is answered plainly; the list filters by status")
    func cancellation() async throws {
        let t = try APITestSupport()
        let (ws, owner, _) = try await t.workspace("cancel")
        let slow = try create(t, ws, Self.longDelay(600_000), token: owner)
        let approval = try create(t, ws, Self.approvalFlow, token: owner)

        let napping = run(try t.call("POST", "/api/workspaces/\(ws)/runs", token: owner, json: ["definition": slow]))
        let napID = try #require(napping["id"] as? String)
        _ = try await waitFor(t, run: napID, token: owner) { $0["status"] as? String == "running" }
        let cancelled = try t.call("POST", "/api/runs/\(napID)/cancel", token: owner, json: ["reason": "too slow"])
        #expect(cancelled.status == 200, "\(cancelled)")
        let napDone = try await waitFor(t, run: napID, token: owner) { $0["status"] as? String == "cancelled" }
        #expect(napDone["status"] as? String == "cancelled" && (napDone["reason"] as? String ?? "").hasSuffix(": too slow"), "\(napDone)")
        let twice = try t.call("POST", "/api/runs/\(napID)/cancel", token: owner, json: [:])
        #expect(twice.status == 409 && twice.errorCode == "run_finished", "\(twice)")

        let asking = run(try t.call("POST", "/api/workspaces/\(ws)/runs", token: owner, json: ["definition": approval, "inputs": ["who": "x"]]))
        let askID = try #require(asking["id"] as? String)
        _ = try await waitFor(t, run: askID, token: owner) { $0["status"] as? String == "awaiting_approval" }
        #expect(try t.call("POST", "/api/runs/\(askID)/cancel", token: owner, json: [:]).status == 200)
        let askDone = try await waitFor(t, run: askID, token: owner) { $0["status"] as? String == "cancelled" }
        #expect(askDone["status"] as? String == "cancelled", "\(askDone)")
        let decideLate = try t.call("POST", "/api/runs/\(askID)/approve", token: owner, json: ["approved": true])
        #expect(decideLate.status == 409, "\(decideLate)")

        let listed = try t.call("GET", "/api/workspaces/\(ws)/runs?status=cancelled&limit=1", token: owner)
        let runs = listed.json["runs"] as? [[String: Any]] ?? []
        #expect(runs.count == 1 && runs.first?["id"] as? String == askID, "newest first: \(listed)")
        let next = try #require(listed.json["next"] as? String)
        let second = try t.call("GET", "/api/workspaces/\(ws)/runs?status=cancelled&limit=1&before=\(next)", token: owner)
        #expect((second.json["runs"] as? [[String: Any]])?.first?["id"] as? String == napID, "\(second)")
        #expect(try t.call("GET", "/api/workspaces/\(ws)/runs?status=sleeping", token: owner).status == 400)
        let badStart = try t.call("POST", "/api/workspaces/\(ws)/runs", token: owner, json: ["definition": "d_nope"])
        #expect(badStart.status == 404, "\(badStart)")
        let badInputs = try t.call("POST", "/api/workspaces/\(ws)/runs", token: owner, json: ["definition": slow, "inputs": [1, 2]])
        #expect(badInputs.status == 400, "\(badInputs)")
    }
}

/// Runs across a restart of the real server on the same data directory.
@Suite("runs: across a restart", .timeLimit(.minutes(4)))
struct RunRestartTests {
    @Test("a run waiting for approval survives a restart, stays visible to its members only, and finishes when approved")
    func approvalSurvivesRestart() async throws {
        let dataDir = NSTemporaryDirectory() + "lattice-runs-restart-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let args = ["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent", "--data-dir", dataDir]
        var server = try await TestServerProcess.launch(args)
        let admin = try #require(server.adminToken)
        let made = try HTTPTestClient.request(port: server.port, "POST", "/api/workspaces/demo/definitions", token: admin,
                                              json: RunAPITests.approvalFlow)
        let definition = try #require((made.json["definition"] as? [String: Any])?["id"] as? String, "\(made)")
        let started = try HTTPTestClient.request(port: server.port, "POST", "/api/workspaces/demo/runs", token: admin,
                                                 json: ["definition": definition, "inputs": ["who": "restart"]])
        let runID = try #require((started.json["run"] as? [String: Any])?["id"] as? String, "\(started)")
        let deadline = ContinuousClock.now + .seconds(20)
        var status = ""
        while status != "awaiting_approval", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(25))
            let row = try HTTPTestClient.request(port: server.port, "GET", "/api/runs/\(runID)", token: admin)
            status = (row.json["run"] as? [String: Any])?["status"] as? String ?? ""
        }
        #expect(status == "awaiting_approval")
        let before = try HTTPTestClient.request(port: server.port, "GET", "/api/runs/\(runID)/events", token: admin)
        let eventsBefore = (before.json["events"] as? [Any])?.count ?? 0
        #expect(TestServerProcess.exitedCleanly(server.terminate()))

        server = try await TestServerProcess.launch(args)
        defer { server.terminate() }
        let row = try HTTPTestClient.request(port: server.port, "GET", "/api/runs/\(runID)", token: admin)
        #expect((row.json["run"] as? [String: Any])?["status"] as? String == "awaiting_approval", "an approval stays resumable: \(row)")
        let approved = try HTTPTestClient.request(port: server.port, "POST", "/api/runs/\(runID)/approve", token: admin, json: ["approved": true])
        #expect(approved.status == 200, "\(approved)")
        var final: [String: Any] = [:]
        while final["finishedAt"] as? Int == nil, ContinuousClock.now < deadline + .seconds(20) {
            try await Task.sleep(for: .milliseconds(25))
            final = (try HTTPTestClient.request(port: server.port, "GET", "/api/runs/\(runID)", token: admin).json["run"] as? [String: Any]) ?? [:]
        }
        #expect(final["status"] as? String == "ok", "\(final)")
        #expect(((final["outputs"] as? [String: Any])?["done"] as? [String: Any])?["shipped"] as? Bool == true, "\(final)")
        let after = try HTTPTestClient.request(port: server.port, "GET", "/api/runs/\(runID)/events", token: admin)
        let offsets = (after.json["events"] as? [[String: Any]] ?? []).compactMap { ($0["offset"] as? NSNumber)?.intValue }
        #expect(offsets == Array(1...offsets.count) && offsets.count > eventsBefore, "offsets continue after the restart: \(offsets)")
    }
}
