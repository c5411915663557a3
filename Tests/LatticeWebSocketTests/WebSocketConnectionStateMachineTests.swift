import NIOCore
import Testing

@testable import LatticeWebSocket

/// A clock the tests move by hand.
struct TestClock {
    private(set) var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    mutating func advance(_ amount: TimeAmount) { now = now + amount }
}

typealias Machine = WebSocketConnectionStateMachine

/// Every `WebSocketProtocolError` case, by whether it leaves the byte stream out of sync.
let desynchronisingErrors: [WebSocketProtocolError] = [
    .reservedBitsSet, .unknownOpcode(3), .controlFrameFragmented, .controlFrameTooLong(126), .maskRequired,
    .maskForbidden, .nonMinimalLength, .lengthHighBitSet, .frameTooLarge(1 << 30), .compressedControlFrame,
]
let inSyncErrors: [WebSocketProtocolError] = [
    .messageTooLarge, .unexpectedContinuation, .expectedContinuation, .compressedContinuation, .invalidUTF8,
    .invalidCloseCode(1005), .closePayloadTooShort, .invalidCompressedData,
]


@Suite("WebSocketConnectionStateMachine")
struct WebSocketConnectionStateMachineTests {
    static let interval = TimeAmount.seconds(30)
    static let closeTimeout = TimeAmount.seconds(5)

    func machine(_ role: WebSocketFrameParser.Role = .server, keepalive: Bool = true) -> Machine {
        Machine(role: role, pingInterval: keepalive ? Self.interval : nil, closeTimeout: Self.closeTimeout)
    }

    // MARK: keepalive

    @Test func theFirstTickPingsWhenNothingWasHeard() {
        var clock = TestClock()
        var m = machine()
        // The handler ticks every interval from the start, so the first tick comes after an
        // interval in which nothing was heard.
        clock.advance(Self.interval)
        #expect(m.keepaliveTick(now: clock.now) == .sendPing)
        #expect(m.state == .open(.init(lastHeard: nil, pingSent: clock.now)))
    }

    @Test func noPingWhileThePeerSpokeWithinTheInterval() {
        var clock = TestClock()
        var m = machine()
        clock.advance(.seconds(10))
        let heard = clock.now
        let parsed = m.bytesReceived(now: heard)
        #expect(parsed)
        clock.advance(.seconds(20))
        #expect(m.keepaliveTick(now: clock.now) == .none, "heard 20 s ago")
        clock.advance(.seconds(10) - .nanoseconds(1))
        #expect(m.keepaliveTick(now: clock.now) == .none, "heard just under 30 s ago")
        clock.advance(.nanoseconds(1))
        #expect(m.keepaliveTick(now: clock.now) == .sendPing, "30 s of silence")
        #expect(m.state == .open(.init(lastHeard: heard, pingSent: clock.now)))
    }

    @Test func anUnansweredPingClosesTheChannelAnIntervalLater() {
        var clock = TestClock()
        var m = machine()
        clock.advance(Self.interval)
        #expect(m.keepaliveTick(now: clock.now) == .sendPing)
        clock.advance(Self.interval - .nanoseconds(1))
        #expect(m.keepaliveTick(now: clock.now) == .none, "the ping is not an interval old yet")
        #expect(m.acceptsWrites)
        clock.advance(.nanoseconds(1))
        #expect(m.keepaliveTick(now: clock.now) == .closeChannel)
        #expect(m.state == .closed(tcpDeadline: nil))
        #expect(!m.acceptsWrites)
        clock.advance(Self.interval)
        #expect(m.keepaliveTick(now: clock.now) == .none, "closed: no more keepalive")
    }

    @Test func anUnansweredPingSendsTheTimeoutCloseWhenConfiguredAndClosesAtOnce() {
        var clock = TestClock()
        var m = Machine(role: .server, pingInterval: Self.interval, closeTimeout: Self.closeTimeout,
                        timeoutClose: (code: WebSocketCloseCode(rawValue: 4002), reason: "heartbeat_timeout"))
        clock.advance(Self.interval)
        #expect(m.keepaliveTick(now: clock.now) == .sendPing)
        clock.advance(Self.interval - .nanoseconds(1))
        #expect(m.keepaliveTick(now: clock.now) == .none)
        clock.advance(.nanoseconds(1))
        #expect(m.keepaliveTick(now: clock.now)
                == .sendClose(code: WebSocketCloseCode(rawValue: 4002), reason: "heartbeat_timeout", then: .closeNow))
        #expect(m.state == .closed(tcpDeadline: nil), "no closing handshake with a silent peer")
        #expect(!m.acceptsWrites)
        let late = m.closeTimeoutFired(now: clock.now + Self.closeTimeout)
        #expect(late == .none, "no close timer either")
        clock.advance(Self.interval)
        #expect(m.keepaliveTick(now: clock.now) == .none, "closed: no more keepalive")
    }

    @Test func anAnsweredPingNeverSendsTheTimeoutClose() {
        var clock = TestClock()
        var m = Machine(role: .server, pingInterval: Self.interval, closeTimeout: Self.closeTimeout,
                        timeoutClose: (code: WebSocketCloseCode(rawValue: 4002), reason: "heartbeat_timeout"))
        for _ in 0..<10 {
            clock.advance(Self.interval)
            #expect(m.keepaliveTick(now: clock.now) == .sendPing)
            clock.advance(Self.interval - .nanoseconds(1))
            let parsed = m.bytesReceived(now: clock.now)
            #expect(parsed)
        }
        #expect(m.acceptsWrites)
    }

    @Test func anyBytesAnswerThePing() {
        var clock = TestClock()
        var m = machine()
        clock.advance(Self.interval)
        #expect(m.keepaliveTick(now: clock.now) == .sendPing)
        clock.advance(.seconds(29))
        let parsed = m.bytesReceived(now: clock.now)
        #expect(parsed, "a data frame, not a pong, still proves the peer is there")
        #expect(m.state == .open(.init(lastHeard: clock.now, pingSent: nil)))
        clock.advance(.seconds(1))
        #expect(m.keepaliveTick(now: clock.now) == .none)
        clock.advance(Self.interval)
        #expect(m.keepaliveTick(now: clock.now) == .sendPing, "silent again for an interval: a new ping")
    }

    @Test func noKeepaliveWhenDisabled() {
        var clock = TestClock()
        var m = machine(keepalive: false)
        for _ in 0..<5 {
            clock.advance(.seconds(3600))
            #expect(m.keepaliveTick(now: clock.now) == .none)
        }
        #expect(m.state == .open(.init()))
    }

    @Test func noKeepaliveOnceClosingStarted() {
        var clock = TestClock()
        var m = machine()
        _ = m.closeRequested(code: .goingAway, reason: "", now: clock.now)
        clock.advance(Self.interval)
        #expect(m.keepaliveTick(now: clock.now) == .none)
        clock.advance(Self.interval)
        #expect(m.keepaliveTick(now: clock.now) == .none, "no ping and no keepalive close while closing")
        #expect(m.state == .closing(deadline: TestClock().now + Self.closeTimeout))
    }

    // MARK: frames by state

    @Test(arguments: [WebSocketFrameParser.Role.server, .client])
    func framesWhileOpen(role: WebSocketFrameParser.Role) {
        var m = machine(role)
        #expect(m.frameReceived(.ping) == .sendPong)
        #expect(m.frameReceived(.pong) == .deliver)
        #expect(m.frameReceived(.data) == .deliver)
        #expect(m.state == .open(.init()), "frames alone do not change the state")
    }

    @Test(arguments: [WebSocketFrameParser.Role.server, .client])
    func framesWhileClosingAreReadAndDropped(role: WebSocketFrameParser.Role) {
        let clock = TestClock()
        var m = machine(role)
        _ = m.closeRequested(code: .normalClosure, reason: "bye", now: clock.now)
        let parsed = m.bytesReceived(now: clock.now)
        #expect(parsed, "bytes after our close are still parsed, to find the peer's close")
        #expect(m.frameReceived(.ping) == .none, "no pong after our close frame")
        #expect(m.frameReceived(.data) == .none, "data after our close frame is dropped (§5.5.1)")
        #expect(m.frameReceived(.pong) == .deliver)
    }

    @Test func nothingIsReadOnceClosed() {
        let clock = TestClock()
        var m = machine()
        _ = m.closeReceived(code: .normalClosure, now: clock.now)
        let parsed = m.bytesReceived(now: clock.now)
        #expect(!parsed)
        #expect(m.frameReceived(.ping) == .none)
        #expect(m.frameReceived(.data) == .none)
        #expect(m.state == .closed(tcpDeadline: nil))
    }

    // MARK: the peer closes first

    @Test func serverEchoesThePeersCloseAndEndsTCP() {
        let clock = TestClock()
        var m = machine(.server)
        #expect(m.closeReceived(code: .goingAway, now: clock.now)
                == .sendClose(code: .goingAway, reason: "", then: .closeChannel))
        #expect(m.state == .closed(tcpDeadline: nil))
        #expect(!m.acceptsWrites)
        #expect(m.closeReceived(code: .normalClosure, now: clock.now) == .none, "a second close frame changes nothing")
    }

    @Test func closeWithoutCodeIsEchoedWithoutCode() {
        var m = machine(.server)
        #expect(m.closeReceived(code: nil, now: TestClock().now) == .sendClose(code: nil, reason: "", then: .closeChannel))
    }

    @Test func clientEchoesAndWaitsForTheServerToEndTCP() {
        var clock = TestClock()
        var m = machine(.client)
        let deadline = clock.now + Self.closeTimeout
        #expect(m.closeReceived(code: .normalClosure, now: clock.now)
                == .sendClose(code: .normalClosure, reason: "", then: .closeAt(deadline: deadline)))
        #expect(m.state == .closed(tcpDeadline: deadline))
        clock.advance(Self.closeTimeout - .nanoseconds(1))
        #expect(m.closeTimeoutFired(now: clock.now) == .none, "early: keep waiting")
        clock.advance(.nanoseconds(1))
        #expect(m.closeTimeoutFired(now: clock.now) == .closeChannel, "the server never ended TCP")
        #expect(m.state == .closed(tcpDeadline: nil))
        #expect(m.closeTimeoutFired(now: clock.now) == .none)
    }

    // MARK: we close first

    @Test func localCloseSendsCloseAndWaitsForTheAnswer() {
        var clock = TestClock()
        var m = machine(.server)
        let deadline = clock.now + Self.closeTimeout
        #expect(m.closeRequested(code: .goingAway, reason: "server shutting down", now: clock.now)
                == .sendClose(code: .goingAway, reason: "server shutting down", then: .closeAt(deadline: deadline)))
        #expect(m.state == .closing(deadline: deadline))
        #expect(!m.acceptsWrites)
        #expect(m.closeRequested(code: .normalClosure, reason: "", now: clock.now) == .failWrite,
                "one close frame per connection")
        clock.advance(.seconds(1))
        #expect(m.closeTimeoutFired(now: clock.now) == .none)
    }

    @Test func serverEndsTCPWhenThePeerAnswersItsClose() {
        let clock = TestClock()
        var m = machine(.server)
        _ = m.closeRequested(code: .goingAway, reason: "", now: clock.now)
        #expect(m.closeReceived(code: .goingAway, now: clock.now) == .closeChannel)
        #expect(m.state == .closed(tcpDeadline: nil))
    }

    @Test func clientWaitsForTCPUntilTheDeadlineOfItsClose() {
        var clock = TestClock()
        var m = machine(.client)
        let deadline = clock.now + Self.closeTimeout
        _ = m.closeRequested(code: .normalClosure, reason: "", now: clock.now)
        clock.advance(.seconds(2))
        #expect(m.closeReceived(code: .normalClosure, now: clock.now) == .none, "the server ends TCP")
        #expect(m.state == .closed(tcpDeadline: deadline), "the deadline is the one set when we sent our close")
        clock.advance(.seconds(3))
        #expect(m.closeTimeoutFired(now: clock.now) == .closeChannel)
    }

    @Test(arguments: [WebSocketFrameParser.Role.server, .client])
    func closeTimesOutWithoutAnAnswer(role: WebSocketFrameParser.Role) {
        var clock = TestClock()
        var m = machine(role)
        _ = m.closeRequested(code: .goingAway, reason: "", now: clock.now)
        clock.advance(Self.closeTimeout)
        #expect(m.closeTimeoutFired(now: clock.now) == .closeChannel)
        #expect(m.state == .closed(tcpDeadline: nil))
        #expect(m.closeReceived(code: .goingAway, now: clock.now) == .none, "a late answer changes nothing")
    }

    // MARK: protocol errors

    @Test func theErrorListsSortEveryCaseBySync() {
        #expect(desynchronisingErrors.allSatisfy { $0.desynchronisesStream })
        #expect(inSyncErrors.allSatisfy { !$0.desynchronisesStream })
        #expect(Set((desynchronisingErrors + inSyncErrors).map(\.description)).count == 18,
                "every WebSocketProtocolError case once")
    }

    @Test(arguments: desynchronisingErrors)
    func anErrorThatLosesSyncClosesOnceTheCloseFrameIsWritten(error: WebSocketProtocolError) {
        for role in [WebSocketFrameParser.Role.server, .client] {
            var m = machine(role)
            #expect(m.protocolError(error, inCloseFrame: false, now: TestClock().now)
                    == .sendClose(code: error.closeCode, reason: error.description, then: .closeChannel))
            #expect(m.state == .closed(tcpDeadline: nil))
        }
    }

    @Test(arguments: inSyncErrors)
    func anErrorInSyncWaitsForThePeersClose(error: WebSocketProtocolError) {
        for role in [WebSocketFrameParser.Role.server, .client] {
            let clock = TestClock()
            var m = machine(role)
            let deadline = clock.now + Self.closeTimeout
            #expect(m.protocolError(error, inCloseFrame: false, now: clock.now)
                    == .sendClose(code: error.closeCode, reason: error.description, then: .closeAt(deadline: deadline)))
            #expect(m.state == .closing(deadline: deadline))
        }
    }

    @Test(arguments: [WebSocketProtocolError.invalidCloseCode(999), .closePayloadTooShort, .invalidUTF8])
    func anInvalidCloseFrameIsAnsweredAndTCPEnds(error: WebSocketProtocolError) {
        var m = machine(.client)
        #expect(m.protocolError(error, inCloseFrame: true, now: TestClock().now)
                == .sendClose(code: error.closeCode, reason: error.description, then: .closeChannel),
                "the peer already sent its close: nothing left to wait for")
        #expect(m.state == .closed(tcpDeadline: nil))
    }

    @Test(arguments: desynchronisingErrors + inSyncErrors)
    func anyErrorWhileClosingEndsTCP(error: WebSocketProtocolError) {
        var m = machine()
        _ = m.closeRequested(code: .goingAway, reason: "", now: TestClock().now)
        #expect(m.protocolError(error, inCloseFrame: false, now: TestClock().now) == .closeChannel)
        #expect(m.state == .closed(tcpDeadline: nil))
    }

    @Test func onceClosedOnlyALossOfSyncEndsTCPEarly() {
        let clock = TestClock()
        for error in desynchronisingErrors + inSyncErrors {
            var m = machine(.client)
            _ = m.closeReceived(code: .normalClosure, now: clock.now)
            let expected: Machine.Action = error.desynchronisesStream ? .closeChannel : .none
            #expect(m.protocolError(error, inCloseFrame: false, now: clock.now) == expected, "\(error)")
        }
    }

    // MARK: the channel

    @Test func channelFailureAndInactivityClose() {
        let clock = TestClock()
        var failed = machine()
        #expect(failed.channelFailed() == .closeChannel)
        #expect(failed.isClosed)
        var inactive = machine(.client)
        _ = inactive.closeRequested(code: .normalClosure, reason: "", now: clock.now)
        inactive.channelInactive()
        #expect(inactive.state == .closed(tcpDeadline: nil))
        #expect(inactive.closeTimeoutFired(now: clock.now + Self.closeTimeout) == .none, "TCP already ended")
    }

    // MARK: every sequence of events

    enum Event: CaseIterable {
        case bytes, ping, pong, data, close, closeWithoutCode, errorInSync, errorOutOfSync, errorInCloseFrame,
             localClose, tick, closeTimeout, failed, inactive
    }

    /// Feeds every sequence of up to four events (each a few seconds after the last) to both roles
    /// (enough to reach every state and try every event in it) and checks what must hold whatever the order: at most one close frame is sent; nothing is
    /// sent and nothing delivered but pongs after the connection is closed; writes stop as soon
    /// as our close frame is decided; a channel closed is closed for good.
    @Test(arguments: [WebSocketFrameParser.Role.server, .client])
    func invariantsHoldOverEverySequence(role: WebSocketFrameParser.Role) {
        let events = Event.allCases
        let length = 4
        let count = (0..<length).reduce(1) { total, _ in total * events.count }
        var checked = 0
        for number in 0..<count {
            // The digits of `number` in base `events.count`: every sequence of `length` events once
            // (and so every shorter one, as a prefix).
            var rest = number
            let sequence = (0..<length).map { _ in
                defer { rest /= events.count }
                return events[rest % events.count]
            }
            var clock = TestClock()
            var m = machine(role)
            var closeFrames = 0
            var channelClosed = false
            func fail(_ what: String) { Issue.record("\(what), in \(role) \(sequence)") }
            for event in sequence {
                let wasClosed = m.isClosed
                let action: Machine.Action
                if event == .bytes {
                    if m.bytesReceived(now: clock.now) == wasClosed { fail("bytes parsed while closed, or dropped while not") }
                    action = .none
                } else {
                    action = apply(event, to: &m, now: clock.now)
                }
                if case .sendClose(_, _, let then) = action {
                    closeFrames += 1
                    if m.acceptsWrites { fail("writes accepted after our close frame") }
                    if then == .closeChannel { channelClosed = true }
                }
                if wasClosed {
                    switch action {
                    case .none, .closeChannel, .failWrite: break
                    case .deliver where event == .pong: break
                    default: fail("\(action) after closing")
                    }
                }
                if action == .closeChannel || event == .failed || event == .inactive { channelClosed = true }
                if channelClosed && m.state != .closed(tcpDeadline: nil) { fail("state \(m.state) after the channel closed") }
                clock.advance(.seconds(4))
                checked += 1
            }
            if closeFrames > 1 { fail("\(closeFrames) close frames") }
        }
        #expect(checked == 4 * 38_416)
    }

    func apply(_ event: Event, to m: inout Machine, now: NIODeadline) -> Machine.Action {
        switch event {
        case .bytes: preconditionFailure("checked by the caller")
        case .ping: return m.frameReceived(.ping)
        case .pong: return m.frameReceived(.pong)
        case .data: return m.frameReceived(.data)
        case .close: return m.closeReceived(code: .normalClosure, now: now)
        case .closeWithoutCode: return m.closeReceived(code: nil, now: now)
        case .errorInSync: return m.protocolError(.invalidUTF8, inCloseFrame: false, now: now)
        case .errorOutOfSync: return m.protocolError(.maskRequired, inCloseFrame: false, now: now)
        case .errorInCloseFrame: return m.protocolError(.invalidCloseCode(1005), inCloseFrame: true, now: now)
        case .localClose: return m.closeRequested(code: .goingAway, reason: "", now: now)
        case .tick: return m.keepaliveTick(now: now + Self.interval)
        case .closeTimeout: return m.closeTimeoutFired(now: now + Self.closeTimeout)
        case .failed: return m.channelFailed()
        case .inactive:
            m.channelInactive()
            return .none
        }
    }
}
