import Foundation
import Testing

/// `--retention` trims a durable stream's stored history while the server runs; a resume is
/// judged against what the store still has (docs/streams.md).
@Suite("durability: retention while running, and resumes across it",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent",
                       "--history-events", "4", "--retention", "channel=5/none", "--retention-interval", "0.2"]))
struct RetentionResumeTests {
    @Test("after retention: a resume from a trimmed offset is recovered:false at once; one from a kept offset gets exactly the rest")
    func resumeAcrossRetention() async throws {
        let server = try TestServerProcess.require()
        let admin = try #require(server.adminToken)
        let name = "kept-\(UInt32.random(in: 0...UInt32.max))"
        let stream = "channel/demo/\(name)"
        let mark = try HTTPTestClient.request(port: server.port, "PUT", "/api/workspaces/demo/channels/\(name)", token: admin,
                                              json: ["durable": true])
        #expect(mark.status == 200, "\(mark)")
        let publisher = try await StreamClient.connect(port: server.port, name: "retention-writer", role: "editor")
        var epoch = ""
        for n in 1...30 {
            let ok = try await publisher.request(#"{"type":"publish","id":\#(n),"stream":"\#(stream)","data":\#(n)}"#)
            try #require(ok.type == "ok" && ok.offset == n, "\(ok.text)")
            epoch = ok.json["epoch"] as? String ?? ""
        }
        // The store keeps the newest 5 (26…30) once a pass has run; memory keeps 27…30.
        var oldest = 0
        let deadline = Date().addingTimeInterval(20)
        while oldest != 26, Date() < deadline {
            let history = try HTTPTestClient.request(port: server.port, "GET", "/api/streams/\(stream)/events?after=0", token: admin)
            oldest = (history.json["events"] as? [[String: Any]])?.first?["offset"] as? Int ?? 0
            if oldest != 26 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(oldest == 26)

        let late = try await StreamClient.connect(port: server.port, name: "retention-late", role: "viewer")
        #expect(try await late.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)","since":{"epoch":"\#(epoch)","offset":3}}"#).type == "ok")
        let first = try await late.next { $0.type == "recovered" || $0.type == "event" }
        #expect(first.type == "recovered" && first.json["recovered"] as? Bool == false, "\(first.text)")
        #expect(first.offset == 30, "live from the newest offset")

        let resumer = try await StreamClient.connect(port: server.port, name: "retention-resumer", role: "viewer")
        #expect(try await resumer.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)","since":{"epoch":"\#(epoch)","offset":25}}"#).type == "ok")
        let recovered = try await resumer.next { $0.type == "recovered" }
        #expect(recovered.json["recovered"] as? Bool == true, "\(recovered.text)")
        var offsets: [Int] = []
        while offsets.count < 5 {
            let message = try await resumer.next { $0.type == "event" || $0.type == "recovered" }
            try #require(message.type == "event", "\(message.text)")
            offsets.append(message.offset ?? 0)
        }
        #expect(offsets == [26, 27, 28, 29, 30])
        for client in [publisher, late, resumer] { await client.close() }
    }

    @Test("a malformed --retention rule stops lattice serve with a message naming it")
    func malformedRule() async throws {
        let (status, _, err) = try await TestServerProcess.runToCompletion(try TestServerProcess.locateBinary(), [
            "serve", "--port", "0", "--data-dir", NSTemporaryDirectory() + "lattice-unused-\(getpid())", "--retention", "runs=5/1d"])
        #expect(status != 0)
        #expect(err.contains("runs=5/1d"), "\(err)")
    }
}
