import LatticeAuth
import LatticeProtocol
import LatticeRuns
import LatticeStreams
import LatticeWebSocket
import NIOCore

/// One `lattice.v1` session on `/ws` (docs/protocol.md). Lives on its connection's event loop
/// and is touched only there. To the hub it is one `HubSubscriber` among others: it asks the
/// hub (`StreamHub.subscribe`, `publish`, …) and the hub answers through `SubscriberRef`.
///
/// Requests are decoded with `ClientRequest.decode`; every one gets exactly one `ok`/`error`,
/// in request order (`ReplyQueue`), even when the answer is computed on a stream's home loop.
final class SessionHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketMessage
    typealias OutboundOut = WebSocketOutbound

    struct Subscription {
        let id: SubscriberID
        /// The subscribe's answer has been written: deliveries go straight to the socket.
        var active = false
        /// Deliveries that arrived before the answer was written (kept in order).
        var pending: [WebSocketOutbound] = []
        /// A replay from the store waits for the socket to drain; continues after this offset.
        var catchUpAfter: UInt64? = nil
        /// The hub ended it before its answer was written: it goes once the answer and what
        /// waited behind it (ending with the `unsubscribed` notice) are written.
        var endsOnActivation = false
    }

    let hub: StreamHub
    private let sessionLoops: SessionLoops
    let access: AccessControl
    let sessionID: UInt64
    let session: String
    /// The identity `welcome` and presence show: the principal's user.
    var identity: Identity {
        let user = shared.current.user
        return Identity(id: user.id, name: user.name, kind: user.kind == .bot ? .bot : .user)
    }
    /// Who this connection authenticated as, shared with the other live sessions of its token;
    /// its roles change in place (`rolesChanged`).
    private(set) var shared: SharedPrincipal
    var principal: Principal { shared.current }
    private var rateLimiter: RateLimiter
    private let subprotocol: String?
    private var context: ChannelHandlerContext?
    private(set) var ref: SubscriberRef?
    private var sessionLoop: SessionLoop?
    var subscriptions: [StreamName: Subscription] = [:]
    var replies = ReplyQueue()
    /// Set by `SessionLoop.markDirty` until its one flush per loop tick.
    var isDirty = false
    private(set) var isOpen = true
    /// Whether requests are read: only while the socket is writable and fewer than
    /// `maxInFlight` answers are outstanding.
    private var readGate = ReadGate(maxInFlight: SessionHandler.maxInFlight)
    var writable: Bool { readGate.isWritable }
    /// Most requests a session may have outstanding on home loops; beyond, it stops reading
    /// (so a fast publisher cannot pile up tasks on a busy home loop).
    static let maxInFlight = 128

    /// Runs and bot workers (nil on a server that runs no workflows).
    let runs: RunService?
    /// Set by `worker.register`: this connection is a bot worker under this id.
    var workerID: WorkerID?

    init(hub: StreamHub, sessionLoops: SessionLoops, access: AccessControl, subprotocol: String?, principal: Principal,
         rateLimits: RateLimits, runs: RunService? = nil) {
        self.runs = runs
        self.hub = hub
        self.sessionLoops = sessionLoops
        self.access = access
        self.subprotocol = subprotocol
        self.sessionID = UInt64.random(in: 1...UInt64.max)
        self.session = ServerFrames.sessionString(sessionID)
        self.shared = SharedPrincipal(principal)
        self.rateLimiter = RateLimiter(rateLimits)
    }

    var limits: ProtocolLimits { hub.settings.limits }

    // MARK: lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let loopIndex = hub.index(of: context.eventLoop)
        ref = SubscriberRef(subscriber: NIOLoopBound(self, eventLoop: context.eventLoop), loopIndex: loopIndex,
                            conn: ConnectionID(sessionID))
        sessionLoop = sessionLoops.on(context.eventLoop)
        apply(readGate.writabilityChanged(context.channel.isWritable))
        shared = access.intern(shared.current)
        sessionLoop?.addLive(self)
        // The upgrade handler adds us before it removes the HTTP handlers: greet one tick later.
        context.eventLoop.assumeIsolated().execute { self.sendWelcome() }
    }

    private func sendWelcome() {
        guard let context else { return }
        var welcome = ByteBuffer()
        ServerMessage.welcome(session: session, identity: identity, limits: limits,
                              heartbeatSeconds: hub.settings.heartbeatSeconds,
                              protocol: subprotocol ?? ProtocolVersion.v1, into: &welcome)
        write(.message(WebSocketMessage(kind: .text, data: welcome)))
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        leaveAll()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        leaveAll()
        self.context = nil
    }

    /// Detaches every subscription and removes this connection from every presence: no ghosts.
    func leaveAll() {
        guard isOpen else { return }
        isOpen = false
        access.release(tokenID: shared.tokenID)
        sessionLoop?.removeLive(self)
        if let workerID, let runs {
            // Its leases are lost: the executor retries those tasks elsewhere or fails them.
            runs.workers.unregister(workerID)
            self.workerID = nil
        }
        guard let ref else { return }
        for (name, subscription) in subscriptions {
            hub.unsubscribe(name, sub: subscription.id, ref: ref, requestID: nil, seq: nil)
        }
        subscriptions = [:]
        self.ref = nil
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard isOpen else { return }
        let message = unwrapInboundIn(data)
        switch rateLimiter.admit(bytes: message.data.readableBytes, now: context.eventLoop.now) {
        case .allowed:
            break
        case .refused:
            let id = message.kind == .text ? (try? ClientRequest.decode(message.data, limits: limits).get())?.id : nil
            return answerNow(ProtocolError(.rateLimited, "too many requests; slow down (docs/security.md)", id: id))
        case .abusive:
            access.audit("access.refused", actor: principal.user.id, detail: "closed for flooding past the rate limit")
            return closeSession(WebSocketCloseCode(LatticeCloseCode.policyViolation), reason: "rate limit exceeded")
        }
        guard message.kind == .text else {
            return answerNow(ProtocolError(.unsupportedEncoding, "lattice.v1 requests are JSON text messages"))
        }
        switch ClientRequest.decode(message.data, limits: limits) {
        case .failure(let error):
            answerNow(error)
        case .success(let request):
            handle(request)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// Backpressure: past the high-water mark every subscription is paused on its home loop (and
    /// requests are no longer read); below the low-water mark they drain.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let now = context.channel.isWritable
        if now != writable, isOpen {
            apply(readGate.writabilityChanged(now))
            if now { resumeCatchUps() }
            for (name, subscription) in subscriptions {
                if now {
                    hub.drain(name, sub: subscription.id)
                } else {
                    hub.pause(name, sub: subscription.id)
                }
            }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Tells the read gate how many answers are outstanding now.
    func updateReading() {
        apply(readGate.outstandingChanged(replies.outstanding))
    }

    private func apply(_ action: ReadGate.Action?) {
        guard let action else { return }
        _ = try? context?.channel.syncOptions?.setOption(.autoRead, value: action == .startReading)
    }

    /// Sends a close frame and stops serving this connection (its subscriptions end now).
    func closeSession(_ code: WebSocketCloseCode, reason: String) {
        guard isOpen else { return }
        write(.close(code, reason: reason))
        flushNow()
        leaveAll()
    }

    // MARK: writing

    func write(_ outbound: WebSocketOutbound) {
        context?.write(wrapOutboundOut(outbound), promise: nil)
    }

    /// The loop this session lives on (nil once removed).
    var eventLoop: (any EventLoop)? { context?.eventLoop }

    func flushNow() {
        context?.flush()
    }

    /// Flush once this loop tick (after the tasks already queued).
    func markDirty() {
        sessionLoop?.markDirty(self)
    }

    /// An answer computed here: written now if nothing is outstanding, else queued in order.
    func answerNow(_ error: ProtocolError) {
        answerNow(ServerFrames.error(error))
    }

    func answerNow(_ frame: ByteBuffer) {
        if replies.isIdle {
            write(.encodedFrames(frame))
        } else {
            replies.fill(replies.reserve(), HubReply(frames: [frame]))
        }
    }
}
