import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import LatticeServer

/// One in-process HTTP connection: NIO's HTTP/1.1 codec and an `HTTPRequestHandler` on a
/// testing channel. Requests go in as raw bytes, answers come out as raw bytes, so the tests
/// see what a socket would carry (pipelining, `Connection`, `Content-Length`).
struct HTTPTestConnection {
    let channel: NIOAsyncTestingChannel
    private var received: [UInt8] = []

    init(routes: HTTPRouteTable, remoteAddress: String = "127.0.0.1") async throws {
        channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)),
                HTTPResponseEncoder(),
            ])
            try channel.pipeline.syncOperations.addHandler(HTTPRequestHandler(routes: routes))
        }
        try await channel.connect(to: SocketAddress(ipAddress: remoteAddress, port: 40000))
    }

    /// Sends `requests` in one read, as a client that pipelines would.
    func send(_ requests: String) async throws {
        try await channel.writeInbound(ByteBuffer(string: requests))
    }

    /// The next `count` answers, waiting up to `timeout` for the ones computed in tasks.
    mutating func answers(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [HTTPTestAnswer] {
        let deadline = ContinuousClock.now + timeout
        while true {
            await channel.testingEventLoop.run()
            while let data = try await channel.readOutbound(as: IOData.self) {
                guard case .byteBuffer(let buffer) = data else { continue }
                received += buffer.readableBytesView
            }
            let (parsed, _) = HTTPTestAnswer.parse(received)
            if parsed.count >= count {
                let (answers, rest) = HTTPTestAnswer.parse(received, limit: count)
                received = rest
                return answers
            }
            guard ContinuousClock.now < deadline else {
                throw HTTPTestFailure("\(parsed.count) of \(count) answers after \(timeout): \(String(decoding: received, as: UTF8.self))")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// One request, one answer.
    mutating func exchange(_ request: String) async throws -> HTTPTestAnswer {
        try await send(request)
        return try await answers(1)[0]
    }

    /// Whatever was written so far that is not a whole answer yet (after letting the loop run).
    mutating func pendingBytes() async throws -> Int {
        await channel.testingEventLoop.run()
        while let data = try await channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = data { received += buffer.readableBytesView }
        }
        return received.count
    }

    var isActive: Bool { channel.isActive }
}

/// A request in wire form: `HTTPTestRequest.get("/healthz")` and the like.
enum HTTPTestRequest {
    static func make(_ method: String, _ path: String, host: String = "127.0.0.1:8080", headers: [(String, String)] = [],
                     body: String? = nil) -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        return text + "\r\n" + (body ?? "")
    }
}

struct HTTPTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
