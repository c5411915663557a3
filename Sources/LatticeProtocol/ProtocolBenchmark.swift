import NIOCore

/// Micro benchmark of the protocol's hot paths, for `lattice bench` (not a test: timings
/// depend on the machine). Build in release for meaningful numbers.
public enum ProtocolBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        public var name: String
        public var iterations: Int
        /// Mean wall time of one operation.
        public var nanosecondsPerOperation: Double

        public var description: String {
            let ns = (nanosecondsPerOperation * 10).rounded() / 10
            return "\(name): \(ns) ns/op (\(iterations) ops)"
        }
    }

    static let publishSmall = #"{"type":"publish","id":1234,"stream":"channel/acme/general","data":{"text":"hello, world","from":"u_42","at":1732531200}}"#
    static let subscribeSince = #"{"type":"subscribe","id":"req-7","stream":"run/r_01HZXYZ","since":{"epoch":"9f3a51c2","offset":128734}}"#

    /// Times decoding and encoding; each case runs `iterations` times after a warm-up.
    public static func run(iterations: Int = 200_000) -> [Result] {
        var results: [Result] = []
        var sink = 0
        let kilobyte = "{\"blob\":\"" + String(repeating: "x", count: 1000) + "\"}"
        let publishLarge = #"{"type":"publish","id":1,"stream":"channel/acme/general","data":"# + kilobyte + "}"
        for (name, text) in [("decode publish (120 B)", publishSmall), ("decode publish (1 KB data)", publishLarge), ("decode subscribe since", subscribeSince)] {
            let message = ByteBuffer(string: text)
            results.append(measure(name, iterations) {
                if case .success(let request) = ClientRequest.decode(message) { sink &+= request.type.utf8.count }
            })
        }
        let stream = try! StreamName.parse("channel/acme/general").get()
        for (name, json) in [("encode event (58 B data)", #"{"text":"hello, world","from":"u_42","at":1732531200}"#), ("encode event (1 KB data)", kilobyte)] {
            let data = RawJSON(validating: json)!
            var buffer = ByteBufferAllocator().buffer(capacity: 2048)
            results.append(measure(name, iterations) {
                buffer.clear()
                EventEncoder.encode(stream: stream, epoch: "9f3a51c2", offset: 128_734, data: data, key: nil, into: &buffer)
                sink &+= buffer.readableBytes
            })
        }
        if sink == 42 { print("") }  // keeps the work observable
        return results
    }

    private static func measure(_ name: String, _ iterations: Int, _ body: () -> Void) -> Result {
        for _ in 0..<min(iterations, 1000) { body() }
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<iterations { body() }
        let elapsed = start.duration(to: clock.now)
        let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        return Result(name: name, iterations: iterations, nanosecondsPerOperation: ns / Double(max(iterations, 1)))
    }
}
