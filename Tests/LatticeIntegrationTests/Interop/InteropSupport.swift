import Foundation
import Testing

/// Finds the Python interpreter with `websockets` and the interop scripts.
enum Interop {
    /// Repository root, from this file's location (Tests/LatticeIntegrationTests/Interop/…).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func script(_ name: String) -> String {
        root.appendingPathComponent("Tests/interop/\(name)").path
    }

    /// `$LATTICE_PYTHON`, else the project virtualenv that scripts/test.sh creates.
    static func python() throws -> String {
        let candidate = ProcessInfo.processInfo.environment["LATTICE_PYTHON"]
            ?? root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw TestServerError(description: """
                no Python with websockets at \(candidate): run scripts/test.sh (it creates .venv) or set LATTICE_PYTHON
                """)
        }
        return candidate
    }

    /// Runs a Python script to completion (bounded by `timeout` seconds); returns its exit status and output.
    static func run(_ arguments: [String], timeout: Double = 90) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try python())
        process.arguments = arguments
        // Output goes to files, so a chatty child can never block on a full pipe.
        let base = NSTemporaryDirectory() + "lattice-interop-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer { unlink(base + ".out"); unlink(base + ".err") }
        process.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        process.standardError = FileHandle(forWritingAtPath: base + ".err")
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            usleep(500_000)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        let stdout = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        return (process.terminationStatus, stdout, stderr)
    }

    /// `run` on a thread outside Swift's cooperative pool: the pool has one thread per core
    /// (two on CI), and a test blocked in `run` must not hold one up while others wait for it.
    static func runDetached(_ arguments: [String], timeout: Double = 90) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await offPool { try run(arguments, timeout: timeout) }
    }

    /// The one JSON object a script printed last.
    static func json(_ result: (status: Int32, stdout: String, stderr: String)) throws -> [String: Any] {
        let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                            "no JSON from the script (status \(result.status)): \(result.stdout)\n\(result.stderr)")
    }
}
