import Foundation
import Testing

/// Python `websockets` clients speaking lattice.v1 (Tests/interop/lattice_client.py) against
/// `lattice serve`, beside our own clients: ordering, resume, errors and presence do not depend
/// on our client library.
@Suite("Interop: Python websockets lattice.v1 clients → lattice serve",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent"]))
struct PythonStreamTests {
    static func url(_ server: TestServerProcess) -> String { "ws://127.0.0.1:\(server.port)/ws" }

    static func data(_ summary: [String: Any]) -> [Int] {
        (summary["data"] as? [Any] ?? []).compactMap { $0 as? Int }
    }

    @Test("two Python subscribers get every event once, in order, while we publish; a Python resume gets exactly the missed ones")
    func orderingAndResume() async throws {
        let server = try TestServerProcess.require()
        let stream = "channel/demo/python-\(UInt32.random(in: 0...UInt32.max))"
        let script = Interop.script("lattice_client.py")
        let url = Self.url(server)
        let tokens = [try await server.token(for: "py-reader-1", role: "viewer"),
                      try await server.token(for: "py-reader-2", role: "viewer")]
        let ready = (1...2).map { NSTemporaryDirectory() + "lattice-py-ready-\(getpid())-\($0)-\(UInt32.random(in: 0...UInt32.max))" }
        defer { for file in ready { unlink(file) } }
        async let first = Interop.runDetached([script, "subscribe", url, tokens[0], stream, "300", "--ready", ready[0]])
        async let second = Interop.runDetached([script, "subscribe", url, tokens[1], stream, "300", "--ready", ready[1]])
        let deadline = Date().addingTimeInterval(60)
        while !ready.allSatisfy({ FileManager.default.fileExists(atPath: $0) }), Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(ready.allSatisfy { FileManager.default.fileExists(atPath: $0) }, "the Python subscribers did not subscribe")

        let publisher = try await StreamClient.connect(port: server.port, name: "py-publisher", role: "editor")
        for n in 0..<300 {
            let ok = try await publisher.request(#"{"type":"publish","id":\#(n),"stream":"\#(stream)","data":\#(n)}"#)
            try #require(ok.type == "ok", "\(ok.text)")
        }
        let results = try await [first, second]
        var last: (epoch: String, offset: Int)?
        for result in results {
            #expect(result.status == 0, "\(result.stderr)")
            let summary = try Interop.json(result)
            #expect(Self.data(summary) == Array(0..<300))
            let offsets = (summary["offsets"] as? [Any] ?? []).compactMap { $0 as? Int }
            #expect(offsets == Array(offsets.first.map { $0..<($0 + 300) } ?? 0..<0))
            last = (summary["epoch"] as? String ?? "", offsets.last ?? 0)
        }

        // While nobody reads, 100 more; a Python client resuming after the last one it saw
        // gets exactly those.
        for n in 300..<400 {
            _ = try await publisher.request(#"{"type":"publish","id":\#(n),"stream":"\#(stream)","data":\#(n)}"#)
        }
        let position = try #require(last)
        let resumed = try await Interop.runDetached([script, "subscribe", url, tokens[0], stream, "100",
                                                     "--since", "\(position.epoch):\(position.offset)"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let summary = try Interop.json(resumed)
        let recovered = summary["recovered"] as? [String: Any]
        #expect(recovered?["recovered"] as? Bool == true, "\(summary)")
        #expect(Self.data(summary) == Array(300..<400))
        await publisher.close()
    }

    @Test("malformed requests from Python get the documented error codes, and the connection stays usable")
    func errorCodes() async throws {
        let server = try TestServerProcess.require()
        let token = try await server.token(for: "py-errors", role: "editor")
        let result = try await Interop.runDetached([Interop.script("lattice_client.py"), "errors", Self.url(server), token])
        #expect(result.status == 0, "\(result.stderr)")
        let codes = try Interop.json(result)["codes"] as? [String]
        #expect(codes == ["bad_json", "not_object", "missing_field", "unknown_type", "missing_field", "wrong_type",
                          "invalid_stream", "not_publishable", "not_subscribed", "forbidden", "unsupported_encoding", "ok"])
    }

    @Test("a Python client's presence reaches a Swift subscriber as a join with its state")
    func presenceAcrossClients() async throws {
        let server = try TestServerProcess.require()
        let stream = "channel/demo/python-presence"
        let watcher = try await StreamClient.connect(port: server.port, name: "py-watcher")
        #expect(try await watcher.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#).type == "ok")
        let token = try await server.token(for: "py-present", role: "viewer")
        let result = try await Interop.runDetached([Interop.script("lattice_client.py"), "presence", Self.url(server), token, stream])
        #expect(result.status == 0, "\(result.stderr)")
        let member = try Interop.json(result)["member"] as? [String: Any]
        #expect(member?["name"] as? String == "py-present")
        // The script has finished: its join (and its leave) wait in the watcher's inbox.
        var joined: [String: Any]?
        while joined == nil {
            let diff = try await watcher.next(timeout: 20) { $0.type == "presence.diff" }
            joined = (diff.json["joins"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "py-present" }
        }
        let metas = joined?["metas"] as? [[String: Any]] ?? []
        #expect(metas.count == 1)
        #expect((metas.first?["state"] as? [String: Any])?["status"] as? String == "from-python")
        #expect(joined?["id"] as? String == member?["id"] as? String)
        await watcher.close()
    }
}
