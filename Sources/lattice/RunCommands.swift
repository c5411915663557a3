import ArgumentParser
import Foundation
import LatticeClient
import LatticeProtocol

/// `lattice run …`: start, watch, cancel and decide runs over lattice.v1 (docs/client.md, "Runs").
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start, watch, cancel and approve workflow runs.",
        subcommands: [RunStartCommand.self, RunWatchCommand.self, RunCancelCommand.self, RunApproveCommand.self]
    )
}

/// How a run ended, as `lattice run watch` and `start --follow` exit (docs/client.md).
enum RunExit {
    static func status(for runStatus: String) -> Int32 {
        switch runStatus {
        case "ok", "retried_ok": 0
        case "failed": 4
        case "cancelled": 5
        case "rejected": 6
        case "interrupted": 7
        case "partial": 8
        default: ClientExit.refused
        }
    }
}

/// The options every run command shares.
struct RunConnection: ParsableArguments {
    @Option(help: "Server WebSocket address.") var url = "ws://127.0.0.1:8080/ws"
    @OptionGroup var auth: TokenOption

    func session(reconnect: ReconnectPolicy? = nil) throws -> LatticeSession {
        guard let target = WebSocketURL(url) else { throw ValidationError("--url must look like ws://host:port/ws") }
        return LatticeSession(url: target, options: LatticeSessionOptions(token: try auth.resolved(), reconnect: reconnect))
    }

    /// Connects, runs `body`, closes; a refusal or an unreachable server exits with its status
    /// and one line on standard error.
    func with<T: Sendable>(_ command: String, reconnect: ReconnectPolicy? = nil,
                           _ body: (LatticeSession) async throws -> T) async throws -> T {
        let session = try session(reconnect: reconnect)
        do {
            try await session.connect()
            let value = try await body(session)
            await session.close()
            return value
        } catch let error as LatticeClientError {
            await session.close()
            printError("lattice \(command): \(error)")
            throw ClientExit.code(for: error)
        } catch {
            await session.close()
            throw error
        }
    }
}

extension RawJSON {
    /// A field of a JSON object (the run rows the server sends), as Foundation values.
    func field(_ name: String) -> Any? {
        ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any])?[name]
    }
}

/// Prints a run's events from offset 0, then live, until `run.finished`; returns its status.
enum RunFollower {
    static func follow(_ session: LatticeSession, run: String, from start: StreamPosition?, json: Bool) async throws -> String {
        let stream = "run/\(run)"
        var origin = start
        if origin == nil {
            // The epoch comes with a subscribe's answer; then read the whole history from it.
            let live = try await session.subscribe(stream)
            try await session.unsubscribe(stream)
            origin = live.start
        }
        let from = origin.map { StreamPosition(epoch: $0.epoch, offset: 0) }
        let subscription = try await session.subscribe(stream, since: from)
        for await item in subscription.events {
            switch item {
            case .event(let event):
                let object = (try? JSONSerialization.jsonObject(with: Data(event.data.text.utf8))) as? [String: Any] ?? [:]
                let type = object["type"] as? String ?? "?"
                if json {
                    printLine("{\"offset\":\(event.offset),\"event\":\(event.data)}")
                } else {
                    var line = "\(event.offset) \(type)"
                    if let node = object["node"] as? String { line += " \(node)" }
                    if let status = object["status"] as? String { line += " \(status)" }
                    if let reason = object["reason"] as? String { line += " (\(reason))" }
                    printLine(line)
                }
                if type == "run.finished" {
                    try? await session.unsubscribe(stream)
                    return object["status"] as? String ?? "?"
                }
            case .reset(let position):
                printError("# history before \(position.cliText) is gone (retention); following from there")
            case .failed(let error):
                throw error
            case .resumed, .presence, .presenceDiff:
                break
            }
        }
        throw LatticeClientError.connectionLost
    }
}

struct RunStartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start a run of a definition and print its id (with --follow, its events until it ends).",
        discussion: """
            Prints `RUN STATUS` (or, with --json, the run's row). --input KEY=VALUE sets an input: \
            VALUE is read as JSON when it is JSON (42, true, {"a":1}, "quoted"), else as a string. \
            The same --key gives back the same run. With --follow the exit status tells how the run \
            ended: 0 ok or retried_ok, 4 failed, 5 cancelled, 6 rejected, 7 interrupted, 8 partial. \
            Otherwise: 1 the server cannot be reached; 2 the server refused (its code is printed); \
            3 the server refused the token; 64 bad usage.
            """)

    @Argument(help: "The definition's id (def_…).") var definition: String
    @Option(help: "The workspace.") var workspace = "demo"
    @Option(help: ArgumentHelp("An input, KEY=VALUE; repeatable.", valueName: "key=value")) var input: [String] = []
    @Option(help: "Idempotency key: starting again with it returns the same run.") var key: String?
    @Option(help: "The definition version (default: the newest).") var version: Int?
    @Flag(help: "Print the run's events until it ends, then exit with its outcome.") var follow = false
    @Flag(help: "JSON output.") var json = false
    @OptionGroup var connection: RunConnection

    func inputsJSON() throws -> String? {
        guard !input.isEmpty else { return nil }
        var fields: [String] = []
        for pair in input {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--input must look like KEY=VALUE, not '\(pair)'")
            }
            let name = String(pair[..<equals]), raw = String(pair[pair.index(after: equals)...])
            let value = RawJSON(validating: raw)?.text ?? RawJSON(string: raw).text
            fields.append("\(RawJSON(string: name)):\(value)")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    func run() async throws {
        let inputs = try inputsJSON()
        let (follow, json, definition, workspace, key, version) = (self.follow, self.json, self.definition, self.workspace, self.key, self.version)
        let outcome: String? = try await connection.with("run start", reconnect: follow ? tailReconnectPolicy : nil) { session in
            let answer = try await session.startRun(workspace: workspace, definition: definition, version: version, inputs: inputs, key: key)
            let id = answer.row.field("id") as? String ?? "?"
            if json && !follow { printLine(answer.row.text) } else { printLine("\(id) \(answer.row.field("status") as? String ?? "?")") }
            guard follow else { return nil }
            return try await RunFollower.follow(session, run: id, from: answer.position, json: json)
        }
        if let outcome {
            if !json { printError("# run ended \(outcome)") }
            let status = RunExit.status(for: outcome)
            if status != 0 { throw ExitCode(status) }
        }
    }
}

struct RunWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print a run's events from the start, then live, until it ends; exit with its outcome.",
        discussion: """
            Each event is printed as `OFFSET TYPE [NODE] [STATUS] [(REASON)]` (with --json: \
            {"offset","event"} per line). Reconnects and resumes after a disconnect. Exit status: \
            0 ok or retried_ok, 4 failed, 5 cancelled, 6 rejected, 7 interrupted, 8 partial; \
            1 the server cannot be reached; 2 the server refused (no such run, not a member); \
            3 the server refused the token; 64 bad usage.
            """)

    @Argument(help: "The run's id (run_…).") var run: String
    @Flag(help: "One JSON object per line.") var json = false
    @OptionGroup var connection: RunConnection

    func run() async throws {
        let (run, json) = (self.run, self.json)
        let outcome = try await connection.with("run watch", reconnect: tailReconnectPolicy) { session in
            try await RunFollower.follow(session, run: run, from: nil, json: json)
        }
        if !json { printError("# run ended \(outcome)") }
        let status = RunExit.status(for: outcome)
        if status != 0 { throw ExitCode(status) }
    }
}

struct RunCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a run; prints `RUN STATUS`.",
        discussion: """
            A waiting delay or approval stops at once; a running task's worker is told to stop. \
            Exit status: 2 the server refused (e.g. run_finished: it has already ended); 1 the \
            server cannot be reached; 3 the token was refused; 64 bad usage.
            """)

    @Argument(help: "The run's id (run_…).") var run: String
    @Option(help: "Why (kept in the run's reason).") var reason: String?
    @OptionGroup var connection: RunConnection

    func run() async throws {
        let (run, reason) = (self.run, self.reason)
        let answer = try await connection.with("run cancel") { try await $0.cancelRun(run, reason: reason) }
        printLine("\(run) \(answer.row.field("status") as? String ?? "?")")
    }
}

struct RunApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Decide on a run's waiting approval (approve, or --deny); prints `RUN STATUS`.",
        discussion: """
            --node names the approval when several wait. Of two decisions at once one wins; the \
            other is refused with `conflict` (exit status 2). 1 the server cannot be reached; 3 \
            the token was refused; 64 bad usage.
            """)

    @Argument(help: "The run's id (run_…).") var run: String
    @Flag(help: "Deny instead of approve (the run ends rejected).") var deny = false
    @Option(help: "The approval node's id.") var node: String?
    @Option(help: "A comment kept with the decision.") var comment: String?
    @OptionGroup var connection: RunConnection

    func run() async throws {
        let (run, deny, node, comment) = (self.run, self.deny, self.node, self.comment)
        let answer = try await connection.with("run approve") { try await $0.decideRun(run, approved: !deny, node: node, comment: comment) }
        printLine("\(run) \(answer.row.field("status") as? String ?? "?")")
    }
}
