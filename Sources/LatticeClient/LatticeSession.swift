public import NIOCore
public import NIOHTTP1
public import NIOPosix
public import LatticeProtocol
import LatticeWebSocket

/// Why a `LatticeSession` call failed.
public enum LatticeClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server answered `error` (`code` is the protocol's stable code), or ended a subscription (`unsubscribed`).
    case server(code: ErrorCode, message: String, stream: String?)
    /// The request failed the protocol's own checks before anything was sent (a malformed
    /// stream name, data that is not one JSON value): what the server would have answered.
    case refused(ProtocolError)
    /// No answer within the request timeout.
    case timeout
    /// The request was sent but the connection ended before its answer: it may or may not have taken effect.
    case connectionLost
    /// The session is closed (by `close()`, or it gave up reconnecting).
    case closed
    /// The connection or the `welcome` could not be established.
    case connectFailed(String)
    /// The server refused the credential at the handshake (HTTP `status`: 401, or 403 for a
    /// refused origin): no token, or one that is unknown, revoked or expired.
    case credentialRefused(status: UInt)
    /// A local check failed before anything was sent (e.g. a second `subscribe` to one stream).
    case invalid(String)

    /// The protocol's error code, if the server (or the protocol's checks) refused the request.
    public var code: ErrorCode? {
        switch self {
        case .server(let code, _, _): code
        case .refused(let error): error.code
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .server(let code, let message, let stream):
            return "\(code): \(message)" + (stream.map { " (stream \($0))" } ?? "")
        case .refused(let error): return "\(error)"
        case .timeout: return "timeout: no answer from the server in time"
        case .connectionLost: return "connection_lost: the connection ended before the answer"
        case .closed: return "closed: the session is closed"
        case .connectFailed(let why): return "connect_failed: \(why)"
        case .credentialRefused(let status):
            return "credential_refused: the server refused the token (HTTP \(status)); `lattice admin token create` makes a new one"
        case .invalid(let why): return "invalid: \(why)"
        }
    }
}

/// What a subscription delivers, in order.
public enum SubscriptionEvent: Sendable, Hashable {
    /// One event; never a duplicate of an earlier one of the same epoch.
    case event(ServerMessage.Event)
    /// A resume (after a reconnect, or a `subscribe(since:)`) was gapless: the missed events follow.
    case resumed(StreamPosition)
    /// A resume was not gapless (`recovered: false`): history was lost. Refetch the resource's
    /// state; live events follow from after this position (the stream's current epoch and last offset).
    case reset(StreamPosition)
    /// The full presence of the stream (after every subscribe, including resubscribes).
    case presence([ServerMessage.Member])
    /// A presence change; apply it to the last full state (the session also keeps it: `presence(of:)`).
    case presenceDiff(ServerMessage.PresenceDiff)
    /// The subscription ended because of this error (the stream finishes right after).
    case failed(LatticeClientError)
}

/// A live subscription: where it started and its events.
public struct LatticeSubscription: Sendable {
    public let stream: String
    /// The stream's epoch and last offset when the subscription was made (from the `ok`).
    public let start: StreamPosition?
    public let events: AsyncStream<SubscriptionEvent>
}

/// Connection states a session reports on `statusUpdates`.
public enum LatticeSessionStatus: Sendable, Hashable {
    case connected(session: String)
    case disconnected(reason: String)
    case reconnecting(attempt: Int, delay: Duration)
    /// Reconnecting stopped (`maxAttempts` reached); the session is closed.
    case gaveUp
    /// The server closed the connection with 4003: the token no longer authenticates (revoked,
    /// expired, deleted; `reason` says which). Reconnecting with it would be refused, so the
    /// session is closed.
    case credentialEnded(reason: String)
    /// The server closed the connection with a code its table marks terminal (other than 4003,
    /// e.g. 1002 for a framing violation): the session is closed instead of reconnecting.
    case terminalClose(code: UInt16, reason: String)
    case closed
}

public struct LatticeSessionOptions: Sendable {
    /// The credential (`lat_…`), sent as `Authorization: Bearer` at the handshake; the server
    /// answers 401 without a valid one.
    public var token: String?
    public var requestTimeout: Duration
    /// For TCP connect, the WebSocket handshake and the `welcome`, together.
    public var connectTimeout: Duration
    /// nil: no reconnect; the session closes when its connection ends.
    public var reconnect: ReconnectPolicy?
    public var headers: HTTPHeaders
    public var group: any EventLoopGroup

    public init(token: String? = nil, requestTimeout: Duration = .seconds(10), connectTimeout: Duration = .seconds(10),
                reconnect: ReconnectPolicy? = .standard, headers: HTTPHeaders = [:],
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.token = token
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.reconnect = reconnect
        self.headers = headers
        self.group = group
    }
}

/// A `lattice.v1` client session: one WebSocket connection at a time, requests correlated
/// to their `ok`/`error` by id, subscriptions with per-stream event streams and presence,
/// and automatic reconnect (exponential backoff, full jitter) that resumes every
/// subscription from its last `{epoch, offset}` and re-sends its presence state.
///
/// All state lives in this actor; the connection's reader task hands each message to it
/// in arrival order.
public actor LatticeSession {
    public nonisolated let url: WebSocketURL
    public nonisolated let options: LatticeSessionOptions
    /// Connection changes (connected, disconnected, reconnecting…); keeps the newest 64 if unread.
    public nonisolated let statusUpdates: AsyncStream<LatticeSessionStatus>
    private nonisolated let statusContinuation: AsyncStream<LatticeSessionStatus>.Continuation

    /// The last `welcome` received.
    public private(set) var welcome: ServerMessage.Welcome?

    /// What the server sends this session as a bot worker (`task.assign`, `task.cancel`), in
    /// order, after `registerWorker`. Unbounded: a worker reads it as it works.
    public nonisolated let workerMessages: AsyncStream<WorkerMessage>
    private nonisolated let workerContinuation: AsyncStream<WorkerMessage>.Continuation
    /// Sent again after every reconnect (the server forgets a worker with its connection).
    private var workerRegistration: ClientRequest.WorkerRegister?

    private enum Waiter {
        case user(CheckedContinuation<ServerMessage.OK, any Error>)
        /// A resubscribe or presence re-send after a reconnect: the answer is handled here.
        case resubscribe(stream: String)
        case internalRequest
    }

    private struct Pending {
        /// The request, with its id.
        var request: ClientRequest
        var sent: Bool
        var waiter: Waiter
        /// Set for `subscribe` requests: confirms the subscription on `ok`.
        var subscribeStream: String?
        var timeout: Task<Void, Never>?
    }

    private struct Subscription {
        var continuation: AsyncStream<SubscriptionEvent>.Continuation
        /// The last event's position (or the subscribe `ok`'s, or a reset's).
        var position: StreamPosition?
        /// The server has answered `ok`: it is resubscribed after a reconnect.
        var confirmed = false
        var presenceState: RawJSON?
        var members: [String: ServerMessage.Member] = [:]
    }

    /// The connection life (connecting, greeting, ready, backing off, closed); every change of
    /// it goes through `perform`.
    private var machine: SessionConnectionStateMachine
    /// The open connection and its generation.
    private var connection: WebSocketConnection?
    private var connectionGeneration = 0
    /// The caller of `connect()`, until the first connection is greeted or fails.
    private var connectWaiter: CheckedContinuation<ServerMessage.Welcome, any Error>?
    private var nextID = 1
    private var pending: [Int: Pending] = [:]
    private var subscriptions: [String: Subscription] = [:]
    private var welcomeTimer: Task<Void, Never>?
    private var reconnectTask: Task<Void, Never>?
    private var heartbeatTask: Task<Void, Never>?
    /// The machine's time: elapsed on the continuous clock since the session was made.
    private let origin = ContinuousClock.now
    private var now: Duration { ContinuousClock.now - origin }
    private var closed: Bool { machine.isClosed }
    private var ready: Bool { machine.isReady }

    public init(url: WebSocketURL, options: LatticeSessionOptions = LatticeSessionOptions()) {
        var options = options
        if let token = options.token {
            options.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
        }
        self.url = url
        self.options = options
        self.machine = SessionConnectionStateMachine(reconnect: options.reconnect)
        (statusUpdates, statusContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(64))
        (workerMessages, workerContinuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Connects and waits for `welcome`. Call once; later connections are made by the reconnect logic.
    @discardableResult
    public func connect() async throws -> ServerMessage.Welcome {
        guard !closed else { throw LatticeClientError.closed }
        guard connectWaiter == nil, !machine.everConnected, let actions = machine.connect() else {
            throw LatticeClientError.invalid("connect() was already called")
        }
        return try await withCheckedThrowingContinuation { continuation in
            connectWaiter = continuation
            perform(actions)
        }
    }

    /// Ends the session: a normal close, every pending request fails with `.closed`, every subscription stream finishes.
    public func close() async {
        guard !closed else { return }
        let conn = connection
        connection = nil
        perform(machine.close())
        if let conn {
            conn.channel.writeAndFlush(WebSocketOutbound.close(.normalClosure, reason: ""), promise: nil)
            // Wait for the closing handshake, a bounded time.
            let channel = conn.channel
            let timer = channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
            try? await channel.closeFuture.get()
            timer.cancel()
        }
    }

    /// Drops the TCP connection abruptly (no close frame), as a network failure would; the
    /// session then reconnects and resumes by its policy. For tests and fault drills.
    public func dropConnection() {
        connection?.channel.close(promise: nil)
    }

    /// True while a connection is up and greeted.
    public var isConnected: Bool { ready }

    // MARK: requests

    /// Sends `request` with the next id (any id it has is replaced) and returns the `ok`, or
    /// throws `.server(code:…)` for an `error`, `.timeout`, `.connectionLost`, `.closed`.
    /// While reconnecting, the request waits (within its timeout) and is sent on the next connection.
    public func request(_ request: ClientRequest) async throws -> ServerMessage.OK {
        try await send(request, subscribeStream: nil)
    }

    public func ping() async throws {
        _ = try await request(.ping(.init()))
    }

    /// Publishes `data` (one JSON value, as text: sent verbatim) and returns its position.
    @discardableResult
    public func publish(_ stream: String, data: String, key: String? = nil) async throws -> StreamPosition {
        let name = try Self.streamName(stream)
        guard let value = RawJSON(validating: data) else {
            throw LatticeClientError.refused(ProtocolError(.badJSON, "data is not one JSON value", stream: name))
        }
        let ok = try await request(.publish(.init(stream: name, data: value, key: key)))
        guard let position = ok.position else {
            throw LatticeClientError.server(code: .internal, message: "publish ok without epoch/offset", stream: stream)
        }
        return position
    }

    /// Subscribes to `stream`; with `since`, resumes after that position (a `.resumed` or
    /// `.reset` event comes first). The events stream finishes on `unsubscribe`, `close`, or failure.
    public func subscribe(_ stream: String, since: StreamPosition? = nil) async throws -> LatticeSubscription {
        guard !closed else { throw LatticeClientError.closed }
        let name = try Self.streamName(stream)
        guard subscriptions[stream] == nil else {
            throw LatticeClientError.invalid("already subscribed to \(stream) in this session")
        }
        let (events, continuation) = AsyncStream.makeStream(of: SubscriptionEvent.self, bufferingPolicy: .unbounded)
        subscriptions[stream] = Subscription(continuation: continuation, position: since)
        do {
            let ok = try await send(.subscribe(.init(stream: name, since: since)), subscribeStream: stream)
            return LatticeSubscription(stream: stream, start: ok.position, events: events)
        } catch {
            if let sub = subscriptions[stream], !sub.confirmed {
                subscriptions[stream] = nil
                sub.continuation.finish()
            }
            throw error
        }
    }

    /// Ends a subscription; its events stream finishes.
    public func unsubscribe(_ stream: String) async throws {
        guard subscriptions[stream] != nil else {
            throw LatticeClientError.invalid("not subscribed to \(stream) in this session")
        }
        do {
            _ = try await request(.unsubscribe(.init(stream: try Self.streamName(stream))))
        } catch LatticeClientError.connectionLost {
            // The connection is gone, and the server's subscription with it.
        }
        subscriptions.removeValue(forKey: stream)?.continuation.finish()
    }

    /// Sets this connection's presence state in `stream` (a JSON object, as text). It is sent
    /// again after every reconnect.
    public func setPresence(_ stream: String, state: String) async throws {
        guard subscriptions[stream] != nil else {
            throw LatticeClientError.invalid("not subscribed to \(stream) in this session")
        }
        let name = try Self.streamName(stream)
        guard let value = RawJSON(validating: state), value.isObject else {
            throw LatticeClientError.refused(ProtocolError(.wrongType, "field 'state' must be a JSON object", stream: name))
        }
        _ = try await request(.presenceSet(.init(stream: name, state: value)))
        subscriptions[stream]?.presenceState = value
    }

    /// The stream's presence as last reported (full state plus diffs), sorted by member id.
    public func presence(of stream: String) -> [ServerMessage.Member] {
        (subscriptions[stream]?.members.values).map { $0.sorted { $0.identity.id < $1.identity.id } } ?? []
    }

    /// The position of the last event delivered on `stream` (what a resume would start from).
    public func position(of stream: String) -> StreamPosition? {
        subscriptions[stream]?.position
    }

    // MARK: internals: sending

    /// `stream` as a valid name, or `.refused(invalid_stream)`.
    private static func streamName(_ stream: String) throws(LatticeClientError) -> StreamName {
        switch StreamName.parse(stream) {
        case .success(let name): return name
        case .failure(let error): throw .refused(error)
        }
    }

    private func send(_ request: ClientRequest, subscribeStream: String?) async throws -> ServerMessage.OK {
        guard !closed else { throw LatticeClientError.closed }
        let id = nextID
        nextID += 1
        let request = request.with(id: RequestID(id))
        let timeout = options.requestTimeout
        return try await withCheckedThrowingContinuation { continuation in
            var entry = Pending(request: request, sent: false, waiter: .user(continuation), subscribeStream: subscribeStream)
            entry.timeout = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                await self?.expire(id)
            }
            pending[id] = entry
            if ready { transmit(id) }
        }
    }

    /// Sends a request whose answer the session handles itself (resubscribe, presence re-send).
    private func sendInternal(_ request: ClientRequest, waiter: Waiter, subscribeStream: String?) {
        let id = nextID
        nextID += 1
        pending[id] = Pending(request: request.with(id: RequestID(id)), sent: false, waiter: waiter, subscribeStream: subscribeStream)
        transmit(id)
    }

    /// Subscribes again from the last position and re-sends the presence state (after a
    /// reconnect, or when the server ended the subscription with `reconfigured`).
    private func resubscribe(_ stream: String, _ sub: Subscription) {
        guard let name = try? Self.streamName(stream) else { return }
        sendInternal(.subscribe(.init(stream: name, since: sub.position)), waiter: .resubscribe(stream: stream), subscribeStream: stream)
        if let state = sub.presenceState {
            sendInternal(.presenceSet(.init(stream: name, state: state)), waiter: .internalRequest, subscribeStream: nil)
        }
    }

    private func transmit(_ id: Int) {
        guard let conn = connection, var entry = pending[id], !entry.sent else { return }
        entry.sent = true
        pending[id] = entry
        conn.channel.writeAndFlush(WebSocketOutbound.message(WebSocketMessage(kind: .text, data: entry.request.encoded)), promise: nil)
    }

    private func expire(_ id: Int) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        if case .user(let c) = entry.waiter { c.resume(throwing: LatticeClientError.timeout) }
    }

    private func finish(_ id: Int, with result: Result<ServerMessage.OK, LatticeClientError>) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        entry.timeout?.cancel()
        if let stream = entry.subscribeStream, case .success(let ok) = result, var sub = subscriptions[stream] {
            sub.confirmed = true
            if sub.position == nil { sub.position = ok.position }
            subscriptions[stream] = sub
        }
        switch entry.waiter {
        case .user(let c):
            c.resume(with: result.mapError { $0 as any Error })
        case .resubscribe(let stream):
            if case .failure(let error) = result, error != .connectionLost,
               let sub = subscriptions.removeValue(forKey: stream) {
                sub.continuation.yield(.failed(error))
                sub.continuation.finish()
            }
        case .internalRequest:
            break
        }
    }

    /// Fails pending requests: those already sent (their outcome is unknown), and the unsent ones too if asked.
    private func failAll(_ error: LatticeClientError, includingUnsent: Bool) {
        for id in pending.keys.sorted() where includingUnsent || pending[id]?.sent == true {
            finish(id, with: .failure(error))
        }
    }

    // MARK: internals: connections


    /// Carries out what the connection state machine decided.
    private func perform(_ actions: [SessionConnectionStateMachine.Action]) {
        for action in actions {
            switch action {
            case .open(let gen):
                open(generation: gen)
            case .awaitWelcome(let gen):
                let timeout = options.connectTimeout
                welcomeTimer = Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    await self?.welcomeTimedOut(generation: gen)
                }
            case .failConnect(let reason):
                connectWaiter?.resume(throwing: LatticeClientError.connectFailed(reason))
                connectWaiter = nil
            case .refuseCredential(let status):
                connectWaiter?.resume(throwing: LatticeClientError.credentialRefused(status: status))
                connectWaiter = nil
            case .becomeReady(let gen, let heartbeat):
                welcomeTimer?.cancel()
                becomeReady(generation: gen, heartbeat: heartbeat)
            case .connectionLost(let reason):
                heartbeatTask?.cancel()
                failAll(.connectionLost, includingUnsent: false)
                statusContinuation.yield(.disconnected(reason: reason))
            case .attemptFailed(let reason):
                statusContinuation.yield(.disconnected(reason: reason))
            case .scheduleReconnect(let attempt):
                let delay = options.reconnect?.delay(attempt: attempt) ?? .zero
                statusContinuation.yield(.reconnecting(attempt: attempt + 1, delay: delay))
                reconnectTask = Task { [weak self] in
                    try? await Task.sleep(for: delay)
                    guard !Task.isCancelled else { return }
                    await self?.backoffElapsed()
                }
            case .closeSocket(let gen):
                // A user's close() writes its close frame itself (and waits for the answer).
                if gen == connectionGeneration, let conn = connection {
                    connection = nil
                    conn.channel.close(promise: nil)
                }
            case .finish(let by):
                finish(by)
            }
        }
    }

    /// Opens the connection of generation `gen`; its reader hands every message, then its end, to the session.
    private func open(generation gen: Int) {
        let connectTimeout = TimeAmount.nanoseconds(ReconnectPolicy.nanoseconds(options.connectTimeout))
        let wsOptions = WebSocketClientOptions(headers: options.headers, subprotocols: ["lattice.v1"], connectTimeout: connectTimeout)
        let url = self.url, group = options.group
        Task { [weak self] in
            let conn: WebSocketConnection
            do {
                conn = try await WebSocketClient.connect(to: url, options: wsOptions, on: group)
            } catch WebSocketClientHandshakeError.rejected(let status, _) where status == 401 || status == 403 {
                await self?.credentialRefused(generation: gen, status: status)
                return
            } catch {
                await self?.openFailed(generation: gen, reason: "\(url): \(Self.describe(error))")
                return
            }
            guard let self, await self.opened(conn, generation: gen) else {
                conn.channel.close(promise: nil)
                return
            }
            do {
                for try await message in conn.messages {
                    await self.received(message, generation: gen)
                }
                await self.connectionEnded(generation: gen, reason: "connection closed" + (conn.closeCode.map { " (code \($0))" } ?? ""),
                                           closeCode: conn.closeCode, closeReason: conn.closeReason)
            } catch {
                await self.connectionEnded(generation: gen, reason: "\(error)")
            }
        }
    }

    /// False when the connection is no longer wanted (the session closed meanwhile).
    private func opened(_ conn: WebSocketConnection, generation gen: Int) -> Bool {
        let actions = machine.opened(generation: gen)
        guard !actions.isEmpty else { return false }
        connection = conn
        connectionGeneration = gen
        perform(actions)
        return true
    }

    private func credentialRefused(generation gen: Int, status: UInt) {
        perform(machine.credentialRefused(generation: gen, status: status))
    }

    /// A connect failure in words, without NIO's internals (`connect(descriptor:addr:size:)`).
    nonisolated static func describe(_ error: any Error) -> String {
        if let error = error as? WebSocketClientHandshakeError {
            switch error {
            case .rejected(let status, _): return "the server answered HTTP \(status) instead of upgrading"
            case .connectionClosed: return "the server closed the connection during the handshake"
            default: return "the server's handshake answer was not valid (\(error))"
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "timed out connecting" }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first?.error { return describe(first) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "the host name did not resolve" }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused (is the server running?)"
            case ETIMEDOUT: return "timed out connecting"
            case ENETUNREACH, EHOSTUNREACH: return "no route to the host"
            default: return String(cString: strerror(error.errnoCode))
            }
        }
        return String(describing: error)
    }

    private func openFailed(generation gen: Int, reason: String) {
        perform(machine.openFailed(generation: gen, reason: reason))
    }

    private func backoffElapsed() {
        perform(machine.backoffElapsed())
    }

    /// Greeted: report it, resubscribe every confirmed subscription from its last position,
    /// re-send presence, then send what waited.
    private func becomeReady(generation gen: Int, heartbeat: Duration?) {
        guard let welcome else { return }
        statusContinuation.yield(.connected(session: welcome.session))
        startHeartbeat(every: heartbeat, generation: gen)
        for stream in subscriptions.keys.sorted() {
            guard let sub = subscriptions[stream], sub.confirmed else { continue }
            resubscribe(stream, sub)
        }
        if let registration = workerRegistration {
            sendInternal(.workerRegister(registration), waiter: .internalRequest, subscribeStream: nil)
        }
        for id in pending.keys.sorted() { transmit(id) }
        connectWaiter?.resume(returning: welcome)
        connectWaiter = nil
    }

    private func welcomeTimedOut(generation gen: Int) {
        perform(machine.welcomeTimedOut(generation: gen))
    }

    private func startHeartbeat(every interval: Duration?, generation gen: Int) {
        heartbeatTask?.cancel()
        guard let interval else { return }
        heartbeatTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, let self else { return }
                await self.sendHeartbeat(generation: gen)
            }
        }
    }

    private func sendHeartbeat(generation gen: Int) {
        guard gen == connectionGeneration, ready, let conn = connection else { return }
        conn.channel.writeAndFlush(WebSocketOutbound.ping(ByteBuffer()), promise: nil)
    }

    private func received(_ message: WebSocketMessage, generation gen: Int) {
        // A message this client cannot read is dropped, like one of an unknown type.
        guard gen == connectionGeneration, connection != nil, message.kind == .text,
              case .success(let decoded) = ServerMessage.decode(message.data) else { return }
        switch decoded {
        case .welcome(let welcome):
            let actions = machine.welcomeReceived(generation: gen, heartbeatSeconds: welcome.heartbeatSeconds, now: now)
            if !actions.isEmpty { self.welcome = welcome }
            perform(actions)
        case .ok(let ok):
            if let id = ok.id.flatMap(Self.sessionID) { finish(id, with: .success(ok)) }
        case .error(let error):
            if let id = error.id.flatMap(Self.sessionID) {
                finish(id, with: .failure(.server(code: error.code, message: error.message, stream: error.stream?.name)))
            }
        case .event(let event):
            let stream = event.stream.name
            guard var sub = subscriptions[stream] else { return }
            if let p = sub.position, p.epoch == event.epoch, event.offset <= p.offset { return }  // already seen
            sub.position = event.position
            subscriptions[stream] = sub
            sub.continuation.yield(.event(event))
        case .recovered(let recovered):
            let stream = recovered.stream.name
            guard var sub = subscriptions[stream] else { return }
            let position = recovered.position
            if recovered.recovered {
                sub.continuation.yield(.resumed(position))
            } else {
                sub.position = position
                subscriptions[stream] = sub
                sub.continuation.yield(.reset(position))
            }
        case .presence(let presence):
            let stream = presence.stream.name
            guard var sub = subscriptions[stream] else { return }
            sub.members = Dictionary(presence.members.map { ($0.identity.id, $0) }, uniquingKeysWith: { _, b in b })
            subscriptions[stream] = sub
            sub.continuation.yield(.presence(presence.members))
        case .presenceDiff(let diff):
            let stream = diff.stream.name
            guard var sub = subscriptions[stream] else { return }
            diff.apply(to: &sub.members)
            subscriptions[stream] = sub
            sub.continuation.yield(.presenceDiff(diff))
        case .unsubscribed(let ended):
            let stream = ended.stream.name
            guard let sub = subscriptions[stream] else { return }
            if ended.code == .reconfigured {
                // The stream changed class on the server: subscribe again from the last position;
                // the answer (`recovered: false`, a new epoch) reaches the subscription as `.reset`.
                resubscribe(stream, sub)
            } else {
                subscriptions.removeValue(forKey: stream)
                sub.continuation.yield(.failed(.server(code: ended.code, message: ended.message, stream: stream)))
                sub.continuation.finish()
            }
        case .taskAssign(let assign):
            workerContinuation.yield(.assign(assign))
        case .taskCancel(let cancel):
            workerContinuation.yield(.cancel(cancel))
        case .snapshot, .unknown:
            break
        }
    }

    /// The session's own request ids are integers.
    private static func sessionID(_ id: RequestID) -> Int? {
        id.isString ? nil : Int(id.raw.text)
    }

    private func connectionEnded(generation gen: Int, reason: String,
                                 closeCode: WebSocketCloseCode? = nil, closeReason: String = "") {
        guard gen == connectionGeneration, connection != nil else { return }
        connection = nil
        perform(machine.connectionEnded(generation: gen, reason: reason, closeCode: closeCode?.rawValue,
                                        closeReason: closeReason, now: now))
    }

    /// The session is over: every request fails with `.closed`, every subscription finishes
    /// (with `.failed(.closed)` unless the user closed it), and the last status is reported.
    private func finish(_ by: SessionConnectionStateMachine.ClosedBy) {
        reconnectTask?.cancel()
        heartbeatTask?.cancel()
        welcomeTimer?.cancel()
        connectWaiter?.resume(throwing: LatticeClientError.closed)
        connectWaiter = nil
        failAll(.closed, includingUnsent: true)
        for (_, sub) in subscriptions {
            if by != .user { sub.continuation.yield(.failed(.closed)) }
            sub.continuation.finish()
        }
        subscriptions.removeAll()
        let status: LatticeSessionStatus
        switch by {
        case .user, .noReconnect: status = .closed
        case .gaveUp: status = .gaveUp
        case .credentialEnded(let reason): status = .credentialEnded(reason: reason)
        case .terminalClose(let code, let reason): status = .terminalClose(code: code, reason: reason)
        }
        statusContinuation.yield(status)
        statusContinuation.finish()
        workerContinuation.finish()
    }

    /// Registers this session as a bot worker (docs/protocol.md, "Runs and workers"); it is
    /// registered again after every reconnect. Tasks arrive on `workerMessages`.
    public func registerWorker(workspace: String, capabilities: [String], concurrency: Int = 1) async throws {
        let registration = ClientRequest.WorkerRegister(workspace: workspace, capabilities: capabilities, concurrency: concurrency)
        _ = try await request(.workerRegister(registration))
        workerRegistration = registration
    }
}
