import Foundation
import LatticeAuth
import LatticeProtocol
import LatticeStreams
import LatticeWebSocket
import NIOCore
import NIOEmbedded
@testable import LatticeServer

/// Sessions on NIO's async testing channels, all on one testing event loop whose clock only
/// moves when a test moves it; the hub's clock is that loop's, so stalls and presence timing are
/// deterministic. Identity comes from a real SQLite store (`HTTPTestServer`).
final class SessionTestBed: Sendable {
    let server: HTTPTestServer
    let loop: NIOAsyncTestingEventLoop
    let hub: StreamHub
    let sessionLoops: SessionLoops

    private init(server: HTTPTestServer, loop: NIOAsyncTestingEventLoop, hub: StreamHub, sessionLoops: SessionLoops) {
        self.server = server
        self.loop = loop
        self.hub = hub
        self.sessionLoops = sessionLoops
    }

    static func make(settings: HubSettings = HubSettings()) async throws -> SessionTestBed {
        let server = try await HTTPTestServer.make()
        let loop = NIOAsyncTestingEventLoop()
        var settings = settings
        settings.clock = { [loop] in loop.now }
        // Channels marked coalescing in the test store are coalescing in the hub, as in `lattice serve`.
        settings.isCoalescingChannel = server.services.isCoalescingChannel
        let hub = try await StreamHub.make(loops: [loop], settings: settings, durable: nil)
        let sessionLoops = try await SessionLoops.make(on: [loop], access: server.services.access)
        return SessionTestBed(server: server, loop: loop, hub: hub, sessionLoops: sessionLoops)
    }

    /// A connected session authenticated with `token` (after its `welcome`, which it returns).
    func connect(token: String) async throws -> (TestSession, Received) {
        let access = server.services.access
        let principal = try await access.authenticate(token).get()
        let channel = NIOAsyncTestingChannel(loop: loop)
        let hub = self.hub, sessionLoops = self.sessionLoops
        try await loop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(
                SessionHandler(hub: hub, sessionLoops: sessionLoops, access: access, subprotocol: "lattice.v1",
                               principal: principal, rateLimits: RateLimits()))
        }
        let session = TestSession(channel: channel, tokenID: principal.tokenID)
        let welcome = try await session.next()
        return (session, welcome)
    }

    func close() async {
        await hub.stop()
        server.close()
        await loop.shutdownGracefully()
    }
}

/// One session's channel: requests in, what the server writes out.
struct TestSession: Sendable {
    let channel: NIOAsyncTestingChannel
    let tokenID: String

    /// Sends one request (a text message).
    func send(_ json: String) async throws {
        try await channel.writeInbound(WebSocketMessage.text(json))
    }

    /// The next message the server writes (waits for it). A close is returned as
    /// `{"type":"close","code":N,"reason":…}` so tests can read it like a message.
    func next() async throws -> Received {
        let outbound = try await channel.waitForOutboundWrite(as: WebSocketOutbound.self)
        switch outbound {
        case .encodedFrames(let frame):
            return Received(text: ServerFrameJSON.text(of: frame))
        case .message(let message):
            return Received(text: String(buffer: message.data))
        case .close(let code, let reason):
            let object: [String: Any] = ["type": "close", "code": Int(code.rawValue), "reason": reason]
            let data = try JSONSerialization.data(withJSONObject: object)
            return Received(text: String(decoding: data, as: UTF8.self))
        case .ping:
            return Received(text: "{\"type\":\"ping\"}")
        }
    }

    /// The next `count` messages.
    func next(_ count: Int) async throws -> [Received] {
        var messages: [Received] = []
        for _ in 0..<count { messages.append(try await next()) }
        return messages
    }

    /// Subscribes and reads the answer up to its full presence.
    func subscribe(_ stream: String, id: Int, extra: String = "") async throws -> [Received] {
        try await send("{\"type\":\"subscribe\",\"id\":\(id),\"stream\":\"\(stream)\"\(extra)}")
        var answer: [Received] = []
        repeat { answer.append(try await next()) } while answer.last?.type != "presence" && answer.last?.type != "error"
        return answer
    }

    /// Makes the socket look full (or drained again) to the session.
    func setWritable(_ writable: Bool) async throws {
        channel.isWritable = writable
        try await channel.testingEventLoop.executeInContext { channel.pipeline.fireChannelWritabilityChanged() }
    }
}
