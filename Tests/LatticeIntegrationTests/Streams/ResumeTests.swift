import Foundation
import Testing

@Suite("streams: resume", .timeLimit(.minutes(5)))
struct ResumeTests {
    @Test("a subscriber killed mid-stream resumes with since: recovered, no gap, no duplicate, while a publisher publishes")
    func resumeWithoutGap() async throws {
        let server = try await TestServerProcess.launch(
            ["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent", "--rate-messages", "0", "--rate-bytes", "0", "--history-events", "100000"])
        defer { server.terminate() }
        let stream = "channel/demo/resume"
        let total = 3000
        let first = try await StreamClient.connect(port: server.port, name: "reader")
        _ = try await first.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#)
        let publisher = try await StreamClient.connect(port: server.port, name: "writer")
        let publishing = Task {
            for n in 1...total {
                try await publisher.send(#"{"type":"publish","stream":"\#(stream)","data":\#(n)}"#)
                if n % 50 == 0 { try await Task.sleep(for: .milliseconds(2)) }
            }
        }
        // Read part of the stream, then drop the connection without a close frame.
        var seen: [Int] = []
        var epoch = ""
        while seen.count < 500 {
            let event = try await first.next { $0.type == "event" }
            epoch = try #require(event.epoch)
            seen.append(try #require(event.offset))
        }
        await first.kill()
        let second = try await StreamClient.connect(port: server.port, name: "reader")
        let ok = try await second.request(#"{"type":"subscribe","id":2,"stream":"\#(stream)","since":{"epoch":"\#(epoch)","offset":\#(seen.last!)}}"#)
        #expect(ok.type == "ok", "\(ok)")
        let recovered = try await second.next()
        #expect(recovered.type == "recovered")
        #expect(recovered.json["recovered"] as? Bool == true, "\(recovered)")
        #expect(recovered.offset == seen.last!)
        while seen.count < total {
            let event = try await second.next { $0.type == "event" }
            seen.append(try #require(event.offset))
        }
        try await publishing.value
        #expect(seen == Array(1...total), "gap or duplicate around the reconnect")
        await second.close()
        await publisher.close()
    }

    @Test("recovered:false when history no longer reaches, when the epoch differs, and when the offset is ahead")
    func notRecovered() async throws {
        let server = try await TestServerProcess.launch(
            ["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent", "--rate-messages", "0", "--rate-bytes", "0", "--history-events", "5"])
        defer { server.terminate() }
        let stream = "channel/demo/short"
        let client = try await StreamClient.connect(port: server.port)
        var epoch = ""
        for n in 1...20 {
            let ok = try await client.request(#"{"type":"publish","id":\#(n),"stream":"\#(stream)","data":\#(n)}"#)
            epoch = try #require(ok.epoch)
            #expect(ok.offset == n)
        }
        // Offset 15 is still resumable (history holds 16…20).
        let reader = try await StreamClient.connect(port: server.port)
        _ = try await reader.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)","since":{"epoch":"\#(epoch)","offset":15}}"#)
        let good = try await reader.next()
        #expect(good.text == #"{"type":"recovered","stream":"\#(stream)","recovered":true,"epoch":"\#(epoch)","offset":15}"#)
        for expected in 16...20 { #expect(try await reader.next().offset == expected) }
        _ = try await reader.request(#"{"type":"unsubscribe","id":2,"stream":"\#(stream)"}"#)
        for (since, label) in [((epoch, 2), "trimmed"), (("0000000000000000", 20), "epoch"), ((epoch, 99), "ahead")] {
            let ok = try await reader.request(#"{"type":"subscribe","id":3,"stream":"\#(stream)","since":{"epoch":"\#(since.0)","offset":\#(since.1)}}"#)
            #expect(ok.text == #"{"type":"ok","id":3,"stream":"\#(stream)","epoch":"\#(epoch)","offset":20}"#, "\(label)")
            let answer = try await reader.next()
            #expect(answer.text == #"{"type":"recovered","stream":"\#(stream)","recovered":false,"epoch":"\#(epoch)","offset":20}"#, "\(label)")
            _ = try await reader.request(#"{"type":"unsubscribe","id":4,"stream":"\#(stream)"}"#)
        }
        await reader.close()
        await client.close()
    }
}
