import NIOCore

/// The keepalive and closing handshake of one WebSocket connection (RFC 6455 §5.5.2–3, §7),
/// for either role, as a pure state machine: each event method takes the time from the caller
/// and returns what to do; `WebSocketProtocolHandler` carries the action out on the channel.
struct WebSocketConnectionStateMachine {
    enum State: Equatable {
        /// Messages flow both ways.
        case open(Keepalive)
        /// We sent a close frame and wait for the peer's until `deadline`.
        case closing(deadline: NIODeadline)
        /// The closing handshake is over, or the stream is unusable: nothing more is delivered
        /// or written. A client that answered the server's close waits for the server to end
        /// TCP until `tcpDeadline` (§7.1.1); nil: the channel is closed or being closed.
        case closed(tcpDeadline: NIODeadline?)
    }

    /// What the keepalive knows while the connection is open.
    struct Keepalive: Equatable {
        /// When bytes last arrived from the peer; nil before the first.
        var lastHeard: NIODeadline?
        /// When we sent a keepalive ping that nothing from the peer has followed yet.
        var pingSent: NIODeadline?
    }

    enum Action: Equatable {
        case none
        /// Pass the frame on: a data frame to the message assembler, a pong up the pipeline.
        case deliver
        /// Answer a ping with a pong carrying its payload.
        case sendPong
        /// Send an empty keepalive ping.
        case sendPing
        /// Send a close frame (no payload when `code` is nil), then do `then`.
        case sendClose(code: WebSocketCloseCode?, reason: String, then: AfterClose)
        /// Close the channel now.
        case closeChannel
        /// Refuse the write: the closing handshake has started.
        case failWrite
    }

    /// What follows a close frame we send.
    enum AfterClose: Equatable {
        /// Close the channel once the frame is written.
        case closeChannel
        /// Close the channel right after handing the frame to the socket, without waiting for it
        /// to be written: the peer is not reading (a keepalive timeout).
        case closeNow
        /// Close the channel at `deadline` unless the peer's answer (or TCP's end) comes first.
        case closeAt(deadline: NIODeadline)
    }

    /// The inbound frames other than close.
    enum Frame: Equatable {
        case ping, pong
        /// A data frame or part of its payload.
        case data
    }

    let role: WebSocketFrameParser.Role
    /// Ping after this much silence, and give up this long after an unanswered ping; nil: no keepalive.
    let pingInterval: TimeAmount?
    /// Sent when an unanswered ping times out, before TCP is closed; nil: TCP is closed with no
    /// close frame.
    let timeoutClose: (code: WebSocketCloseCode, reason: String)?
    /// How long we wait for the peer's close frame, or for the server to end TCP.
    let closeTimeout: TimeAmount
    private(set) var state = State.open(Keepalive())

    init(role: WebSocketFrameParser.Role, pingInterval: TimeAmount?, closeTimeout: TimeAmount,
         timeoutClose: (code: WebSocketCloseCode, reason: String)? = nil) {
        self.timeoutClose = timeoutClose
        self.role = role
        self.pingInterval = pingInterval
        self.closeTimeout = closeTimeout
    }

    var acceptsWrites: Bool {
        if case .open = state { return true }
        return false
    }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    // MARK: inbound

    /// Bytes arrived (any: the peer is alive). Returns whether to parse them: once closed,
    /// the stream is no longer read.
    mutating func bytesReceived(now: NIODeadline) -> Bool {
        switch state {
        case .open(var keepalive):
            keepalive.lastHeard = now
            keepalive.pingSent = nil
            state = .open(keepalive)
            return true
        case .closing:
            return true
        case .closed:
            return false
        }
    }

    mutating func frameReceived(_ frame: Frame) -> Action {
        switch (frame, state) {
        case (.ping, .open): return .sendPong
        // Data after our close frame is parsed (to stay in sync) and dropped (§5.5.1).
        case (.data, .open): return .deliver
        case (.pong, _): return .deliver
        case (.ping, _), (.data, _): return .none
        }
    }

    /// A valid close frame arrived (`code` nil when it carried none).
    mutating func closeReceived(code: WebSocketCloseCode?, now: NIODeadline) -> Action {
        switch state {
        case .open:
            // Echo the status code (§5.5.1), then let TCP end: the server closes it first (§7.1.1),
            // a client waits for that, within the close timeout.
            switch role {
            case .server:
                state = .closed(tcpDeadline: nil)
                return .sendClose(code: code, reason: "", then: .closeChannel)
            case .client:
                let deadline = now + closeTimeout
                state = .closed(tcpDeadline: deadline)
                return .sendClose(code: code, reason: "", then: .closeAt(deadline: deadline))
            }
        case .closing(let deadline):
            // The peer answered ours: the handshake is complete.
            switch role {
            case .server:
                state = .closed(tcpDeadline: nil)
                return .closeChannel
            case .client:
                state = .closed(tcpDeadline: deadline)
                return .none
            }
        case .closed:
            return .none
        }
    }

    /// The peer broke the protocol (§7.1.7); `inCloseFrame`: the error is in its close frame, so
    /// it has already started closing and no second close frame will come.
    mutating func protocolError(_ error: WebSocketProtocolError, inCloseFrame: Bool, now: NIODeadline) -> Action {
        switch state {
        case .open:
            // If the stream is still in sync and the peer may still answer, we wait for its close
            // frame; otherwise TCP ends once ours is written.
            if error.desynchronisesStream || inCloseFrame {
                state = .closed(tcpDeadline: nil)
                return .sendClose(code: error.closeCode, reason: error.description, then: .closeChannel)
            }
            let deadline = now + closeTimeout
            state = .closing(deadline: deadline)
            return .sendClose(code: error.closeCode, reason: error.description, then: .closeAt(deadline: deadline))
        case .closing:
            state = .closed(tcpDeadline: nil)
            return .closeChannel
        case .closed:
            guard error.desynchronisesStream else { return .none }
            state = .closed(tcpDeadline: nil)
            return .closeChannel
        }
    }

    // MARK: local and timers

    /// The application starts the closing handshake.
    mutating func closeRequested(code: WebSocketCloseCode, reason: String, now: NIODeadline) -> Action {
        guard case .open = state else { return .failWrite }
        let deadline = now + closeTimeout
        state = .closing(deadline: deadline)
        return .sendClose(code: code, reason: reason, then: .closeAt(deadline: deadline))
    }

    /// The keepalive timer fired (every `pingInterval`).
    mutating func keepaliveTick(now: NIODeadline) -> Action {
        guard case .open(var keepalive) = state, let interval = pingInterval else { return .none }
        if let sent = keepalive.pingSent {
            // A whole interval passed after our ping with nothing from the peer: it is gone.
            guard now - sent >= interval else { return .none }
            state = .closed(tcpDeadline: nil)
            // Tell it why (it may only be slow to read), then end TCP at once without waiting.
            if let timeoutClose { return .sendClose(code: timeoutClose.code, reason: timeoutClose.reason, then: .closeNow) }
            return .closeChannel
        }
        if let heard = keepalive.lastHeard, now - heard < interval { return .none }
        keepalive.pingSent = now
        state = .open(keepalive)
        return .sendPing
    }

    /// The close timer fired: close the channel if a deadline has passed.
    mutating func closeTimeoutFired(now: NIODeadline) -> Action {
        switch state {
        case .closing(let deadline), .closed(tcpDeadline: let deadline?):
            guard now >= deadline else { return .none }
            state = .closed(tcpDeadline: nil)
            return .closeChannel
        case .open, .closed(tcpDeadline: nil):
            return .none
        }
    }

    /// The channel failed (an error from below this handler): close it.
    mutating func channelFailed() -> Action {
        state = .closed(tcpDeadline: nil)
        return .closeChannel
    }

    mutating func channelInactive() {
        state = .closed(tcpDeadline: nil)
    }
}
