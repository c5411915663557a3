import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Kill -9 during heavy writes: no acknowledged event is lost, offsets and epoch survive, and a
/// reader resumes without a gap (docs/streams.md, "Durability").
@Suite("durability: SIGKILL during acknowledged writes", .timeLimit(.minutes(8)))
struct CrashDurabilityTests {
    /// What the publishers were told: offset → data, for every acknowledged publish.
    final class Acknowledged: Sendable {
        private let table = Mutex<[Int: String]>([:])
        private let epochs = Mutex<Set<String>>([])
        func record(offset: Int, data: String, epoch: String) {
            table.withLock { $0[offset] = data }
            _ = epochs.withLock { $0.insert(epoch) }
        }
        var all: [Int: String] { table.withLock { $0 } }
        var epochSet: Set<String> { epochs.withLock { $0 } }
    }

    /// Publishes `{"c":client,"n":n}` with up to `window` requests in flight until the server
    /// goes away, recording every `ok`.
    static func publish(port: Int, token: String, stream: String, client: Int, acked: Acknowledged) async {
        let connection: StreamClient
        do { connection = try await StreamClient.connect(port: port, token: token) } catch {
            Issue.record("writer \(client) could not connect: \(error)")
            return
        }
        var n = 0
        var pending: [Int: String] = [:]
        let window = 32
        do {
            while true {
                while pending.count < window {
                    n += 1
                    let data = #"{"c":\#(client),"n":\#(n)}"#
                    pending[n] = data
                    try await connection.send(#"{"type":"publish","id":\#(n),"stream":"\#(stream)","data":\#(data)}"#)
                }
                let answer = try await connection.next(timeout: 5) { $0.type == "ok" || $0.type == "error" }
                guard answer.type == "ok", let id = (answer.json["id"] as? NSNumber)?.intValue,
                      let offset = answer.offset, let epoch = answer.epoch, let data = pending.removeValue(forKey: id) else {
                    Issue.record("unexpected answer \(answer)")
                    return
                }
                acked.record(offset: offset, data: data, epoch: epoch)
            }
        } catch {
            // The server was killed (the only way this loop ends).
            _ = error
        }
    }

    /// Every event of `stream` from offset 1, read by subscribing with `since: {epoch, 0}`.
    static func readAll(port: Int, token: String, stream: String, epoch: String) async throws -> (recovered: Bool, events: [Int: String], newest: Int) {
        let reader = try await StreamClient.connect(port: port, token: token)
        defer { Task { await reader.close() } }
        let ok = try await reader.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)","since":{"epoch":"\#(epoch)","offset":0}}"#)
        let newest = try #require(ok.offset, "\(ok)")
        let recovered = try await reader.next { $0.type == "recovered" }
        var events: [Int: String] = [:]
        var last = 0
        while last < newest {
            let event = try await reader.next(timeout: 20) { $0.type == "event" }
            let offset = try #require(event.offset)
            #expect(offset == last + 1, "a gap or duplicate: \(offset) after \(last)")
            last = offset
            if let range = event.text.range(of: #""data":"#) {
                events[offset] = String(event.text[range.upperBound...].dropLast())
            }
        }
        return (recovered.json["recovered"] as? Bool == true, events, newest)
    }

    @Test("several publishers, the server killed with SIGKILL at random moments, 4 cycles: every acknowledged event is there at its offset")
    func killCycles() async throws {
        let dataDir = NSTemporaryDirectory() + "lattice-crash-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let args = ["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent",
                    "--rate-messages", "0", "--rate-bytes", "0", "--data-dir", dataDir]
        let stream = "channel/demo/crash"
        let acked = Acknowledged()

        var server = try await TestServerProcess.launch(args)
        let admin = try #require(server.adminToken)
        let mark = try HTTPTestClient.request(port: server.port, "PUT", "/api/workspaces/demo/channels/crash", token: admin,
                                              json: ["durable": true])
        #expect(mark.status == 200, "\(mark)")
        var tokens: [String] = []
        for n in 0..<3 { tokens.append(try await server.token(for: "crash-writer-\(n)")) }
        // Restart once so the channel is created durable (marking applies to streams created after it).
        server.terminate()

        var epoch: String? = nil
        for cycle in 0..<4 {
            server = try await TestServerProcess.launch(args)
            if let epoch {
                // Before writing more: everything acknowledged so far is there, gapless, in the same epoch.
                let (recovered, events, newest) = try await Self.readAll(port: server.port, token: admin, stream: stream, epoch: epoch)
                #expect(recovered, "cycle \(cycle): resume from the old epoch was not gapless")
                Self.check(acked.all, against: events, newest: newest, cycle: cycle)
            }
            let port = server.port
            let writers = tokens.enumerated().map { index, token in
                Task { await Self.publish(port: port, token: token, stream: stream, client: index, acked: acked) }
            }
            // Kill in the middle of the writing: once some acknowledgements came in this cycle
            // (connecting may be slow on a loaded machine), after a random delay.
            let before = acked.all.count
            let deadline = Date().addingTimeInterval(20)
            while acked.all.count < before + 50, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 50...800)))
            kill(server.pid, SIGKILL)
            server.terminate()
            for writer in writers { await writer.value }
            #expect(acked.epochSet.count == 1, "the epoch changed: \(acked.epochSet)")
            epoch = acked.epochSet.first
        }
        server = try await TestServerProcess.launch(args)
        defer { server.terminate() }
        let finalEpoch = try #require(epoch)
        let (recovered, events, newest) = try await Self.readAll(port: server.port, token: admin, stream: stream, epoch: finalEpoch)
        #expect(recovered)
        Self.check(acked.all, against: events, newest: newest, cycle: 4)
        #expect(acked.all.count > 100, "too few acknowledged writes to mean anything: \(acked.all.count)")
    }

    static func check(_ acknowledged: [Int: String], against stored: [Int: String], newest: Int, cycle: Int) {
        var lost = 0, changed = 0
        for (offset, data) in acknowledged {
            guard let found = stored[offset] else { lost += 1; continue }
            if found != data { changed += 1 }
        }
        #expect(lost == 0, "cycle \(cycle): \(lost) acknowledged events missing (of \(acknowledged.count); newest \(newest))")
        #expect(changed == 0, "cycle \(cycle): \(changed) events stored at another offset than acknowledged")
        #expect(acknowledged.keys.max() ?? 0 <= newest)
    }
}
