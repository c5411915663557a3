public import NIOCore

/// Per-connection settings of the protocol handler.
public struct WebSocketConnectionOptions: Sendable {
    public var maxFrameSize: Int
    public var maxMessageSize: Int
    public var pingInterval: TimeAmount?
    public var closeTimeout: TimeAmount
    public var compressionLevel: Int32
    public var memoryLevel: Int32
    public var minimumCompressedSize: Int

    public init(maxFrameSize: Int = 16 << 20, maxMessageSize: Int = 16 << 20, pingInterval: TimeAmount? = .seconds(30),
                closeTimeout: TimeAmount = .seconds(5), compressionLevel: Int32 = 6, memoryLevel: Int32 = 8,
                minimumCompressedSize: Int = 0) {
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
                  minimumCompressedSize: configuration.deflate.minimumMessageSize)
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

    private enum State {
        case open
        /// We sent a close frame and wait for the peer's.
        case closeSent
        /// The closing handshake is over (or the stream is unusable); we wait for TCP to end.
        case closed
    }

    private let role: WebSocketFrameParser.Role
    private let options: WebSocketConnectionOptions
    private let deflate: PerMessageDeflateParameters?
    private var parser: WebSocketFrameParser
    private var assembler: WebSocketMessageAssembler?
    private var compressor: DeflateCompressor?
    private var masks: MaskKeyGenerator?
    private var cumulation = ByteBuffer()
    private var state = State.open
    private var heardFromPeer = false
    private var awaitingPong = false
    private var pingTask: RepeatedTask?
    private var closeTimer: Scheduled<Void>?
    private var pendingFlush = false
    /// The peer sent a close frame (valid or not): no second one will come.
    private var receivedClose = false

    public init(role: WebSocketFrameParser.Role, options: WebSocketConnectionOptions, deflate: PerMessageDeflateParameters?) {
        self.role = role
        self.options = options
        self.deflate = deflate
        self.parser = WebSocketFrameParser(role: role, maxFrameSize: options.maxFrameSize,
                                           allowedReservedBits: deflate == nil ? 0 : 0x40)
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
        state = .closed
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
            handler.keepaliveTick(context: context)
        }
    }

    private func keepaliveTick(context: ChannelHandlerContext) {
        defer { heardFromPeer = false }
        guard state == .open, !heardFromPeer else { return }
        if awaitingPong {
            // A whole interval passed after our ping with nothing from the peer: it is gone.
            state = .closed
            context.close(promise: nil)
            return
        }
        awaitingPong = true
        writeFrame(context: context, opcode: .ping, payload: context.channel.allocator.buffer(capacity: 0), promise: nil)
        context.flush()
    }

    // MARK: inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        heardFromPeer = true
        awaitingPong = false
        guard state != .closed else { return }
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
                    if self.state == .open {
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
        if state != .closed && buffer.readableBytes > 0 {
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
            if state == .open {
                writeFrame(context: context, opcode: .pong, payload: frame.payload, promise: nil)
                pendingFlush = true
            }
        case .pong:
            context.fireUserInboundEventTriggered(WebSocketEvent.pong(frame.payload))
        case .close:
            do {
                try handleClose(context: context, frame.payload)
            } catch {
                // The peer has already sent its close frame, invalid as it was: after ours
                // there is nothing left to wait for, so TCP ends right away.
                fail(context: context, error, peerIsClosing: true)
            }
        default:
            // Data frames after our close frame are read (to stay in sync) and dropped (§5.5.1).
            guard state == .open else { return }
            if let message = try assembler!.receive(frame) {
                context.fireChannelRead(wrapInboundOut(message))
            }
        }
    }

    private func handleClose(context: ChannelHandlerContext, _ payload: ByteBuffer) throws(WebSocketProtocolError) {
        receivedClose = true
        var payload = payload
        var code: WebSocketCloseCode? = nil
        var reason = ""
        if payload.readableBytes == 1 { throw .closePayloadTooShort }
        if let raw = payload.readInteger(as: UInt16.self) {
            let received = WebSocketCloseCode(rawValue: raw)
            guard received.isValidOnWire else { throw .invalidCloseCode(raw) }
            var validator = UTF8Validator()
            let valid = payload.withUnsafeReadableBytes { validator.validate($0) } && validator.isComplete
            guard valid else { throw .invalidUTF8 }
            code = received
            reason = String(buffer: payload)
        }
        context.fireUserInboundEventTriggered(WebSocketEvent.closeReceived(code, reason: reason))
        switch state {
        case .open:
            // Echo the status code (§5.5.1), then let TCP end. The server closes TCP first (§7.1.1);
            // a client waits for that, within the close timeout.
            state = .closed
            let reply = WebSocketFrameEncoder.closePayload(code: code, reason: "", allocator: context.channel.allocator)
            let written = context.eventLoop.makePromise(of: Void.self)
            writeFrame(context: context, opcode: .close, payload: reply, promise: written)
            context.flush()
            if role == .server {
                written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            } else {
                scheduleCloseTimeout(context: context)
            }
        case .closeSent:
            state = .closed
            if role == .server {
                context.close(promise: nil)
            } else {
                scheduleCloseTimeout(context: context)
            }
        case .closed:
            break
        }
    }

    /// Fails the connection (§7.1.7): sends a close frame with the error's code. If the
    /// stream is still in sync and the peer may still answer, we wait for its close frame;
    /// otherwise we drop TCP once ours is written.
    private func fail(context: ChannelHandlerContext, _ error: WebSocketProtocolError, peerIsClosing: Bool = false) {
        context.fireUserInboundEventTriggered(WebSocketEvent.protocolError(error))
        guard state == .open else {
            if error.desynchronisesStream || state == .closeSent {
                state = .closed
                context.close(promise: nil)
            }
            return
        }
        let payload = WebSocketFrameEncoder.closePayload(code: error.closeCode, reason: error.description,
                                                         allocator: context.channel.allocator)
        // After an invalid close frame the peer has already sent its close: ours completes
        // the closing handshake, so TCP ends now instead of after the close timeout.
        if error.desynchronisesStream || receivedClose {
            state = .closed
            let written = context.eventLoop.makePromise(of: Void.self)
            writeFrame(context: context, opcode: .close, payload: payload, promise: written)
            context.flush()
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            state = .closeSent
            writeFrame(context: context, opcode: .close, payload: payload, promise: nil)
            context.flush()
            scheduleCloseTimeout(context: context)
        }
    }

    private func scheduleCloseTimeout(context: ChannelHandlerContext) {
        guard closeTimer == nil else { return }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        closeTimer = context.eventLoop.scheduleTask(in: options.closeTimeout) {
            loopBound.value.close(promise: nil)
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: Error) {
        state = .closed
        context.close(promise: nil)
    }

    // MARK: outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outbound = unwrapOutboundIn(data)
        guard state == .open else {
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
            state = .closeSent
            let payload = WebSocketFrameEncoder.closePayload(code: code, reason: reason, allocator: context.channel.allocator)
            writeFrame(context: context, opcode: .close, payload: payload, promise: promise)
            context.flush()
            scheduleCloseTimeout(context: context)
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
