import Foundation
import LatticeClient
import LatticeProtocol
import Synchronization
import Testing

/// The Swift code in docs/ is test code: each ```swift block of a page is the marked region of
/// a file in this folder, which the test target compiles and these tests run.
@Suite("Docs: every Swift example compiles and runs", .latticeServer(ClientTestSupport.serveArguments))
struct DocsExampleTests {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The ```swift blocks of a page, without their fences.
    static func swiftBlocks(_ page: String) -> [String] {
        var blocks: [String] = [], current: [Substring]? = nil
        for line in page.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.hasPrefix("```swift") {
                current = []
            } else if current != nil, line.hasPrefix("```") {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// The lines between `// BEGIN docs/<page>` and `// END` of every file in this folder.
    static func regions(for page: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: here.path).filter { $0.hasSuffix(".swift") }.sorted().compactMap { name in
            let text = try String(contentsOf: here.appendingPathComponent(name), encoding: .utf8)
            guard let begin = text.range(of: "// BEGIN docs/\(page)\n"),
                  let end = text.range(of: "\n// END", range: begin.upperBound..<text.endIndex) else { return nil }
            return String(text[begin.upperBound..<end.lowerBound])
        }
    }

    @Test("each Swift block of docs/ is a region of a compiled example file (with its import line)")
    func blocksAreExampleFiles() throws {
        let docs = Self.root.appendingPathComponent("docs")
        var found = 0
        for page in try FileManager.default.contentsOfDirectory(atPath: docs.path).filter({ $0.hasSuffix(".md") }).sorted() {
            let blocks = Self.swiftBlocks(try String(contentsOf: docs.appendingPathComponent(page), encoding: .utf8))
            let regions = try Self.regions(for: page).map { "import LatticeClient\nimport LatticeProtocol  // the message types (ServerMessage, StreamPosition, …)\n\n" + $0 }
            for block in blocks {
                found += 1
                #expect(regions.contains(block), """
                    docs/\(page) has a Swift block that no example file in Tests/LatticeIntegrationTests/Docs holds \
                    (mark it with // BEGIN docs/\(page) … // END and keep the two identical):
                    \(block)
                    """)
            }
        }
        #expect(found >= 1)
    }

    @Test("docs/client.md: sayHello runs against lattice serve and sees its own presence and event")
    func clientExampleRuns() async throws {
        let server = try TestServerProcess.require()
        let token = try await server.token(for: "docs-example")
        let lines = Mutex<[String]>([])
        try await sayHello(server: "ws://127.0.0.1:\(server.port)/ws", token: token) { line in lines.withLock { $0.append(line) } }
        let seen = lines.withLock { $0 }
        #expect(seen.first == "connected as docs-example", "\(seen)")
        #expect(seen.contains { $0.hasPrefix("present: ") }, "\(seen)")
        #expect(seen.contains { $0.hasPrefix("joined: [\"docs-example\"]") }, "\(seen)")
        #expect(seen.contains { $0.hasPrefix("published at ") }, "\(seen)")
        #expect(seen.contains { $0.hasSuffix(#" {"text":"hi"}"#) }, "its own event comes back: \(seen)")
    }

    @Test("docs/client.md: echoWorker serves a run's task over lattice serve; the run ends ok with the input as its output")
    func workerExampleRuns() async throws {
        let server = try TestServerProcess.require()
        let admin = try #require(server.adminToken)
        let made = try HTTPTestClient.request(port: server.port, "POST", "/api/workspaces/demo/definitions", token: admin,
                                              json: RunWorkerTests.taskFlow(capability: "echo"))
        let definition = try #require((made.json["definition"] as? [String: Any])?["id"] as? String, "\(made)")
        let session = LatticeSession(url: WebSocketURL("ws://127.0.0.1:\(server.port)/ws")!, options: LatticeSessionOptions(token: admin))
        try await session.connect()
        let worker = Task { try await echoWorker(session, workspace: "demo") }
        let started = try await session.startRun(workspace: "demo", definition: definition, inputs: #"{"text":"echo me"}"#)
        let row0 = (try? JSONSerialization.jsonObject(with: Data(started.row.text.utf8))) as? [String: Any]
        let id = try #require(row0?["id"] as? String, "\(started.row.text)")
        #expect(started.stream == "run/\(id)" && started.position != nil)
        let deadline = ContinuousClock.now + .seconds(20)
        var row: [String: Any] = [:]
        while row["finishedAt"] as? Int == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(25))
            row = try HTTPTestClient.request(port: server.port, "GET", "/api/runs/\(id)", token: admin).json["run"] as? [String: Any] ?? [:]
        }
        #expect(row["status"] as? String == "ok", "\(row)")
        #expect(((row["outputs"] as? [String: Any])?["result"] as? [String: Any])?["text"] as? String == "echo me", "\(row)")
        await session.close()
        _ = await worker.result
    }
}
