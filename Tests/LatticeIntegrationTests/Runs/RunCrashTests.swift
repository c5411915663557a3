import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `lattice serve` killed with SIGKILL in the middle of runs, then started again on the same
/// data directory (docs/runs.md, "Start-up"), and the run limits reached over a real socket.
@Suite("runs: SIGKILL in the middle of runs, and limits", .timeLimit(.minutes(4)))
struct RunCrashTests {
    static func serveArgs(_ dataDir: String, _ extra: [String] = []) -> [String] {
        ["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent", "--data-dir", dataDir] + extra
    }

    static func create(_ port: Int, _ token: String, _ body: [String: Any]) throws -> String {
        let made = try HTTPTestClient.request(port: port, "POST", "/api/workspaces/demo/definitions", token: token, json: body)
        return try #require((made.json["definition"] as? [String: Any])?["id"] as? String, "\(made)")
    }

    static func start(_ port: Int, _ token: String, _ definition: String) throws -> String {
        let started = try HTTPTestClient.request(port: port, "POST", "/api/workspaces/demo/runs", token: token, json: ["definition": definition])
        return try #require((started.json["run"] as? [String: Any])?["id"] as? String, "\(started)")
    }

    static func row(_ port: Int, _ token: String, _ run: String) throws -> [String: Any] {
        try HTTPTestClient.request(port: port, "GET", "/api/runs/\(run)", token: token).json["run"] as? [String: Any] ?? [:]
    }

    static func waitFor(_ port: Int, _ token: String, _ run: String, seconds: Int = 30, _ done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var current = try row(port, token, run)
        while !done(current), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(25))
            current = try row(port, token, run)
        }
        return current
    }

    /// (offset, type) of every stored event of a run.
    static func events(_ port: Int, _ token: String, _ run: String) throws -> [(Int, String)] {
        let page = try HTTPTestClient.request(port: port, "GET", "/api/runs/\(run)/events?limit=1000", token: token)
        return (page.json["events"] as? [[String: Any]] ?? []).map {
            (($0["offset"] as? NSNumber)?.intValue ?? -1, ($0["event"] as? [String: Any])?["type"] as? String ?? "")
        }
    }

    static func delays(_ name: String, resumable: Bool) -> [String: Any] {
        ["name": name, "resumable": resumable, "nodes": [
            ["id": "first", "kind": "delay", "millis": 5000, "next": ["second"]],
            ["id": "second", "kind": "emit", "data": ["step": 2], "next": ["end"]],
            ["id": "end", "kind": "output", "value": ["$ref": "nodes.second.output"]],
        ]]
    }

    @Test("kill -9 mid-run: a plain run ends interrupted with its reason, a resumable one finishes ok without redoing a node, an approval still waits; every event seen before the kill is still there and offsets continue")
    func killNine() async throws {
        let dataDir = NSTemporaryDirectory() + "lattice-runs-kill-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        var server = try await TestServerProcess.launch(Self.serveArgs(dataDir))
        let admin = try #require(server.adminToken)
        var port = server.port
        let plain = try Self.start(port, admin, try Self.create(port, admin, Self.delays("plain", resumable: false)))
        let resumable = try Self.start(port, admin, try Self.create(port, admin, Self.delays("resumable", resumable: true)))
        let approval = try Self.start(port, admin, try Self.create(port, admin, RunAPITests.approvalFlow))
        for run in [plain, resumable] {
            let running = try await Self.waitFor(port, admin, run) { (($0["nodes"] as? [String: Any])?["first"] as? [String: Any])?["status"] as? String == "running" }
            #expect(running["status"] as? String == "running", "\(running)")
        }
        _ = try await Self.waitFor(port, admin, approval) { $0["status"] as? String == "awaiting_approval" }
        let before = try [plain, resumable, approval].map { try Self.events(port, admin, $0) }
        kill(server.pid, SIGKILL)
        _ = server.terminate()

        server = try await TestServerProcess.launch(Self.serveArgs(dataDir))
        defer { server.terminate() }
        port = server.port
        let interrupted = try await Self.waitFor(port, admin, plain) { $0["finishedAt"] as? Int != nil }
        #expect(interrupted["status"] as? String == "interrupted" && interrupted["reason"] as? String != nil, "\(interrupted)")
        let resumed = try await Self.waitFor(port, admin, resumable) { $0["finishedAt"] as? Int != nil }
        #expect(resumed["status"] as? String == "ok", "\(resumed)")
        #expect((resumed["outputs"] as? [String: Any])?["end"] as? [String: Int] == ["step": 2], "\(resumed)")
        let waiting = try Self.row(port, admin, approval)
        #expect(waiting["status"] as? String == "awaiting_approval", "\(waiting)")

        for (index, run) in [plain, resumable, approval].enumerated() {
            let after = try Self.events(port, admin, run)
            #expect(after.map(\.0) == Array(1...after.count), "offsets are contiguous and continue: \(after)")
            #expect(Array(after.prefix(before[index].count)).map(\.0) == before[index].map(\.0)
                    && Array(after.prefix(before[index].count)).map(\.1) == before[index].map(\.1),
                    "every event from before the kill is still there: \(before[index]) vs \(after)")
            if run == resumable {
                let startsOfSecond = after.filter { $0.1 == "node.started" }.count
                #expect(startsOfSecond >= 2 && after.filter { $0.1 == "run.finished" }.count == 1, "\(after)")
            }
        }
    }

    @Test("--max-runs 1: a second run waits queued until the first ends, then starts; a cancel of a queued run ends it at once")
    func limits() async throws {
        let dataDir = NSTemporaryDirectory() + "lattice-runs-limits-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let server = try await TestServerProcess.launch(Self.serveArgs(dataDir, ["--max-runs", "1"]))
        defer { server.terminate() }
        let admin = try #require(server.adminToken)
        let port = server.port
        let slow = try Self.create(port, admin, ["name": "slow", "nodes": [["id": "nap", "kind": "delay", "millis": 3000, "next": ["end"]], ["id": "end", "kind": "output"]]])
        let first = try Self.start(port, admin, slow)
        let second = try Self.start(port, admin, slow)
        let third = try Self.start(port, admin, slow)
        _ = try await Self.waitFor(port, admin, first) { $0["status"] as? String == "running" }
        #expect(try Self.row(port, admin, second)["status"] as? String == "queued")
        let cancelled = try HTTPTestClient.request(port: port, "POST", "/api/runs/\(third)/cancel", token: admin, json: [:])
        #expect(cancelled.status == 200 && (cancelled.json["run"] as? [String: Any])?["status"] as? String == "cancelled", "\(cancelled)")
        let firstDone = try await Self.waitFor(port, admin, first) { $0["finishedAt"] as? Int != nil }
        let secondDone = try await Self.waitFor(port, admin, second) { $0["finishedAt"] as? Int != nil }
        #expect(firstDone["status"] as? String == "ok" && secondDone["status"] as? String == "ok")
        let firstEnd = try #require(firstDone["finishedAt"] as? Int), secondStart = try #require(secondDone["startedAt"] as? Int)
        #expect(secondStart >= firstEnd, "the second started only when the first had ended")
        let tooBig = try HTTPTestClient.request(port: port, "POST", "/api/workspaces/demo/runs", token: admin,
                                                json: ["definition": slow, "inputs": ["blob": String(repeating: "x", count: 70_000)]])
        #expect(tooBig.status == 400 && tooBig.text.contains("limit"), "\(tooBig)")
    }
}
