import LatticeProtocol
import Testing
@testable import LatticeClient

/// The connection life of `LatticeSession`, alone, with time moved by hand.
@Suite("SessionConnectionStateMachine")
struct SessionConnectionStateMachineTests {
    typealias Machine = SessionConnectionStateMachine

    /// Connects and greets generation `g` at `now`.
    static func ready(_ machine: inout Machine, now: Duration = .zero) -> Int {
        let g: Int
        if case .backingOff = machine.state {
            guard case .open(let next)? = machine.backoffElapsed().first else { fatalError("no open after the backoff") }
            g = next
        } else {
            guard case .open(let first)? = machine.connect()?.first else { fatalError("no open") }
            g = first
        }
        _ = machine.opened(generation: g)
        _ = machine.welcomeReceived(generation: g, heartbeatSeconds: 30, now: now)
        return g
    }

    @Test("first connect: open, wait for welcome, ready with a heartbeat of half the server's interval")
    func firstConnect() {
        var m = Machine(reconnect: .standard)
        #expect(m.connect() == [.open(generation: 1)])
        #expect(m.connect() == nil, "a second connect() while connecting is refused")
        #expect(m.opened(generation: 1) == [.awaitWelcome(generation: 1)])
        #expect(m.welcomeReceived(generation: 1, heartbeatSeconds: 30, now: .seconds(1))
                == [.becomeReady(generation: 1, heartbeat: .seconds(15))])
        #expect(m.state == .ready(generation: 1, since: .seconds(1)))
        var quiet = Machine(reconnect: nil)
        _ = quiet.connect()
        _ = quiet.opened(generation: 1)
        #expect(quiet.welcomeReceived(generation: 1, heartbeatSeconds: 0, now: .zero) == [.becomeReady(generation: 1, heartbeat: nil)])
    }

    @Test("a first connect that fails (socket, end before welcome, welcome timeout) is thrown to the caller; connect() may be called again")
    func firstConnectFails() {
        var m = Machine(reconnect: .standard)
        _ = m.connect()
        #expect(m.openFailed(generation: 1, reason: "refused") == [.failConnect(reason: "refused")])
        #expect(m.state == .idle)
        #expect(m.connect() == [.open(generation: 2)])
        _ = m.opened(generation: 2)
        #expect(m.connectionEnded(generation: 2, reason: "eof", closeCode: nil, closeReason: "", now: .zero)
                == [.failConnect(reason: "connection ended before welcome: eof")])
        _ = m.connect()
        _ = m.opened(generation: 3)
        #expect(m.welcomeTimedOut(generation: 3)
                == [.closeSocket(generation: 3), .failConnect(reason: "no welcome within the connect timeout")])
        #expect(m.connectionEnded(generation: 3, reason: "closed", closeCode: nil, closeReason: "", now: .zero) == [],
                "the socket's end after the timeout is of an old attempt")
        #expect(m.state == .idle)
    }

    @Test("backoff: attempts count up while they fail, and start again after a connection that stayed up for stableAfter")
    func backoff() {
        let policy = ReconnectPolicy(stableAfter: .seconds(10))
        var m = Machine(reconnect: policy)
        let g1 = Self.ready(&m)
        #expect(m.connectionEnded(generation: g1, reason: "eof", closeCode: nil, closeReason: "", now: .seconds(20))
                == [.connectionLost(reason: "eof"), .scheduleReconnect(attempt: 0)])
        #expect(m.backoffElapsed() == [.open(generation: 2)])
        #expect(m.openFailed(generation: 2, reason: "refused") == [.attemptFailed(reason: "refused"), .scheduleReconnect(attempt: 1)])
        #expect(m.backoffElapsed() == [.open(generation: 3)])
        _ = m.opened(generation: 3)
        #expect(m.connectionEnded(generation: 3, reason: "eof", closeCode: nil, closeReason: "", now: .seconds(21))
                == [.attemptFailed(reason: "connection ended before welcome: eof"), .scheduleReconnect(attempt: 2)])
        // Up for 5 s only: the count goes on.
        let g4 = Self.ready(&m, now: .seconds(30))
        #expect(m.connectionEnded(generation: g4, reason: "eof", closeCode: nil, closeReason: "", now: .seconds(35)).last
                == .scheduleReconnect(attempt: 3))
        // Up for 10 s: it starts again.
        let g5 = Self.ready(&m, now: .seconds(40))
        #expect(m.connectionEnded(generation: g5, reason: "eof", closeCode: 1001, closeReason: "server shutting down", now: .seconds(50)).last
                == .scheduleReconnect(attempt: 0))
    }

    @Test("maxAttempts consecutive failures give up; no policy closes at the first end")
    func givingUp() {
        var m = Machine(reconnect: ReconnectPolicy(maxAttempts: 2))
        let g = Self.ready(&m)
        #expect(m.connectionEnded(generation: g, reason: "eof", closeCode: nil, closeReason: "", now: .zero).last == .scheduleReconnect(attempt: 0))
        _ = m.backoffElapsed()
        #expect(m.openFailed(generation: 2, reason: "refused").last == .scheduleReconnect(attempt: 1))
        _ = m.backoffElapsed()
        #expect(m.openFailed(generation: 3, reason: "refused") == [.attemptFailed(reason: "refused"), .finish(.gaveUp)])
        #expect(m.state == .closed(.gaveUp))
        var once = Machine(reconnect: nil)
        let h = Self.ready(&once)
        #expect(once.connectionEnded(generation: h, reason: "eof", closeCode: nil, closeReason: "", now: .zero)
                == [.connectionLost(reason: "eof"), .finish(.noReconnect)])
    }

    @Test("every close code of the table: terminal ones close the session (4003 as credentialEnded), the others reconnect",
          arguments: LatticeCloseCode.all + [LatticeCloseCode(rawValue: 1006), LatticeCloseCode(rawValue: 4999)])
    func closeCodes(code: LatticeCloseCode) {
        var m = Machine(reconnect: .standard)
        let g = Self.ready(&m)
        let actions = m.connectionEnded(generation: g, reason: "closed", closeCode: code.rawValue, closeReason: "why", now: .zero)
        #expect(actions.first == .connectionLost(reason: "closed"))
        switch code.advice {
        case .reconnect:
            #expect(actions.last == .scheduleReconnect(attempt: 0))
        case .terminal where code == .tokenRevoked:
            #expect(actions.last == .finish(.credentialEnded(reason: "why")))
        case .terminal:
            #expect(actions.last == .finish(.terminalClose(code: code.rawValue, reason: "why")))
        }
        // A terminal close while greeting a reconnect is final too.
        var again = Machine(reconnect: .standard)
        let first = Self.ready(&again)
        _ = again.connectionEnded(generation: first, reason: "eof", closeCode: nil, closeReason: "", now: .zero)
        _ = again.backoffElapsed()
        _ = again.opened(generation: 2)
        let ended = again.connectionEnded(generation: 2, reason: "closed", closeCode: code.rawValue, closeReason: "why", now: .zero)
        #expect((ended.last == .scheduleReconnect(attempt: 1)) == code.reconnects)
    }

    @Test("a refused credential fails the first connect with it, and ends the session at a reconnect instead of retrying")
    func refusedCredential() {
        var m = Machine(reconnect: .standard)
        _ = m.connect()
        #expect(m.credentialRefused(generation: 1, status: 401) == [.refuseCredential(status: 401)])
        #expect(m.state == .idle)
        let g = Self.ready(&m)
        _ = m.connectionEnded(generation: g, reason: "eof", closeCode: nil, closeReason: "", now: .zero)
        _ = m.backoffElapsed()
        let actions = m.credentialRefused(generation: g + 1, status: 401)
        #expect(actions == [.attemptFailed(reason: "the server refused the token (HTTP 401)"),
                            .finish(.credentialEnded(reason: "the token was refused at reconnect (HTTP 401)"))])
        #expect(m.state == .closed(.credentialEnded(reason: "the token was refused at reconnect (HTTP 401)")))
    }

    @Test("events of an older generation are ignored")
    func staleGenerations() {
        var m = Machine(reconnect: .standard)
        let g1 = Self.ready(&m)
        _ = m.connectionEnded(generation: g1, reason: "eof", closeCode: nil, closeReason: "", now: .zero)
        let g2 = Self.ready(&m)
        #expect(g2 == g1 + 1)
        #expect(m.connectionEnded(generation: g1, reason: "late", closeCode: nil, closeReason: "", now: .zero) == [])
        #expect(m.welcomeReceived(generation: g1, heartbeatSeconds: 30, now: .zero) == [])
        #expect(m.welcomeTimedOut(generation: g1) == [])
        #expect(m.opened(generation: g1) == [])
        #expect(m.openFailed(generation: g1, reason: "late") == [])
        #expect(m.state == .ready(generation: g2, since: .zero))
    }

    @Test("close() from every state ends the session once, closing an open socket; afterwards nothing happens")
    func closeFromEveryState() {
        let setups: [(String, (inout Machine) -> Int?)] = [
            ("idle", { _ in nil }),
            ("connecting", { m in _ = m.connect(); return 1 }),
            ("greeting", { m in _ = m.connect(); _ = m.opened(generation: 1); return 1 }),
            ("ready", { m in Self.ready(&m) }),
            ("backing off", { m in
                let g = Self.ready(&m)
                _ = m.connectionEnded(generation: g, reason: "eof", closeCode: nil, closeReason: "", now: .zero)
                return nil
            }),
        ]
        for (name, setup) in setups {
            var m = Machine(reconnect: .standard)
            let open = setup(&m)
            let actions = m.close()
            #expect(actions == (open.map { [.closeSocket(generation: $0)] } ?? []) + [.finish(.user)], "\(name)")
            #expect(m.close() == [], "\(name)")
            #expect(m.connect() == nil, "\(name)")
            #expect(m.backoffElapsed() == [], "\(name)")
            #expect(m.connectionEnded(generation: open ?? 1, reason: "eof", closeCode: nil, closeReason: "", now: .zero) == [], "\(name)")
        }
    }

    enum Event: CaseIterable, CustomStringConvertible {
        case connect, opened, openFailed, welcome, welcomeTimeout, ended, endedTerminal, endedStale, backoffElapsed, close, wait

        var description: String { "\(self)" }
    }

    @Test("every sequence of 5 events: generations only grow, nothing happens after the end, ready only after a welcome")
    func everySequence() {
        func sequences(_ n: Int) -> [[Event]] {
            n == 0 ? [[]] : sequences(n - 1).flatMap { p in Event.allCases.map { p + [$0] } }
        }
        for events in sequences(5) {
            var m = Machine(reconnect: ReconnectPolicy(stableAfter: .seconds(10), maxAttempts: 2))
            var now = Duration.zero
            var lastOpened = 0
            var finished = false
            var last = 0
            for event in events {
                let g = m.currentGeneration ?? last
                var actions: [Machine.Action] = []
                let wasGreeting = { if case .greeting = m.state { return true } else { return false } }()
                switch event {
                case .connect: actions = m.connect() ?? []
                case .opened: actions = m.opened(generation: g)
                case .openFailed: actions = m.openFailed(generation: g, reason: "x")
                case .welcome: actions = m.welcomeReceived(generation: g, heartbeatSeconds: 30, now: now)
                case .welcomeTimeout: actions = m.welcomeTimedOut(generation: g)
                case .ended: actions = m.connectionEnded(generation: g, reason: "x", closeCode: nil, closeReason: "", now: now)
                case .endedTerminal: actions = m.connectionEnded(generation: g, reason: "x", closeCode: 4003, closeReason: "", now: now)
                case .endedStale: actions = m.connectionEnded(generation: g - 1, reason: "x", closeCode: nil, closeReason: "", now: now)
                case .backoffElapsed: actions = m.backoffElapsed()
                case .close: actions = m.close()
                case .wait: now += .seconds(6)
                }
                if finished { #expect(actions.isEmpty, "after the end: \(events)") }
                for action in actions {
                    switch action {
                    case .open(let n):
                        #expect(n > lastOpened, "\(events)")
                        lastOpened = n
                        last = n
                    case .becomeReady:
                        #expect(wasGreeting, "ready without greeting: \(events)")
                        #expect(m.isReady && m.everConnected)
                    case .finish:
                        #expect(!finished, "finished twice: \(events)")
                        finished = true
                        #expect(m.isClosed)
                    case .scheduleReconnect(let attempt):
                        #expect(attempt < 2, "past maxAttempts: \(events)")
                        #expect(m.state == .backingOff)
                    case .failConnect, .refuseCredential:
                        #expect(m.state == .idle && !m.everConnected)
                    case .awaitWelcome, .connectionLost, .attemptFailed, .closeSocket:
                        break
                    }
                }
            }
        }
    }
}
