import LatticeProtocol
import NIOCore

/// The sessions' state on one event loop, touched only there: the one flush per session per
/// loop tick, and the live sessions by token (for access changes made while they are
/// connected). The hub's per-loop state is `HomeLoop`; the two share nothing.
final class SessionLoop {
    let loop: any EventLoop

    /// The live sessions on this loop by token id.
    private var liveSessions: [String: [ObjectIdentifier: SessionHandler]] = [:]
    private var dirty: [SessionHandler] = []
    private var flushScheduled = false

    init(loop: any EventLoop) {
        self.loop = loop
    }

    // MARK: live access changes

    func addLive(_ session: SessionHandler) {
        liveSessions[session.shared.tokenID, default: [:]][ObjectIdentifier(session)] = session
    }

    func removeLive(_ session: SessionHandler) {
        let token = session.shared.tokenID
        liveSessions[token]?.removeValue(forKey: ObjectIdentifier(session))
        if liveSessions[token]?.isEmpty == true { liveSessions.removeValue(forKey: token) }
    }

    /// Applies a membership change or revocation to this loop's sessions.
    func apply(_ change: AccessControl.LiveChange) {
        switch change {
        case .rolesChanged(let userID):
            for sessions in liveSessions.values {
                for session in sessions.values where session.shared.userID == userID { session.rolesChanged() }
            }
        case .tokenEnded(let tokenID, let reason):
            for session in liveSessions[tokenID].map({ Array($0.values) }) ?? [] { session.credentialEnded(reason: reason) }
        }
    }

    // MARK: flush coalescing

    /// `session` wrote something: flush it once, after the tasks already queued on this loop
    /// (a fan-out to many sessions on this loop costs one flush each, not one per event).
    func markDirty(_ session: SessionHandler) {
        guard !session.isDirty else { return }
        session.isDirty = true
        dirty.append(session)
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.assumeIsolated().execute { self.flushDirty() }
    }

    private func flushDirty() {
        flushScheduled = false
        let sessions = dirty
        dirty.removeAll(keepingCapacity: true)
        for session in sessions {
            session.isDirty = false
            session.flushNow()
        }
    }
}

/// One `SessionLoop` per event loop of the server, and the sink that brings live access
/// changes to each.
final class SessionLoops: Sendable {
    private let loops: [ObjectIdentifier: NIOLoopBound<SessionLoop>]

    private init(loops: [ObjectIdentifier: NIOLoopBound<SessionLoop>]) {
        self.loops = loops
    }

    /// A `SessionLoop` made on each of `loops`, each receiving `access`'s live changes.
    static func make(on loops: [any EventLoop], access: AccessControl) async throws -> SessionLoops {
        var bound: [ObjectIdentifier: NIOLoopBound<SessionLoop>] = [:]
        for loop in loops {
            let sessionLoop = try await loop.submit { NIOLoopBound(SessionLoop(loop: loop), eventLoop: loop) }.get()
            bound[ObjectIdentifier(loop)] = sessionLoop
            access.addSink { change in loop.execute { sessionLoop.value.apply(change) } }
        }
        return SessionLoops(loops: bound)
    }

    /// The `SessionLoop` of `loop` (call on that loop).
    func on(_ loop: any EventLoop) -> SessionLoop {
        guard let bound = loops[ObjectIdentifier(loop)] else {
            preconditionFailure("no SessionLoop for this event loop: SessionLoops.make was given other loops")
        }
        return bound.value
    }
}
