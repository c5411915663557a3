import ArgumentParser
import Dispatch
import Foundation
import LatticeClient
import LatticeProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `lattice worker`: a bot worker that runs a command per task (docs/client.md, "Workers").
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Serve tasks of a capability: run COMMAND per task, its input as JSON on stdin, its stdout as the output.",
        discussion: """
            Registers as a bot worker of --workspace with each --capability and takes up to \
            --concurrency tasks at once. Per task COMMAND runs with the task's input (JSON) on \
            standard input; when it exits 0 its standard output is the task's output (JSON when it \
            is JSON, else a JSON string); a non-zero exit fails the task (retryable, with the last \
            line of its standard error); a task.cancel from the server stops it (SIGTERM). While \
            it runs the lease is renewed every third of its length. Reconnects and registers again \
            after a disconnect. Stops on SIGINT or SIGTERM (status 0). Exit status 1: the server \
            cannot be reached; 2: the server refused the registration; 3: the token was refused; 64: bad usage.
            """)

    @Option(help: "The workspace whose tasks to serve.") var workspace = "demo"
    @Option(help: ArgumentHelp("A capability to serve; repeatable.", valueName: "name")) var capability: [String] = []
    @Option(help: "Tasks run at once (1–64).") var concurrency = 1
    @OptionGroup var connection: RunConnection
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func validate() throws {
        guard !capability.isEmpty else { throw ValidationError("give at least one --capability") }
        guard !command.isEmpty else { throw ValidationError("give the command to run after --, e.g. -- wc -w") }
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 64") }
    }

    func run() async throws {
        let session = try connection.session(reconnect: tailReconnectPolicy)
        let stopper = await CLISessionSupport.closeOnSignals(session)
        defer { stopper.cancel() }
        do {
            try await session.connect()
            try await session.registerWorker(workspace: workspace, capabilities: capability, concurrency: concurrency)
        } catch let error as LatticeClientError {
            await session.close()
            printError("lattice worker: \(error)")
            throw ClientExit.code(for: error)
        }
        printError("# worker of \(workspace) serving \(capability.joined(separator: ", ")) with \(command.joined(separator: " "))")
        let statusTask = CLISessionSupport.reportStatus(of: session, reconnected: " (registered again)")
        defer { statusTask.cancel() }
        let running = RunningTasks()
        let command = self.command
        await withTaskGroup(of: Void.self) { group in
            for await message in session.workerMessages {
                switch message {
                case .assign(let task):
                    let process = TaskProcess(command: command)
                    running.table.withLock { $0[task.lease] = process }
                    group.addTask {
                        await Self.serve(task, process: process, session: session)
                        _ = running.table.withLock { $0.removeValue(forKey: task.lease) }
                    }
                case .cancel(let cancel):
                    printError("# task \(cancel.lease) cancelled: \(cancel.reason)")
                    running.table.withLock { $0[cancel.lease] }?.stop()
                }
            }
            for process in running.table.withLock({ Array($0.values) }) { process.stop() }
        }
        try await CLISessionSupport.finish("worker", session, failure: nil, status: statusTask)
    }

    /// Runs one task's process, renewing its lease while it runs, and reports how it ended.
    static func serve(_ task: ServerMessage.TaskAssign, process: TaskProcess, session: LatticeSession) async {
        printError("# task \(task.lease): run \(task.run) node \(task.node) attempt \(task.attempt)")
        let leaseMillis = max(300, task.expiresAt - Int64(Date().timeIntervalSince1970 * 1000))
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(leaseMillis / 3))
                guard !Task.isCancelled else { return }
                try? await session.taskProgress(lease: task.lease)
            }
        }
        let result = await process.run(input: task.input.text)
        heartbeat.cancel()
        do {
            switch result {
            case .stopped:
                return
            case .exited(0, let stdout, _):
                let trimmed = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                let output = RawJSON(validating: trimmed)?.text ?? RawJSON(string: trimmed).text
                try await session.completeTask(lease: task.lease, output: output)
                printError("# task \(task.lease) done")
            case .exited(let status, _, let stderr):
                let last = stderr.split(separator: "\n").last.map(String.init) ?? ""
                try await session.failTask(lease: task.lease, error: "exit status \(status)\(last.isEmpty ? "" : ": \(last)")")
                printError("# task \(task.lease) failed: exit status \(status)")
            case .failedToStart(let why):
                try await session.failTask(lease: task.lease, error: "the command did not start: \(why)")
                printError("# task \(task.lease) failed: \(why)")
            }
        } catch {
            printError("# task \(task.lease): the report was refused: \(error)")
        }
    }
}

/// The processes of the tasks running now, by lease.
final class RunningTasks: Sendable {
    let table = Mutex<[String: TaskProcess]>([:])
}

/// One run of the worker's command: its input on stdin, its output read to the end. Blocking
/// calls happen on a dispatch thread, never on the cooperative pool.
final class TaskProcess: Sendable {
    enum Outcome: Sendable {
        case exited(Int32, stdout: String, stderr: String)
        case stopped
        case failedToStart(String)
    }

    let command: [String]
    private let state = Mutex<(process: Process?, stopped: Bool)>((nil, false))

    init(command: [String]) {
        self.command = command
    }

    /// Ends the process (SIGTERM); its task is not reported.
    func stop() {
        let process = state.withLock { state -> Process? in
            state.stopped = true
            return state.process
        }
        if let process, process.isRunning { process.terminate() }
    }

    func run(input: String) async -> Outcome {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: self.runBlocking(input: input))
            }
        }
    }

    private func runBlocking(input: String) -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let proceed = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.process = process
            return true
        }
        guard proceed else { return .stopped }
        do { try process.run() } catch { return .failedToStart("\(error)") }
        // Output is read while the input is written, so a command that answers early cannot block.
        let errors = Mutex(Data())
        let errorReader = DispatchWorkItem { errors.withLock { $0 = stderr.fileHandleForReading.readDataToEndOfFile() } }
        DispatchQueue.global().async(execute: errorReader)
        let writer = DispatchWorkItem {
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        DispatchQueue.global().async(execute: writer)
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errorReader.wait()
        writer.wait()
        if state.withLock({ $0.stopped }) { return .stopped }
        return .exited(process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                       stderr: String(decoding: errors.withLock { $0 }, as: UTF8.self))
    }
}
