public import NIOCore

/// Per-connection settings of the protocol handler.
public struct WebSocketConnectionOptions: Sendable {
    public var maxFrameSize: Int
    public var maxMessageSize: Int
    public var pingInterval: TimeAmount?
    public var closeTimeout: TimeAmount
    /// The close frame sent to a peer that left a keepalive ping unanswered for an interval,
    /// just before TCP is closed; nil: TCP is closed without a close frame.
    public var keepaliveTimeoutClose: WebSocketKeepaliveTimeoutClose?
    public var compressionLevel: Int32
    public var memoryLevel: Int32
    public var minimumCompressedSize: Int

    public init(maxFrameSize: Int = 16 << 20, maxMessageSize: Int = 16 << 20, pingInterval: TimeAmount? = .seconds(30),
                closeTimeout: TimeAmount = .seconds(5), compressionLevel: Int32 = 6, memoryLevel: Int32 = 8,
                minimumCompressedSize: Int = 0, keepaliveTimeoutClose: WebSocketKeepaliveTimeoutClose? = nil) {
        self.keepaliveTimeoutClose = keepaliveTimeoutClose
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.pingInterval = pingInterval
        self.closeTimeout = closeTimeout
        self.compressionLevel = compressionLevel
        self.memoryLevel = memoryLevel
        self.minimumCompressedSize = minimumCompressedSize
    }

    public init(_ configuration: WebSocketConfiguration) {
        self.init(maxFrameSize: configuration.maxFrameSize, maxMessageSize: configuration.maxMessageSize,
                  pingInterval: configuration.pingInterval, closeTimeout: configuration.closeTimeout,
                  compressionLevel: configuration.deflate.compressionLevel,
                  memoryLevel: configuration.deflate.memoryLevel,
                  minimumCompressedSize: configuration.deflate.minimumMessageSize,
                  keepaliveTimeoutClose: configuration.keepaliveTimeoutClose)
    }
}

/// The close code and reason a server sends to a peer whose keepalive timed out (lattice.v1:
/// 4002 `heartbeat_timeout`).
public struct WebSocketKeepaliveTimeoutClose: Sendable, Equatable {
    public var code: WebSocketCloseCode
    public var reason: String

    public init(code: WebSocketCloseCode, reason: String) {
        self.code = code
        self.reason = reason
    }
}

/// The WebSocket connection after the handshake, for either role: parses and
/// validates frames, answers pings, runs the closing handshake, keeps the
/// connection alive, and turns application messages into frames.
///
/// Inbound it passes `WebSocketMessage`s (and `WebSocketEvent`s as user
/// events); outbound it takes `WebSocketOutbound`.
public final class WebSocketProtocolHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = WebSocketMessage
    public typealias OutboundIn = WebSocketOutbound
    public typealias OutboundOut = ByteBuffer

    private let role: WebSocketFrameParser.Role
    private let options: WebSocketConnectionOptions
    private let deflate: PerMessageDeflateParameters?
    private var parser: WebSocketFrameParser
    private var assembler: WebSocketMessageAssembler?
    private var compressor: DeflateCompressor?
    private var masks: MaskKeyGenerator?
    private var cumulation = ByteBuffer()
    /// Keepalive and closing handshake; this handler only carries out its actions.
    private var machine: WebSocketConnectionStateMachine
    private var pingTask: RepeatedTask?
    private var closeTimer: Scheduled<Void>?
    private var pendingFlush = false

    public init(role: WebSocketFrameParser.Role, options: WebSocketConnectionOptions, deflate: PerMessageDeflateParameters?) {
        self.role = role
        self.options = options
        self.deflate = deflate
        self.parser = WebSocketFrameParser(role: role, maxFrameSize: options.maxFrameSize,
                                           allowedReservedBits: deflate == nil ? 0 : 0x40)
        self.machine = WebSocketConnectionStateMachine(
            role: role, pingInterval: options.pingInterval, closeTimeout: options.closeTimeout,
            timeoutClose: options.keepaliveTimeoutClose.map { (code: $0.code, reason: $0.reason) })
        if role == .client { masks = MaskKeyGenerator() }
    }

    // MARK: lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        assembler = WebSocketMessageAssembler(maxMessageSize: options.maxMessageSize, deflate: deflate, role: role,
                                              allocator: context.channel.allocator)
        if let deflate {
            let ours = role == .server
                ? (deflate.serverMaxWindowBits, deflate.serverNoContextTakeover)
                : (deflate.clientMaxWindowBits, deflate.clientNoContextTakeover)
            compressor = DeflateCompressor(windowBits: ours.0, noContextTakeover: ours.1,
                                           level: options.compressionLevel, memoryLevel: options.memoryLevel)
        }
        if let interval = options.pingInterval, context.channel.isActive {
            startKeepalive(context: context, interval: interval)
        }
    }

    public func channelActive(context: ChannelHandlerContext) {
        if let interval = options.pingInterval, pingTask == nil {
            startKeepalive(context: context, interval: interval)
        }
        context.fireChannelActive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        stopTimers()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        stopTimers()
        machine.channelInactive()
        context.fireChannelInactive()
    }

    private func stopTimers() {
        pingTask?.cancel()
        pingTask = nil
        closeTimer?.cancel()
        closeTimer = nil
    }

    private func startKeepalive(context: ChannelHandlerContext, interval: TimeAmount) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = loopBound.value
            handler.perform(handler.machine.keepaliveTick(now: context.eventLoop.now), context: context)
        }
    }

    // MARK: inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard machine.bytesReceived(now: context.eventLoop.now) else { return }
        // Take the buffer out of `self` so it is uniquely referenced while the parser unmasks in place.
        var buffer = cumulation
        cumulation = ByteBuffer()
        if buffer.readableBytes == 0 {
            buffer = incoming
        } else {
            buffer.writeBuffer(&incoming)
        }
        var parser = self.parser
        do {
            try parser.parse(&buffer) { event in
                switch event {
                case .frame(let frame):
                    try self.handleFrame(context: context, frame)
                case .partialPayload(let header, let bytes):
                    if self.machine.frameReceived(.data) == .deliver {
                        try self.assembler!.receivePartial(header, bytes)
                    }
                }
            }
        } catch let error as WebSocketProtocolError {
            fail(context: context, error)
        } catch {
            fail(context: context, .invalidCompressedData)
        }
        self.parser = parser
        if !machine.isClosed && buffer.readableBytes > 0 {
            cumulation = buffer
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if pendingFlush {
            pendingFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    private func handleFrame(context: ChannelHandlerContext, _ frame: WebSocketFrame) throws(WebSocketProtocolError) {
        switch frame.opcode {
        case .ping:
            if machine.frameReceived(.ping) == .sendPong {
                writeFrame(context: context, opcode: .pong, payload: frame.payload, promise: nil)
                pendingFlush = true
            }
        case .pong:
            if machine.frameReceived(.pong) == .deliver {
                context.fireUserInboundEventTriggered(WebSocketEvent.pong(frame.payload))
            }
        case .close:
            let code: WebSocketCloseCode?
            let reason: String
            do {
                (code, reason) = try Self.parseClosePayload(frame.payload)
            } catch {
                // The peer has already sent its close frame, invalid as it was: after ours
                // there is nothing left to wait for, so TCP ends right away.
                return fail(context: context, error, inCloseFrame: true)
            }
            context.fireUserInboundEventTriggered(WebSocketEvent.closeReceived(code, reason: reason))
            perform(machine.closeReceived(code: code, now: context.eventLoop.now), context: context)
        default:
            guard machine.frameReceived(.data) == .deliver else { return }
            if let message = try assembler!.receive(frame) {
                context.fireChannelRead(wrapInboundOut(message))
            }
        }
    }

    /// The status code and reason of a close frame, validated (§5.5.1, §7.4).
    static func parseClosePayload(_ payload: ByteBuffer) throws(WebSocketProtocolError) -> (WebSocketCloseCode?, String) {
        var payload = payload
        if payload.readableBytes == 1 { throw .closePayloadTooShort }
        guard let raw = payload.readInteger(as: UInt16.self) else { return (nil, "") }
        let received = WebSocketCloseCode(rawValue: raw)
        guard received.isValidOnWire else { throw .invalidCloseCode(raw) }
        var validator = UTF8Validator()
        let valid = payload.withUnsafeReadableBytes { validator.validate($0) } && validator.isComplete
        guard valid else { throw .invalidUTF8 }
        return (received, String(buffer: payload))
    }

    /// Fails the connection (§7.1.7): reports the error, and the machine says whether a close
    /// frame with its code goes out and when TCP ends.
    private func fail(context: ChannelHandlerContext, _ error: WebSocketProtocolError, inCloseFrame: Bool = false) {
        context.fireUserInboundEventTriggered(WebSocketEvent.protocolError(error))
        perform(machine.protocolError(error, inCloseFrame: inCloseFrame, now: context.eventLoop.now), context: context)
    }

    /// Carries out an action of the machine. `promise` is the application's, for a close it asked for.
    private func perform(_ action: WebSocketConnectionStateMachine.Action, context: ChannelHandlerContext,
                         promise: EventLoopPromise<Void>? = nil) {
        switch action {
        case .none, .deliver, .sendPong:
            // Delivering and answering pings need the frame: `handleFrame` does them.
            break
        case .sendPing:
            writeFrame(context: context, opcode: .ping, payload: context.channel.allocator.buffer(capacity: 0), promise: nil)
            context.flush()
        case .sendClose(let code, let reason, let then):
            let payload = WebSocketFrameEncoder.closePayload(code: code, reason: reason, allocator: context.channel.allocator)
            switch then {
            case .closeChannel:
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.cascade(to: promise)
                writeFrame(context: context, opcode: .close, payload: payload, promise: written)
                context.flush()
                written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            case .closeNow:
                writeFrame(context: context, opcode: .close, payload: payload, promise: promise)
                context.flush()
                context.close(promise: nil)
            case .closeAt(let deadline):
                writeFrame(context: context, opcode: .close, payload: payload, promise: promise)
                context.flush()
                scheduleCloseTimeout(context: context, deadline: deadline)
            }
        case .closeChannel:
            context.close(promise: nil)
        case .failWrite:
            promise?.fail(WebSocketClosedError())
        }
    }

    private func scheduleCloseTimeout(context: ChannelHandlerContext, deadline: NIODeadline) {
        guard closeTimer == nil else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        closeTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.perform(handler.machine.closeTimeoutFired(now: context.eventLoop.now), context: context)
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        perform(machine.channelFailed(), context: context)
    }

    // MARK: outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outbound = unwrapOutboundIn(data)
        guard machine.acceptsWrites else {
            promise?.fail(WebSocketClosedError())
            return
        }
        switch outbound {
        case .message(let message):
            let opcode: WebSocketOpcode = message.kind == .text ? .text : .binary
            if let compressor, message.data.readableBytes >= options.minimumCompressedSize {
                let compressed = compressor.compress(message.data, allocator: context.channel.allocator)
                writeFrame(context: context, opcode: opcode, rsv1: true, payload: compressed, promise: promise)
            } else {
                writeFrame(context: context, opcode: opcode, payload: message.data, promise: promise)
            }
        case .encodedFrames(let bytes):
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .ping(let payload):
            writeFrame(context: context, opcode: .ping, payload: payload, promise: promise)
        case .close(let code, let reason):
            perform(machine.closeRequested(code: code, reason: reason, now: context.eventLoop.now), context: context,
                    promise: promise)
        }
    }

    /// Small frames go out as one buffer; large server payloads are written after a
    /// separate header so they are not copied.
    private func writeFrame(context: ChannelHandlerContext, opcode: WebSocketOpcode, rsv1: Bool = false,
                            payload: ByteBuffer, promise: EventLoopPromise<Void>?) {
        let maskKey = masks?.key()
        let length = payload.readableBytes
        if maskKey == nil && length > 1024 {
            var header = context.channel.allocator.buffer(capacity: 10)
            WebSocketFrameEncoder.writeHeader(into: &header, rsv1: rsv1, opcode: opcode, payloadLength: length)
            context.write(wrapOutboundOut(header), promise: nil)
            context.write(wrapOutboundOut(payload), promise: promise)
        } else {
            let frame = WebSocketFrameEncoder.encode(rsv1: rsv1, opcode: opcode, payload: payload, maskKey: maskKey,
                                                     allocator: context.channel.allocator)
            context.write(wrapOutboundOut(frame), promise: promise)
        }
    }
}
