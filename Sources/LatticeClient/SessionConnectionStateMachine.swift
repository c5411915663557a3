import LatticeProtocol

/// The connection life of a `LatticeSession` as a pure state machine: idle → connecting →
/// greeting (socket open, waiting for `welcome`) → ready; when a connection ends, backing off
/// before the next attempt, or closed. Events take the time (`now`, on any monotonic clock the
/// session chooses) and return what the session must do; the machine does no I/O, sleeps
/// nowhere and draws no random numbers (the jitter of a backoff is the session's, from the
/// attempt number in `.scheduleReconnect`), so every path is tested with a clock moved by hand.
///
/// Each connection attempt has a generation; events of an older generation (a late `welcome`,
/// the end of a connection already replaced) are ignored.
struct SessionConnectionStateMachine {
    enum State: Equatable {
        /// Not connected yet, or the first connect failed (the caller may call `connect()` again).
        case idle
        /// A TCP connection and WebSocket handshake are under way.
        case connecting(generation: Int)
        /// The socket is open; the server's `welcome` has not arrived yet.
        case greeting(generation: Int)
        /// Greeted: requests flow. `since` is when it became ready.
        case ready(generation: Int, since: Duration)
        /// Waiting before the next attempt.
        case backingOff
        case closed(ClosedBy)
    }

    /// Why the session closed; it is final.
    enum ClosedBy: Equatable {
        /// `close()` was called.
        case user
        /// The connection ended and the options ask for no reconnect.
        case noReconnect
        /// `maxAttempts` consecutive attempts failed.
        case gaveUp
        /// The server closed with 4003: the token no longer authenticates.
        case credentialEnded(reason: String)
        /// The server closed with another code its table marks terminal.
        case terminalClose(code: UInt16, reason: String)
    }

    enum Action: Equatable {
        /// Open a connection for this generation, then report `opened` or `openFailed`.
        case open(generation: Int)
        /// Start waiting for `welcome` (report `welcomeTimedOut` if the connect timeout passes first).
        case awaitWelcome(generation: Int)
        /// The first `connect()` failed: throw this to its caller.
        case failConnect(reason: String)
        /// The first `connect()` was refused its credential (HTTP `status` at the handshake).
        case refuseCredential(status: UInt)
        /// Greeted: resubscribe, send what waited, start the heartbeat (every `heartbeat`, if any).
        case becomeReady(generation: Int, heartbeat: Duration?)
        /// A ready connection ended: requests already sent fail with `.connectionLost`; the
        /// heartbeat stops; report `.disconnected(reason)`.
        case connectionLost(reason: String)
        /// A reconnect attempt failed: report `.disconnected(reason)`.
        case attemptFailed(reason: String)
        /// Wait `policy.delay(attempt:)` (report `.reconnecting(attempt: attempt + 1, …)`), then
        /// report `backoffElapsed`.
        case scheduleReconnect(attempt: Int)
        /// Close this generation's socket (a `welcome` that did not come in time, or `close()`).
        case closeSocket(generation: Int)
        /// The session is over: every request and subscription fails or finishes; report the status.
        case finish(ClosedBy)
    }

    private(set) var state: State = .idle
    let reconnect: ReconnectPolicy?
    private var generation = 0
    /// Consecutive reconnect attempts since the last stable connection.
    private var attempts = 0
    /// Whether a connection was ever greeted (the first `connect()` has returned).
    private(set) var everConnected = false

    init(reconnect: ReconnectPolicy?) {
        self.reconnect = reconnect
    }

    var isReady: Bool {
        if case .ready = state { return true }
        return false
    }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// The generation of the connection now open or being opened, if any.
    var currentGeneration: Int? {
        switch state {
        case .connecting(let g), .greeting(let g), .ready(let g, _): return g
        case .idle, .backingOff, .closed: return nil
        }
    }

    // MARK: events

    /// `connect()`: only from idle.
    mutating func connect() -> [Action]? {
        guard case .idle = state else { return nil }
        return startAttempt()
    }

    mutating func opened(generation g: Int) -> [Action] {
        guard case .connecting(g) = state else { return [] }
        state = .greeting(generation: g)
        return [.awaitWelcome(generation: g)]
    }

    mutating func openFailed(generation g: Int, reason: String) -> [Action] {
        guard case .connecting(g) = state else { return [] }
        return attemptEnded(reason: reason, closeCode: nil, closeReason: "")
    }

    /// The handshake of generation `g` was answered 401 or 403: the token does not
    /// authenticate, and trying it again cannot help. The first connect fails with it; a
    /// reconnect ends the session (`credentialEnded`).
    mutating func credentialRefused(generation g: Int, status: UInt) -> [Action] {
        guard case .connecting(g) = state else { return [] }
        guard everConnected else {
            state = .idle
            return [.refuseCredential(status: status)]
        }
        return [.attemptFailed(reason: "the server refused the token (HTTP \(status))")]
            + finish(.credentialEnded(reason: "the token was refused at reconnect (HTTP \(status))"))
    }

    mutating func welcomeReceived(generation g: Int, heartbeatSeconds: Int?, now: Duration) -> [Action] {
        guard case .greeting(g) = state else { return [] }
        state = .ready(generation: g, since: now)
        everConnected = true
        let heartbeat = heartbeatSeconds.flatMap { $0 > 0 ? Duration.milliseconds($0 * 1000 / 2) : nil }
        return [.becomeReady(generation: g, heartbeat: heartbeat)]
    }

    /// The connect timeout passed without a `welcome`: the socket is closed and the attempt
    /// has failed (the socket's end, reported later, is then of an old generation).
    mutating func welcomeTimedOut(generation g: Int) -> [Action] {
        guard case .greeting(g) = state else { return [] }
        return [.closeSocket(generation: g)]
            + attemptEnded(reason: "no welcome within the connect timeout", closeCode: nil, closeReason: "")
    }

    /// The connection of generation `g` ended (`closeCode`: the server's close code, if it sent one).
    mutating func connectionEnded(generation g: Int, reason: String, closeCode: UInt16?, closeReason: String,
                                  now: Duration) -> [Action] {
        switch state {
        case .ready(g, let since):
            if let policy = reconnect, now - since >= policy.stableAfter { attempts = 0 }
            return [.connectionLost(reason: reason)] + next(closeCode: closeCode, closeReason: closeReason)
        case .greeting(g), .connecting(g):
            return attemptEnded(reason: "connection ended before welcome: \(reason)", closeCode: closeCode,
                                closeReason: closeReason)
        default:
            return []
        }
    }

    mutating func backoffElapsed() -> [Action] {
        guard case .backingOff = state else { return [] }
        return startAttempt()
    }

    /// `close()`: from any state but closed.
    mutating func close() -> [Action] {
        if case .closed = state { return [] }
        let open = currentGeneration
        state = .closed(.user)
        return (open.map { [Action.closeSocket(generation: $0)] } ?? []) + [.finish(.user)]
    }

    // MARK: transitions

    private mutating func startAttempt() -> [Action] {
        generation += 1
        state = .connecting(generation: generation)
        return [.open(generation: generation)]
    }

    /// An attempt that never became ready ended.
    private mutating func attemptEnded(reason: String, closeCode: UInt16?, closeReason: String) -> [Action] {
        guard everConnected else {
            // The first connect: its caller learns why; nothing reconnects.
            state = .idle
            return [.failConnect(reason: reason)]
        }
        return [.attemptFailed(reason: reason)] + next(closeCode: closeCode, closeReason: closeReason)
    }

    /// After a connection or an attempt ended: close for good, or back off.
    private mutating func next(closeCode: UInt16?, closeReason: String) -> [Action] {
        // The table of close codes says whether reconnecting can help (docs/protocol.md).
        if let closeCode, !LatticeCloseCode(rawValue: closeCode).reconnects {
            if closeCode == LatticeCloseCode.tokenRevoked.rawValue {
                return finish(.credentialEnded(reason: closeReason.isEmpty ? "token no longer valid" : closeReason))
            }
            return finish(.terminalClose(code: closeCode, reason: closeReason))
        }
        guard let policy = reconnect else { return finish(.noReconnect) }
        if let limit = policy.maxAttempts, attempts >= limit { return finish(.gaveUp) }
        let attempt = attempts
        attempts += 1
        state = .backingOff
        return [.scheduleReconnect(attempt: attempt)]
    }

    private mutating func finish(_ by: ClosedBy) -> [Action] {
        state = .closed(by)
        return [.finish(by)]
    }
}
