import Foundation
import Testing

/// Coalescing channels and the heartbeat close over real sockets against `lattice serve`
/// (docs/streams.md, "Coalescing channels"; docs/protocol.md, `heartbeatSeconds`).
@Suite("streams: coalescing channels and the heartbeat close", .timeLimit(.minutes(3)))
struct CoalescingTests {
    @Test("a reader that stops reading on a coalescing channel then gets the latest value of each key and every keyless event, no gap notice")
    func stalledReaderGetsTheLatestPerKey() async throws {
        let server = try await TestServerProcess.launch(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0",
                                                         "--web-root", "/nonexistent", "--rate-messages", "0", "--rate-bytes", "0"])
        defer { server.terminate() }
        let admin = try #require(server.adminToken)
        let marked = try HTTPTestClient.request(port: server.port, "PUT", "/api/workspaces/demo/channels/cursors", token: admin,
                                                json: ["coalescing": true])
        #expect(marked.status == 200, "\(marked)")
        #expect(marked.json["class"] as? String == "coalescing")
        let stream = "channel/demo/cursors"

        let stalled = try await RawWebSocket.lattice(port: server.port, name: "stalled", timeout: 30)
        try stalled.sendText(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#)
        #expect(try stalled.readLattice().type == "ok")
        let publisher = try await StreamClient.connect(port: server.port, name: "publisher")
        // Enough bytes to fill the socket buffers and the high-water mark while it does not read.
        let total = 20_000
        let pad = String(repeating: "x", count: 1_000)
        for n in 1...total {
            let key = n % 1_000 == 0 ? "" : #","key":"u\#(n % 3)""#
            try await publisher.send(#"{"type":"publish","stream":"\#(stream)"\#(key),"data":{"n":\#(n),"pad":"\#(pad)"}}"#)
        }
        try await publisher.send(#"{"type":"ping","id":"end"}"#)
        _ = try await publisher.next(timeout: 60) { $0.type == "ok" && $0.json["id"] as? String == "end" }

        // Now it reads: what was in flight (contiguous), then the held events: offsets jump over
        // replaced keyed events only, never a `recovered` notice, up to the last offset.
        var offsets: [Int] = []
        while offsets.last != total {
            let message = try stalled.readLattice()
            if message.type == "presence" || message.type == "presence.diff" { continue }
            #expect(message.type == "event", "\(message.text.prefix(200))")
            guard message.type == "event", let offset = message.offset else { break }
            let key = message.json["key"] as? String
            #expect(key == (offset % 1_000 == 0 ? nil : "u\(offset % 3)"))
            offsets.append(offset)
        }
        #expect(offsets == offsets.sorted() && Set(offsets).count == offsets.count, "offsets increase")
        #expect(offsets.count < total / 2, "the backlog was coalesced: \(offsets.count) of \(total) events")
        let seen = Set(offsets)
        let missingKeyless = stride(from: 1_000, through: total, by: 1_000).filter { !seen.contains($0) }
        #expect(missingKeyless.isEmpty, "every keyless event is kept; missing: \(missingKeyless)")
        // The newest event of each key arrived.
        let latest = (0..<3).map { k in (1...total).last { $0 % 3 == k && $0 % 1_000 != 0 }! }
        let missingLatest = latest.filter { !seen.contains($0) }
        #expect(missingLatest.isEmpty, "the latest value of every key; missing offsets: \(missingLatest)")
        try stalled.closeNormally()
        await publisher.close()
    }

    @Test("a lattice.v1 client that stops answering pings is closed with 4002 heartbeat_timeout, then TCP ends")
    func silentClientGetsHeartbeatTimeout() async throws {
        let server = try await TestServerProcess.launch(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "1",
                                                         "--web-root", "/nonexistent"])
        defer { server.terminate() }
        let silent = try await RawWebSocket.lattice(port: server.port, name: "silent", timeout: 10)
        // Never answer: a ping after a second of silence, then the close within another second.
        var opcodes: [UInt8] = []
        var close: ReceivedFrame?
        while close == nil {
            let frame = try silent.readFrame()
            opcodes.append(frame.opcode)
            if frame.opcode == Op.close { close = frame }
        }
        #expect(opcodes.first == Op.ping, "\(opcodes)")
        let payload = try #require(close?.payload)
        #expect(payload.count >= 2 && (UInt16(payload[0]) << 8 | UInt16(payload[1])) == 4002)
        #expect(String(decoding: payload.dropFirst(2), as: UTF8.self) == "heartbeat_timeout")
        #expect(try silent.waitForTCPClose(), "the server ends TCP without waiting for an answer")
    }
}
