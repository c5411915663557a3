import ArgumentParser
import Dispatch
import Foundation
import Histogram
import LatticeClient
import LatticeProtocol
import Synchronization

struct BenchRunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "Runs completed per second through the executor of a lattice serve, and step-to-monitor latency.",
        discussion: """
            Creates a 5-node definition (emit → task → emit → emit → output) in --workspace over \
            REST; --workers bot worker connections serve its task (each answers at once). Runs are \
            started over lattice.v1 and followed by a monitor subscription on run/{id} from offset 0 \
            until run.finished. With --rate max, --in-flight runs are kept going; with a number, \
            runs start at that rate. Latency: from the worker sending task.complete to the monitor \
            receiving that node's node.finished event (one clock: everything runs in this process). \
            With --park N instead, N runs of an approval definition are left waiting and the server's \
            resident memory (--pid) is read before and after: bytes per waiting run.
            """)

    @Option(help: "Server WebSocket address.") var url = "ws://127.0.0.1:8080/ws"
    @OptionGroup var auth: TokenOption
    @Option(help: "The workspace to run in.") var workspace = "demo"
    @Option(help: "Bot worker connections.") var workers = 4
    @Option(help: "Runs started per second, or `max`.") var rate = "max"
    @Option(help: "Runs kept in flight with --rate max.") var inFlight = 64
    @Option(help: "Starter and monitor connections.") var monitors = 4
    @Option(help: "Measured seconds.") var duration = 10.0
    @Option(help: "Park this many runs on approvals and report memory per run (needs --pid).") var park: Int?
    @Option(help: "The server's process id, to read its resident memory.") var pid: Int32?
    @Flag(help: "Print one JSON object as the last line.") var json = false

    func validate() throws {
        guard workers > 0, inFlight > 0, monitors > 0, duration > 0 else { throw ValidationError("counts must be positive") }
        if park != nil, pid == nil { throw ValidationError("--park needs --pid (the server's process id)") }
    }

    func run() async throws {
        guard let target = WebSocketURL(url) else { throw ValidationError("--url must look like ws://host:port/ws") }
        let token = try auth.resolved()
        let (host, port) = try Self.hostAndPort(url)
        let sessions = (0..<monitors).map { _ in LatticeSession(url: target, options: LatticeSessionOptions(token: token, requestTimeout: .seconds(60), reconnect: nil)) }
        for session in sessions { try await session.connect() }
        defer { Task { for session in sessions { await session.close() } } }
        if let park, let pid {
            return try await parkRuns(park, pid: pid, sessions: sessions, host: host, port: port, token: token)
        }
        let definition = try Self.createDefinition(host: host, port: port, token: token, workspace: workspace, body: Self.fiveNodes)
        let clock = BenchClock()
        let stats = RunBenchStats()
        let workerSessions = (0..<workers).map { _ in LatticeSession(url: target, options: LatticeSessionOptions(token: token, reconnect: nil)) }
        var workerTasks: [Task<Void, Never>] = []
        for session in workerSessions {
            try await session.connect()
            try await session.registerWorker(workspace: workspace, capabilities: ["bench"], concurrency: 64)
            workerTasks.append(Task { await Self.serveTasks(session, clock: clock) })
        }
        let start = ContinuousClock.now
        let end = start + .milliseconds(Int64(duration * 1000))
        let workspace = self.workspace
        if rate == "max" {
            await withTaskGroup(of: Void.self) { group in
                for slot in 0..<inFlight {
                    let session = sessions[slot % sessions.count]
                    group.addTask {
                        while ContinuousClock.now < end {
                            await Self.oneRun(session, workspace: workspace, definition: definition, clock: clock, stats: stats, until: end)
                        }
                    }
                }
            }
        } else {
            guard let perSecond = Double(rate), perSecond > 0 else { throw ValidationError("--rate must be a positive number or `max`") }
            let interval = Duration.nanoseconds(Int64(1e9 / perSecond))
            await withTaskGroup(of: Void.self) { group in
                var next = start, index = 0
                while next < end {
                    try? await Task.sleep(until: next, clock: .continuous)
                    let session = sessions[index % sessions.count]
                    index += 1
                    group.addTask { await Self.oneRun(session, workspace: workspace, definition: definition, clock: clock, stats: stats, until: end + .seconds(30)) }
                    next += interval
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        for task in workerTasks { task.cancel() }
        for session in workerSessions { await session.close() }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let summary = stats.summary()
        var fields: [(String, Any)] = [
            ("runs_completed", summary.runs), ("runs_per_s", Int((Double(summary.runs) / seconds).rounded())),
            ("events_per_s", Int((Double(summary.events) / seconds).rounded())), ("failed", summary.failed),
            ("workers", workers), ("rate", rate), ("in_flight", rate == "max" ? inFlight : 0), ("seconds", (seconds * 100).rounded() / 100),
        ]
        fields += BenchReport.latencyFields(summary.latency, prefix: "step_to_monitor")
        BenchReport(fields: fields).print(json: json)
    }

    // MARK: one run

    static func oneRun(_ session: LatticeSession, workspace: String, definition: String, clock: BenchClock,
                       stats: RunBenchStats, until end: ContinuousClock.Instant) async {
        do {
            let answer = try await session.startRun(workspace: workspace, definition: definition, inputs: #"{"n":1}"#)
            let stream = answer.stream
            let from = answer.position.map { StreamPosition(epoch: $0.epoch, offset: 0) }
            let subscription = try await session.subscribe(stream, since: from)
            var events = 0
            var status = ""
            let run = String(stream.dropFirst(4))
            for await item in subscription.events {
                guard case .event(let event) = item else { continue }
                events += 1
                let text = event.data.text
                if text.contains(#""type":"node.finished""#), text.contains(#""node":"work""#), let sent = clock.completed(run) {
                    stats.latency(ContinuousClock.now - sent)
                }
                if text.contains(#""type":"run.finished""#) {
                    status = text.contains(#""status":"ok""#) ? "ok" : "other"
                    break
                }
            }
            try await session.unsubscribe(stream)
            stats.finished(ok: status == "ok", events: events, counted: ContinuousClock.now <= end)
        } catch {
            stats.finished(ok: false, events: 0, counted: ContinuousClock.now <= end)
        }
    }

    static func serveTasks(_ session: LatticeSession, clock: BenchClock) async {
        await withTaskGroup(of: Void.self) { group in
            for await message in session.workerMessages {
                guard case .assign(let task) = message else { continue }
                group.addTask {
                    clock.markCompleted(task.run)
                    try? await session.completeTask(lease: task.lease, output: #"{"ok":true}"#)
                }
            }
        }
    }

    // MARK: parked runs

    func parkRuns(_ count: Int, pid: Int32, sessions: [LatticeSession], host: String, port: Int, token: String) async throws {
        let definition = try Self.createDefinition(host: host, port: port, token: token, workspace: workspace, body: Self.approvalOnly)
        let before = BenchCRDT.procStatus("VmRSS", pid: String(pid))
        let workspace = self.workspace
        let ids = ParkedRuns()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                let session = sessions[index % sessions.count]
                group.addTask {
                    guard let answer = try? await session.startRun(workspace: workspace, definition: definition) else { return }
                    let stream = answer.stream
                    guard let subscription = try? await session.subscribe(stream, since: answer.position.map { StreamPosition(epoch: $0.epoch, offset: 0) }) else { return }
                    for await item in subscription.events {
                        if case .event(let event) = item, event.data.text.contains(#""type":"node.waiting""#) { break }
                    }
                    try? await session.unsubscribe(stream)
                    ids.list.withLock { $0.append(String(stream.dropFirst(4))) }
                }
            }
        }
        try? await Task.sleep(for: .seconds(1))
        let after = BenchCRDT.procStatus("VmRSS", pid: String(pid))
        let parked = ids.list.withLock { $0 }
        let perRun = parked.isEmpty ? 0 : (after - before) / parked.count
        BenchReport(fields: [("parked", parked.count), ("server_rss_before", before), ("server_rss_after", after),
                             ("bytes_per_waiting_run", perRun)]).print(json: json)
        for (index, run) in parked.enumerated() { _ = try? await sessions[index % sessions.count].cancelRun(run, reason: "bench done") }
    }

    // MARK: support

    static let fiveNodes = #"""
        {"name":"bench: five nodes","nodes":[
          {"id":"start","kind":"emit","data":{"n":{"$ref":"inputs.n"}},"next":["work"]},
          {"id":"work","kind":"task","capability":"bench","input":{"n":{"$ref":"inputs.n"}},"next":["after"]},
          {"id":"after","kind":"emit","data":{"ok":{"$ref":"nodes.work.output.ok"}},"next":["note"]},
          {"id":"note","kind":"emit","data":{"done":true},"next":["done"]},
          {"id":"done","kind":"output","value":{"$ref":"nodes.work.output"}}]}
        """#
    static let approvalOnly = #"""
        {"name":"bench: parked","nodes":[{"id":"ask","kind":"approval","prompt":"parked by lattice bench runs","next":["end"]},
          {"id":"end","kind":"output"}]}
        """#

    static func hostAndPort(_ url: String) throws -> (String, Int) {
        guard let components = URLComponents(string: url), let host = components.host else {
            throw ValidationError("--url must look like ws://host:port/ws")
        }
        return (host, components.port ?? 80)
    }

    static func createDefinition(host: String, port: Int, token: String, workspace: String, body: String) throws -> String {
        let answer = try PlainHTTP.request(host: host, port: port, "POST", "/api/workspaces/\(workspace)/definitions", token: token, json: body)
        guard answer.status == 201,
              let object = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [String: Any],
              let id = (object["definition"] as? [String: Any])?["id"] as? String else {
            throw ValidationError("could not create the benchmark's definition: HTTP \(answer.status) \(answer.body)")
        }
        return id
    }
}

/// The runs `--park` left waiting.
final class ParkedRuns: Sendable {
    let list = Mutex<[String]>([])
}

/// When each run's task was completed by its worker (the start of the step-to-monitor latency).
final class BenchClock: Sendable {
    private let completedAt = Mutex<[String: ContinuousClock.Instant]>([:])

    func markCompleted(_ run: String) {
        let now = ContinuousClock.now
        completedAt.withLock { $0[run] = now }
    }

    func completed(_ run: String) -> ContinuousClock.Instant? {
        completedAt.withLock { $0.removeValue(forKey: run) }
    }
}

/// Counts and the latency histogram of `lattice bench runs`.
final class RunBenchStats: Sendable {
    struct Summary {
        var runs = 0, failed = 0, events = 0
        var latency = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }
    private let state = Mutex(Summary())

    func latency(_ duration: Duration) {
        let micros = UInt64(max(1, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000))
        state.withLock { _ = $0.latency.record(min(micros, 60_000_000)) }
    }

    func finished(ok: Bool, events: Int, counted: Bool) {
        guard counted else { return }
        state.withLock { state in
            if ok { state.runs += 1 } else { state.failed += 1 }
            state.events += events
        }
    }

    func summary() -> Summary { state.withLock { $0 } }
}
