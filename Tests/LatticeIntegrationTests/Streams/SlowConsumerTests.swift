import Foundation
import Synchronization
import Testing

@Suite("streams: backpressure", .timeLimit(.minutes(6)))
struct SlowConsumerTests {
    @Test("a reader that never reads: server memory stays bounded, others get everything in order, it gets recovered:false or 4001")
    func stalledReader() async throws {
        let server = try await TestServerProcess.launch(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent", "--rate-messages", "0", "--rate-bytes", "0"])
        defer { server.terminate() }
        let stream = "channel/demo/flood"
        let total = 100_000

        let stalled = try await RawWebSocket.lattice(port: server.port, name: "stalled", timeout: 20)
        try stalled.sendText(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#)
        let subscribed = try stalled.readLattice()
        #expect(subscribed.type == "ok")
        let reader = try await StreamClient.connect(port: server.port, name: "reader")
        _ = try await reader.request(#"{"type":"subscribe","id":1,"stream":"\#(stream)"}"#)
        let publisher = try await StreamClient.connect(port: server.port, name: "publisher")
        let baseline = try #require(residentBytes(pid: server.pid))

        let peak = PeakBox()
        let sampler = Task {
            while !Task.isCancelled {
                if let rss = residentBytes(pid: server.pid) { peak.record(rss) }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let payload = String(repeating: "x", count: 100)
        // The healthy reader must keep up on an ephemeral channel: the publisher stays at most
        // `window` events ahead of it (the stalled one is never waited for).
        let progress = PeakBox()
        let window = 500
        let publishing = Task {
            for n in 1...total {
                while progress.value < n - window { try await Task.sleep(for: .milliseconds(1)) }
                try await publisher.send(#"{"type":"publish","stream":"\#(stream)","data":{"n":\#(n),"pad":"\#(payload)"}}"#)
            }
        }
        // The healthy reader gets every event, contiguous, in order.
        for expected in 1...total {
            let event = try await reader.next(timeout: 30) { $0.type == "event" || $0.type == "recovered" }
            if event.offset != expected {
                Issue.record("reader expected offset \(expected), got \(event)")
                break
            }
            progress.record(expected)
        }
        try await publishing.value
        sampler.cancel()
        let grown = peak.value - baseline
        // Bounded: the stalled subscriber holds at most its queue (256 events / 1 MiB), the
        // history 256 events, the socket up to the high-water mark. 100,000 × ~190 bytes of
        // frames (19 MB) must not accumulate.
        #expect(grown < 48 << 20, "server RSS grew by \(grown >> 20) MiB (baseline \(baseline >> 20) MiB, peak \(peak.value >> 20) MiB)")

        // Now the stalled reader reads: what was in flight, then a gap notice (or a 4001 close),
        // then later events in increasing order.
        var last = 0
        var sawGap = false
        var closedWith: UInt16? = nil
        var tcpClosed = false
        reading: while last < total {
            let frame: ReceivedFrame
            do { frame = try stalled.readFrame() } catch {
                // Stalled past 30 s, it was closed with 4001; a peer that never reads cannot
                // receive that close frame either, so the close handshake times out and the
                // server ends TCP (docs/streams.md). Anything else is a failure.
                #expect("\(error)".contains("closed TCP"), "\(error)")
                tcpClosed = true
                break reading
            }
            switch frame.opcode {
            case 0x1:
                let message = LatticeMessage(String(decoding: frame.payload, as: UTF8.self))
                if message.type == "recovered" {
                    #expect(message.json["recovered"] as? Bool == false)
                    let resumesAfter = try #require(message.offset)
                    #expect(resumesAfter >= last)
                    last = resumesAfter
                    sawGap = true
                } else if message.type == "event" {
                    let offset = try #require(message.offset)
                    #expect(offset > last, "offsets must increase: \(offset) after \(last)")
                    #expect(sawGap || offset == last + 1, "a jump without a recovered:false notice: \(offset) after \(last)")
                    last = offset
                }
            case 0x8:
                closedWith = frame.payload.count >= 2 ? UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]) : nil
                break reading
            default:
                continue
            }
        }
        #expect(sawGap || closedWith == 4001 || tcpClosed || last == total, "the stalled reader neither caught up nor was told of a gap")
        if let closedWith { #expect(closedWith == 4001) }
        await reader.close()
        await publisher.close()
    }
}

/// The largest value recorded (shared between the sampler task and the test).
final class PeakBox: Sendable {
    private let peak = Mutex<Int>(0)
    func record(_ value: Int) { peak.withLock { $0 = max($0, value) } }
    var value: Int { peak.withLock { $0 } }
}
