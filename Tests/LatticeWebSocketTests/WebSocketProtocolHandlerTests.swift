import NIOCore
import NIOEmbedded
import Testing

@testable import LatticeWebSocket

/// Records the `WebSocketEvent`s the protocol handler passes up.
final class EventRecorder: ChannelInboundHandler {
    typealias InboundIn = WebSocketMessage
    var events: [WebSocketEvent] = []

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? WebSocketEvent { events.append(event) }
        context.fireUserInboundEventTriggered(event)
    }
}

/// One connection's protocol handler on NIO's embedded channel, its clock moved by hand.
struct EmbeddedConnection {
    let channel = EmbeddedChannel()
    let events = EventRecorder()
    let role: WebSocketFrameParser.Role
    static let interval = TimeAmount.seconds(30)
    static let closeTimeout = TimeAmount.seconds(5)

    init(_ role: WebSocketFrameParser.Role = .server, keepalive: Bool = true,
         timeoutClose: WebSocketKeepaliveTimeoutClose? = nil) throws {
        self.role = role
        let options = WebSocketConnectionOptions(pingInterval: keepalive ? Self.interval : nil, closeTimeout: Self.closeTimeout,
                                                 keepaliveTimeoutClose: timeoutClose)
        try channel.pipeline.syncOperations.addHandler(WebSocketProtocolHandler(role: role, options: options, deflate: nil))
        try channel.pipeline.syncOperations.addHandler(events)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
    }

    /// Sends a frame from the peer (masked when the peer is a client).
    func receive(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) throws {
        let mask: [UInt8]? = role == .server ? [0x11, 0x22, 0x33, 0x44] : nil
        let frame = WireFrame(fin: fin, opcode: opcode.rawValue, payload: payload, mask: mask)
        try channel.writeInbound(ByteBuffer(bytes: frame.bytes))
    }

    func receiveRaw(_ bytes: [UInt8]) throws {
        try channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    /// The frames written to the peer since the last call.
    func sent() throws -> [SeenFrame] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += Array(buffer: buffer) }
        guard !bytes.isEmpty else { return [] }
        // Parse them as the peer does.
        let outcome = parse(bytes, chunks: [bytes.count], role: role == .server ? .client : .server)
        #expect(outcome.error == nil)
        return outcome.frames
    }

    func messages() throws -> [String] {
        var out: [String] = []
        while let message = try channel.readInbound(as: WebSocketMessage.self) { out.append(String(buffer: message.data)) }
        return out
    }

    var isActive: Bool { channel.isActive }
    func advance(_ amount: TimeAmount) { channel.embeddedEventLoop.advanceTime(by: amount) }
}

func closePayload(_ code: UInt16, _ reason: String = "") -> [UInt8] {
    [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8)
}

@Suite("WebSocketProtocolHandler on an embedded channel")
struct WebSocketProtocolHandlerTests {
    @Test func deliversMessagesAndAnswersPingsWithTheirPayload() throws {
        let connection = try EmbeddedConnection()
        try connection.receive(.text, Array("hello".utf8))
        #expect(try connection.messages() == ["hello"])
        try connection.receive(.ping, [1, 2, 3])
        #expect(try connection.sent() == [SeenFrame(opcode: .pong, payload: [1, 2, 3])])
        try connection.receive(.pong, [9])
        #expect(connection.events.events == [.pong(ByteBuffer(bytes: [9]))])
    }

    @Test func pingsASilentPeerAndDropsItAnIntervalLater() throws {
        let connection = try EmbeddedConnection()
        connection.advance(EmbeddedConnection.interval - .nanoseconds(1))
        #expect(try connection.sent() == [])
        connection.advance(.nanoseconds(1))
        #expect(try connection.sent() == [SeenFrame(opcode: .ping, payload: [])])
        connection.advance(EmbeddedConnection.interval - .nanoseconds(1))
        #expect(connection.isActive)
        connection.advance(.nanoseconds(1))
        #expect(!connection.isActive, "no answer within another interval: TCP closed, no close frame")
        #expect(try connection.sent() == [])
    }

    @Test func aSilentPeerGetsTheConfiguredTimeoutCloseThenTCPEnds() throws {
        let connection = try EmbeddedConnection(timeoutClose: WebSocketKeepaliveTimeoutClose(
            code: WebSocketCloseCode(rawValue: 4002), reason: "heartbeat_timeout"))
        connection.advance(EmbeddedConnection.interval)
        #expect(try connection.sent() == [SeenFrame(opcode: .ping, payload: [])])
        connection.advance(EmbeddedConnection.interval - .nanoseconds(1))
        #expect(connection.isActive)
        #expect(try connection.sent() == [])
        connection.advance(.nanoseconds(1))
        #expect(try connection.sent() == [SeenFrame(opcode: .close, payload: closePayload(4002, "heartbeat_timeout"))])
        #expect(!connection.isActive, "TCP closed right after the close frame, without waiting for an answer")
    }

    @Test func aPeerThatAnswersStaysConnected() throws {
        // Ticks every 30 s from the start; a ping goes out after 30 s of silence.
        let connection = try EmbeddedConnection()
        let ping = [SeenFrame(opcode: .ping, payload: [])]
        connection.advance(.seconds(30))
        #expect(try connection.sent() == ping)
        connection.advance(.seconds(1))
        try connection.receive(.pong, [])
        connection.advance(.seconds(29))
        #expect(try connection.sent() == [], "t=60: heard 29 s ago")
        connection.advance(.seconds(30))
        #expect(try connection.sent() == ping, "t=90: silent for 59 s")
        connection.advance(.seconds(5))
        try connection.receive(.binary, [7])
        connection.advance(.seconds(25))
        #expect(try connection.sent() == [], "t=120: any frame answers the ping")
        #expect(connection.isActive)
        connection.advance(.seconds(30))
        #expect(try connection.sent() == ping, "t=150")
        connection.advance(.seconds(30))
        #expect(!connection.isActive, "t=180: the last ping went unanswered")
    }

    @Test func noPingsWhenKeepaliveIsOff() throws {
        let connection = try EmbeddedConnection(keepalive: false)
        connection.advance(.seconds(3600))
        #expect(try connection.sent() == [])
        #expect(connection.isActive)
    }

    @Test func serverEchoesThePeersCloseAndEndsTCP() throws {
        let connection = try EmbeddedConnection(.server)
        try connection.receive(.close, closePayload(1000, "bye"))
        #expect(try connection.sent() == [SeenFrame(opcode: .close, payload: closePayload(1000))])
        #expect(connection.events.events == [.closeReceived(.normalClosure, reason: "bye")])
        #expect(!connection.isActive)
    }

    @Test func clientEchoesAndWaitsForTheServerToEndTCP() throws {
        let connection = try EmbeddedConnection(.client)
        try connection.receive(.close, closePayload(1001))
        #expect(try connection.sent() == [SeenFrame(opcode: .close, payload: closePayload(1001))])
        connection.advance(EmbeddedConnection.closeTimeout - .nanoseconds(1))
        #expect(connection.isActive, "the server closes TCP first")
        connection.advance(.nanoseconds(1))
        #expect(!connection.isActive, "until the close timeout")
    }

    @Test func localCloseRefusesWritesAndTimesOutWithoutAnAnswer() throws {
        let connection = try EmbeddedConnection(.server)
        try connection.channel.writeAndFlush(WebSocketOutbound.close(.goingAway, reason: "server shutting down")).wait()
        #expect(try connection.sent() == [SeenFrame(opcode: .close, payload: closePayload(1001, "server shutting down"))])
        #expect(throws: WebSocketClosedError.self) {
            try connection.channel.writeAndFlush(WebSocketOutbound.message(.text("late"))).wait()
        }
        try connection.receive(.text, Array("ignored".utf8))
        try connection.receive(.ping, [])
        #expect(try connection.messages() == [], "data after our close frame is dropped")
        #expect(try connection.sent() == [], "and pings are not answered")
        connection.advance(EmbeddedConnection.closeTimeout - .nanoseconds(1))
        #expect(connection.isActive)
        connection.advance(.nanoseconds(1))
        #expect(!connection.isActive)
    }

    @Test func serverEndsTCPWhenThePeerAnswersItsClose() throws {
        let connection = try EmbeddedConnection(.server)
        connection.channel.write(WebSocketOutbound.close(.goingAway, reason: ""), promise: nil)
        _ = try connection.sent()
        try connection.receive(.close, closePayload(1001))
        #expect(!connection.isActive)
        #expect(try connection.sent() == [], "the handshake is complete: no second close frame")
    }

    @Test func frameThatLosesSyncIsAnsweredWith1002AndTCPEnds() throws {
        let connection = try EmbeddedConnection(.server)
        // Unmasked, from a client.
        try connection.receiveRaw(WireFrame(opcode: 0x1, payload: Array("x".utf8)).bytes)
        let sent = try connection.sent()
        #expect(sent.map(\.opcode) == [WebSocketOpcode.close.rawValue])
        #expect(Array(sent.first?.payload.prefix(2) ?? []) == closePayload(1002))
        #expect(connection.events.events == [.protocolError(.maskRequired)])
        #expect(!connection.isActive)
    }

    @Test func invalidUTF8IsAnsweredWith1007AndWaitsForThePeersClose() throws {
        let connection = try EmbeddedConnection(.server)
        try connection.receive(.text, [0xC3, 0x28])
        let sent = try connection.sent()
        #expect(Array(sent.first?.payload.prefix(2) ?? []) == closePayload(1007))
        #expect(connection.isActive, "the stream is in sync: the peer can answer")
        try connection.receive(.close, closePayload(1007))
        #expect(!connection.isActive)
    }

    @Test func anInvalidCloseFrameIsAnsweredAndTCPEndsAtOnce() throws {
        let connection = try EmbeddedConnection(.client)
        try connection.receive(.close, closePayload(1005))
        let sent = try connection.sent()
        #expect(Array(sent.first?.payload.prefix(2) ?? []) == closePayload(1002))
        #expect(connection.events.events == [.protocolError(.invalidCloseCode(1005))])
        #expect(!connection.isActive, "even a client: the server already sent its close")
    }
}
