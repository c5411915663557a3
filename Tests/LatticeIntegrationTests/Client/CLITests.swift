import Foundation
import LatticeClient
import Synchronization
import Testing

/// A `lattice` client command run as a child process, its output gathered as it comes.
final class ChildProcess: @unchecked Sendable {
    // `process` is only started, signalled and waited for; the output buffers are locked.
    final class Output: Sendable {
        let bytes = Mutex<[UInt8]>([])
    }
    let process: Process
    private let out = Output()
    private let err = Output()

    init(_ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestServerProcess.locateBinary())
        process.arguments = arguments
        // The client tools authenticate with LATTICE_TOKEN: an editor of `demo` on the suite's server.
        if let server = TestServerProcess.current, server.dataDir != nil {
            var environment = ProcessInfo.processInfo.environment
            environment["LATTICE_TOKEN"] = try await server.token(for: "cli")
            process.environment = environment
        }
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        self.process = process
        outPipe.fileHandleForReading.readabilityHandler = { [out] h in
            let d = h.availableData
            out.bytes.withLock { $0 += d }
        }
        errPipe.fileHandleForReading.readabilityHandler = { [err] h in
            let d = h.availableData
            err.bytes.withLock { $0 += d }
        }
        try process.run()
    }

    var stdout: String { out.bytes.withLock { String(decoding: $0, as: UTF8.self) } }
    var stderr: String { err.bytes.withLock { String(decoding: $0, as: UTF8.self) } }

    /// Waits until `predicate(stdout, stderr)` holds (true) or the deadline passes (false).
    func wait(upTo seconds: Double = 30, _ predicate: (String, String) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if predicate(stdout, stderr) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return predicate(stdout, stderr)
    }

    /// Waits for the exit; kills the process after `seconds`. Returns the exit status (nil if killed).
    func exitStatus(within seconds: Double = 30) async -> Int32? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        process.waitUntilExit()
        try? await Task.sleep(for: .milliseconds(50))  // the last output
        return process.terminationStatus
    }

    static func run(_ arguments: [String], within seconds: Double = 30) async throws -> (status: Int32?, stdout: String, stderr: String) {
        let child = try await ChildProcess(arguments)
        let status = await child.exitStatus(within: seconds)
        return (status, child.stdout, child.stderr)
    }
}

@Suite("Client: lattice publish, tail and bench fanout", .latticeServer(ClientTestSupport.serveArguments))
struct CLITests {
    var url: String { "ws://127.0.0.1:\(TestServerProcess.current!.port)/ws" }

    @Test("lattice publish prints the offset; bad JSON and server errors fail clearly")
    func publish() async throws {
        _ = try TestServerProcess.require()
        let channel = ClientTestSupport.channel("cli")
        let first = try await ChildProcess.run(["publish", channel, #"{"text":"hi"}"#, "--url", url])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let line = first.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(line.hasPrefix("offset 1 epoch "), "stdout: \(first.stdout)")
        let second = try await ChildProcess.run(["publish", channel, "7", "--url", url])
        #expect(second.stdout.hasPrefix("offset 2 epoch "), "stdout: \(second.stdout) stderr: \(second.stderr)")

        let bare = try await ChildProcess.run(["publish", channel, "hello", "--url", url])
        #expect(bare.status != 0 && bare.status != nil)
        #expect(bare.stderr.contains("not valid JSON"), "stderr: \(bare.stderr)")

        let refused = try await ChildProcess.run(["publish", "run/r1", "{}", "--url", url])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("not_publishable"), "stderr: \(refused.stderr)")
    }

    @Test("lattice tail prints events as they arrive and stops on SIGTERM")
    func tail() async throws {
        let server = try TestServerProcess.require()
        let channel = ClientTestSupport.channel("tail")
        let tail = try await ChildProcess(["tail", channel, "--url", url])
        let subscribed = await tail.wait { _, err in err.contains("# subscribed") }
        #expect(subscribed, "stderr: \(tail.stderr)")
        let producer = try await ClientTestSupport.session(server, reconnect: nil)
        try await producer.publish(channel, data: #"{"n":1}"#)
        try await producer.publish(channel, data: #"{"n":2}"#)
        await producer.close()
        #expect(await tail.wait { out, _ in out.contains("2 {\"n\":2}") }, "stdout: \(tail.stdout)")
        #expect(tail.stdout.hasPrefix("1 {\"n\":1}\n"))
        kill(tail.process.processIdentifier, SIGTERM)
        let status = await tail.exitStatus(within: 10)
        #expect(status == 0, "stderr: \(tail.stderr)")

        // --json and --since: replays from offset 1
        let subscribedLine = try #require(tail.stderr.split(separator: "\n").first { $0.hasPrefix("# subscribed") })
        // The line ends with EPOCH:OFFSET (the epoch may hold colons: the last one separates).
        let position = try #require(subscribedLine.split(separator: " ").last)
        let epoch = String(try #require(position.lastIndex(of: ":").map { position[..<$0] }))
        let replay = try await ChildProcess(["tail", channel, "--url", url, "--json", "--since", "\(epoch):1"])
        #expect(await replay.wait { out, _ in out.contains("\"offset\":2") }, "stdout: \(replay.stdout) stderr: \(replay.stderr)")
        let line = replay.stdout.split(separator: "\n").first.map(String.init) ?? ""
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["offset"] as? Int == 2)
        #expect((object["data"] as? [String: Any])?["n"] as? Int == 2)
        kill(replay.process.processIdentifier, SIGINT)
        #expect(await replay.exitStatus(within: 10) == 0)
    }

    @Test("lattice tail exits with status 3 and says why when the server revokes its token")
    func tailEndsOnRevocation() async throws {
        let server = try TestServerProcess.require()
        let admin = try #require(server.adminToken)
        let token = try await server.token(for: "cli-tail-revoked")
        let tail = try await ChildProcess(["tail", ClientTestSupport.channel("revoked"), "--url", url, "--token", token])
        #expect(await tail.wait { _, err in err.contains("# subscribed") }, "stderr: \(tail.stderr)")
        let tokenID = "t_" + token.dropFirst("lat_t_".count).prefix(16)
        let revoke = try HTTPTestClient.request(port: server.port, "DELETE", "/api/tokens/\(tokenID)", token: admin)
        #expect(revoke.status == 200 || revoke.status == 204, "\(revoke)")
        #expect(await tail.exitStatus(within: 30) == 3, "stderr: \(tail.stderr)")
        #expect(tail.stderr.contains("token revoked"), "stderr: \(tail.stderr)")
    }

    @Test("a refused token exits 3 and an unreachable server 1, each with one human line")
    func exitStatuses() async throws {
        _ = try TestServerProcess.require()
        let forged = "lat_t_0123456789abcdef_" + String(repeating: "A", count: 43)
        for command in [["publish", "channel/demo/x", "1"], ["tail", "channel/demo/x"]] {
            let refused = try await ChildProcess.run(command + ["--url", url, "--token", forged])
            #expect(refused.status == 3, "\(command): \(refused.stderr)")
            let lines = refused.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("credential_refused") && lines[0].contains("HTTP 401"),
                    "\(command): \(refused.stderr)")
            #expect(!refused.stderr.contains("rejected("), "no enum dump: \(refused.stderr)")
        }
        // A port nothing listens on (bound, then closed).
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        close(probe)
        let unreachable = try await ChildProcess.run(["publish", "channel/demo/x", "1", "--url", "ws://127.0.0.1:\(port)/ws", "--token", forged])
        #expect(unreachable.status == 1, "\(unreachable.stderr)")
        #expect(unreachable.stderr.split(separator: "\n").count == 1 && unreachable.stderr.contains("connection refused"),
                "\(unreachable.stderr)")
        #expect(!unreachable.stderr.contains("descriptor"), "no NIO internals: \(unreachable.stderr)")
    }

    @Test("lattice bench fanout --json: every event reaches every subscriber")
    func benchFanout() async throws {
        _ = try TestServerProcess.require()
        let result = try await ChildProcess.run([
            "bench", "fanout", "--url", url, "--subscribers", "20", "--publishers", "2", "--size", "64",
            "--rate", "400", "--duration", "1", "--stream", ClientTestSupport.channel("fanout"), "--json",
        ], within: 60)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "stdout: \(result.stdout)")
        #expect(object["delivery_ratio"] as? Double == 1.0, "\(last)")
        #expect((object["published"] as? Int ?? 0) > 100, "\(last)")
        for field in ["published_per_second", "delivered_per_second", "latency_p50_us", "latency_p90_us", "latency_p99_us", "latency_max_us"] {
            #expect(object[field] != nil, "missing \(field)")
        }
    }
}
