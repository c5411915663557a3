import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a test server could not be started.
struct TestServerError: Error, CustomStringConvertible {
    let description: String
}

/// A `lattice` child process (e.g. `lattice echo` or `lattice serve`) run for a test.
///
/// `launch` starts the built binary with the given arguments, waits for the line
/// `... listening on HOST:PORT` on its standard output to learn the port, and
/// `terminate` always stops it by PID: SIGTERM, then SIGKILL if it has not exited
/// within the grace period. Standard error goes to a temporary file that is quoted
/// in failure messages.
///
/// Use it through the `.latticeServer(...)` / `.echoServer(...)` suite traits, which
/// start one process for a whole suite and expose it as `TestServerProcess.current`.
final class TestServerProcess: Sendable {
    let pid: pid_t
    let host: String
    let port: Int
    let arguments: [String]
    /// Everything read from standard output up to the listening line.
    let startupOutput: String
    private let stdoutFD: Int32
    /// Write end of the watcher's pipe; closing it makes the watcher exit.
    private let watchFD: Int32
    private let stderrPath: String
    private let exitStatus = Mutex<Int32?>(nil)
    /// `lattice serve`: its data directory (made for the test unless the arguments name one;
    /// removed at `terminate` when made here) and the admin token its first start printed.
    let dataDir: String?
    private let ownsDataDir: Bool
    let adminToken: String?
    private let tokens = Mutex<[String: String]>([:])

    /// The server of the innermost suite that declared one with a trait.
    @TaskLocal static var current: TestServerProcess?

    /// Running servers by port, so clients given only a port find their server's tokens.
    private static let byPort = Mutex<[Int: TestServerProcess]>([:])

    /// The running server listening on `port`.
    static func on(port: Int, sourceLocation: SourceLocation = #_sourceLocation) throws -> TestServerProcess {
        try #require(byPort.withLock { $0[port] }, "no test server on port \(port)", sourceLocation: sourceLocation)
    }

    /// The server the current suite started, or a clear failure.
    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> TestServerProcess {
        try #require(current, "no test server: add .echoServer(...) or .latticeServer(...) to the suite",
                     sourceLocation: sourceLocation)
    }

    private init(pid: pid_t, host: String, port: Int, arguments: [String], startupOutput: String,
                 stdoutFD: Int32, watchFD: Int32, stderrPath: String, dataDir: String?, ownsDataDir: Bool) {
        self.dataDir = dataDir
        self.ownsDataDir = ownsDataDir
        self.adminToken = Self.firstToken(in: startupOutput)
        self.pid = pid
        self.host = host
        self.port = port
        self.arguments = arguments
        self.startupOutput = startupOutput
        self.stdoutFD = stdoutFD
        self.watchFD = watchFD
        self.stderrPath = stderrPath
    }

    deinit {
        terminate()
    }

    // MARK: finding the binary

    /// The `lattice` executable: `$LATTICE_BIN` if set, else the build products folder
    /// holding this test binary (found from `/proc/self/exe`, or `argv[0]`).
    static func locateBinary(named name: String = "lattice") throws -> String {
        let fm = FileManager.default
        if let override = ProcessInfo.processInfo.environment["LATTICE_BIN"], !override.isEmpty {
            guard fm.isExecutableFile(atPath: override) else {
                throw TestServerError(description: "LATTICE_BIN=\(override) is not an executable file")
            }
            return override
        }
        let exe = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
        var searched: [String] = []
        // On Linux the test binary sits in the products folder itself; on macOS it is
        // inside an .xctest bundle (Contents/MacOS), so look a few levels up too.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name).path
            searched.append(directory.path)
            if fm.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        throw TestServerError(description: """
            the '\(name)' executable was not found next to the test binary (looked in \(searched.joined(separator: ", "))). \
            Build it first with the same scratch path (e.g. `swift build --scratch-path <path>`), \
            or point LATTICE_BIN at it.
            """)
    }

    // MARK: launching

    /// Starts `lattice <arguments>` and waits (up to `startupTimeout` seconds) for its
    /// listening line. The arguments should include `--port 0`.
    static func launch(_ arguments: [String], binary: String? = nil, startupTimeout: Double = 15) async throws -> TestServerProcess {
        try await offPool { try launchBlocking(arguments, binary: binary, startupTimeout: startupTimeout) }
    }

    private static func launchBlocking(_ arguments: [String], binary: String?, startupTimeout: Double) throws -> TestServerProcess {
        let path = try binary ?? locateBinary()
        var arguments = arguments
        var dataDir: String? = nil
        var ownsDataDir = false
        if arguments.first == "serve" {
            if let flag = arguments.firstIndex(of: "--data-dir"), flag + 1 < arguments.count {
                dataDir = arguments[flag + 1]
            } else {
                let made = NSTemporaryDirectory() + "lattice-test-data-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                arguments += ["--data-dir", made]
                dataDir = made
                ownsDataDir = true
            }
        }

        let stderrPath = NSTemporaryDirectory() + "lattice-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).stderr"
        let errFD = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard errFD >= 0 else { throw TestServerError(description: "cannot create \(stderrPath)") }
        defer { close(errFD) }

        // The child runs `sh -c SCRIPT lattice args...`: the shell starts a watcher that
        // reads fd 3 (a pipe whose write end only this process holds) and then `exec`s the
        // server, so the server keeps the spawned PID. If this process dies without
        // terminating it (a crash), the pipe closes, the watcher's read ends and it kills
        // the server: no orphan outlives the test run.
        let script = "{ cat >/dev/null; kill -KILL $$; } <&3 >/dev/null 2>&1 & exec \"$0\" \"$@\" </dev/null 3<&-"
        let (pid, stdoutFD, watchFD) = try spawnLock.withLock { _ -> (pid_t, Int32, Int32) in
            // Under the lock no other thread spawns between pipe() and FD_CLOEXEC, so no
            // other child inherits these pipes.
            var outPipe: [Int32] = [-1, -1]
            var watchPipe: [Int32] = [-1, -1]
            guard pipe(&outPipe) == 0 else {
                throw TestServerError(description: "pipe failed: \(String(cString: strerror(errno)))")
            }
            guard pipe(&watchPipe) == 0 else {
                close(outPipe[0]); close(outPipe[1])
                throw TestServerError(description: "pipe failed: \(String(cString: strerror(errno)))")
            }
            for fd in outPipe + watchPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
            posix_spawn_file_actions_adddup2(&actions, errFD, 2)
            posix_spawn_file_actions_adddup2(&actions, watchPipe[0], 3)

            let argv: [UnsafeMutablePointer<CChar>?] = (["/bin/sh", "-c", script, path] + arguments).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ)
            close(outPipe[1])
            close(watchPipe[0])
            guard rc == 0 else {
                close(outPipe[0])
                close(watchPipe[1])
                throw TestServerError(description: "posix_spawn /bin/sh for \(path) failed: \(String(cString: strerror(rc)))")
            }
            return (pid, outPipe[0], watchPipe[1])
        }
        liveChildren.withLock { _ = $0.insert(pid) }

        // Read standard output until the listening line, the process's end, or the deadline.
        let deadline = Date().addingTimeInterval(startupTimeout)
        var output: [UInt8] = []
        func fail(_ why: String) -> TestServerError {
            let stderrText = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            return TestServerError(description: """
                lattice \(arguments.joined(separator: " ")): \(why)
                stdout: \(String(decoding: output, as: UTF8.self))
                stderr: \(stderrText)
                """)
        }
        while true {
            if let (host, port) = parseListeningLine(output) {
                let server = TestServerProcess(pid: pid, host: host, port: port, arguments: arguments,
                                               startupOutput: String(decoding: output, as: UTF8.self),
                                               stdoutFD: stdoutFD, watchFD: watchFD, stderrPath: stderrPath,
                                               dataDir: dataDir, ownsDataDir: ownsDataDir)
                byPort.withLock { $0[port] = server }
                return server
            }
            let remaining = deadline.timeIntervalSinceNow
            var failure: TestServerError? = nil
            if remaining <= 0 {
                failure = fail("no listening line within \(startupTimeout) s")
            } else {
                var pfd = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
                let ready = poll(&pfd, 1, Int32(min(remaining, 0.2) * 1000) + 1)
                if ready > 0 {
                    var chunk = [UInt8](repeating: 0, count: 4096)
                    let n = read(stdoutFD, &chunk, chunk.count)
                    if n > 0 {
                        output += chunk[0..<n]
                    } else if n == 0 {
                        failure = fail("exited (or closed its standard output) before listening")
                    }
                }
            }
            if let failure {
                if ownsDataDir, let dataDir { try? FileManager.default.removeItem(atPath: dataDir) }
                stop(pid: pid, grace: 1)
                close(stdoutFD)
                close(watchFD)
                throw failure
            }
        }
    }

    /// Finds `listening on HOST:PORT` in a complete line of `output`.
    static func parseListeningLine(_ output: [UInt8]) -> (String, Int)? {
        let text = String(decoding: output, as: UTF8.self)
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where text.contains(line + "\n") {
            guard let range = line.range(of: "listening on ") else { continue }
            let address = line[range.upperBound...].split(separator: " ").first.map(String.init) ?? ""
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { continue }
            var host = String(address[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            return (host, port)
        }
        return nil
    }

    // MARK: identities

    /// The first `lat_t_…` token in `text` (the first start's admin token).
    static func firstToken(in text: String) -> String? {
        guard let range = text.range(of: #"lat_t_[0-9a-f]{16}_[A-Za-z0-9_-]+"#, options: .regularExpression) else { return nil }
        return String(text[range])
    }

    /// A token of user `name` with `role` in `workspace` (made once per name, workspace and
    /// role with `lattice admin token create` on this server's data directory, then reused, so
    /// several connections of one name are one identity).
    func token(for name: String, role: String = "editor", bot: Bool = false, workspace: String = "demo") async throws -> String {
        try await offPool { try self.tokenBlocking(for: name, role: role, bot: bot, workspace: workspace) }
    }

    private func tokenBlocking(for name: String, role: String, bot: Bool, workspace: String) throws -> String {
        let key = "\(name)|\(workspace)|\(role)|\(bot)"
        if let known = tokens.withLock({ $0[key] }) { return known }
        guard let dataDir else { throw TestServerError(description: "token(for:): not a lattice serve process") }
        var args = ["admin", "token", "create", "--data-dir", dataDir, "--workspace", workspace, "--role", role, "--name", name]
        if bot { args.append("--bot") }
        let (status, out, err) = try Self.runBlocking(try Self.locateBinary(), args)
        guard status == 0, let token = Self.firstToken(in: out) else {
            throw TestServerError(description: "lattice \(args.joined(separator: " ")) failed (\(status)): \(out) \(err)")
        }
        tokens.withLock { $0[key] = token }
        return token
    }

    /// Runs a short command and returns its exit status, standard output and error.
    static func runToCompletion(_ path: String, _ arguments: [String]) async throws -> (Int32, String, String) {
        try await offPool { try runBlocking(path, arguments) }
    }

    /// Runs `path` to its end (blocking: call off the cooperative pool); `directory` is its
    /// working directory, `unsetting` environment variables it must not see.
    static func runBlocking(_ path: String, _ arguments: [String], in directory: String? = nil,
                            unsetting: [String] = []) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory, isDirectory: true) }
        if !unsetting.isEmpty {
            var environment = ProcessInfo.processInfo.environment
            for name in unsetting { environment[name] = nil }
            process.environment = environment
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    // MARK: stopping

    /// `terminate()` off the cooperative pool: a graceful stop can take the server's shutdown
    /// timeout (it waits for WebSocket close answers).
    func stop(grace: Double = 5) async {
        _ = try? await offPool { self.terminate(grace: grace) }
    }

    /// Stops the process: SIGTERM, then SIGKILL after `grace` seconds. Idempotent.
    /// Returns the wait status (see `exitedCleanly`).
    @discardableResult
    func terminate(grace: Double = 5) -> Int32 {
        exitStatus.withLock { status in
            if let status { return status }
            let result = Self.stop(pid: pid, grace: grace)
            close(stdoutFD)
            close(watchFD)
            unlink(stderrPath)
            if ownsDataDir, let dataDir { try? FileManager.default.removeItem(atPath: dataDir) }
            Self.byPort.withLock { if $0[port] === self { $0.removeValue(forKey: port) } }
            status = result
            return result
        }
    }

    /// True when a wait status says the process exited with status 0.
    static func exitedCleanly(_ status: Int32) -> Bool {
        (status & 0x7F) == 0 && ((status >> 8) & 0xFF) == 0
    }

    /// The server's standard error so far (for diagnostics).
    var standardError: String {
        (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    }

    @discardableResult
    private static func stop(pid: pid_t, grace: Double) -> Int32 {
        var status: Int32 = 0
        defer { liveChildren.withLock { _ = $0.remove(pid) } }
        if waitpid(pid, &status, WNOHANG) == pid { return status }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return status }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
        return status
    }
}

/// Serialises spawning, so pipes are marked close-on-exec before any other child starts.
private let spawnLock = Mutex<Void>(())

/// PIDs of children not yet reaped, killed at exit if a suite could not stop them.
private let liveChildren: Mutex<Set<pid_t>> = {
    atexit {
        liveChildren.withLock { pids in
            for pid in pids { kill(pid, SIGKILL) }
        }
    }
    return Mutex([])
}()

// MARK: suite traits

/// Starts one `lattice` process for a whole suite (and its nested suites), and
/// always terminates it when the suite ends, whatever its outcome.
struct LatticeServerTrait: SuiteTrait, TestScoping {
    var arguments: [String]
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        let server = try await TestServerProcess.launch(arguments)
        do {
            try await TestServerProcess.$current.withValue(server) {
                try await function()
            }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

extension Trait where Self == LatticeServerTrait {
    /// `lattice <arguments>` for the suite; the arguments must make it listen on port 0.
    static func latticeServer(_ arguments: [String]) -> Self {
        LatticeServerTrait(arguments: arguments)
    }

    /// `lattice echo` on 127.0.0.1 with a free port and no keepalive pings, plus `extra` flags.
    static func echoServer(_ extra: String...) -> Self {
        LatticeServerTrait(arguments: ["echo", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0"] + extra)
    }
}

/// Runs blocking work (waiting for a child process, a subprocess's output) on a thread of its
/// own. Swift's cooperative pool has one thread per core — two on CI — and a test blocked on
/// one of them stalls every other test's async work meanwhile.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
