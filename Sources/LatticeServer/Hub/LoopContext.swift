import LatticeProtocol
import LatticeStreams
import NIOCore

/// Per event loop state, touched only on that loop: the streams whose home it is, and the
/// sessions on it that have unflushed writes.
final class LoopContext {
    let index: Int
    let loop: any EventLoop
    let loopCount: Int
    private(set) var hub: StreamHub!
    var streams: [StreamName: HubStream] = [:]
    private var stallTask: RepeatedTask?
    private var sweepTask: RepeatedTask?

    /// The live sessions on this loop by token id, for live access changes.
    private var liveSessions: [String: [ObjectIdentifier: SessionHandler]] = [:]

    // Session side: one flush per session per loop tick.
    private var dirty: [SessionHandler] = []
    private var flushScheduled = false

    init(index: Int, loop: any EventLoop, loopCount: Int) {
        self.index = index
        self.loop = loop
        self.loopCount = loopCount
    }

    func start(hub: StreamHub) {
        self.hub = hub
        let interval = hub.settings.stallCheckInterval
        let bound = NIOLoopBound(self, eventLoop: loop)
        stallTask = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            bound.value.checkStalls()
        }
        let sweep = hub.settings.idleSweepInterval
        sweepTask = loop.scheduleRepeatedTask(initialDelay: sweep, delay: sweep) { _ in
            bound.value.unloadIdleStreams(now: .now())
        }
    }

    // MARK: live access changes (session side)

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

    // MARK: flush coalescing (session side)

    /// `session` wrote something: flush it once, after the tasks already queued on this loop.
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

    // MARK: streams (home side)

    func stream(_ name: StreamName) -> HubStream {
        if let stream = streams[name] { return stream }
        let durable = hub.isDurable(name)
        var policy = hub.settings.policy(for: name)
        if durable { policy = hub.settings.policy(for: name, class: .durable) }
        let stream = HubStream(name: name, policy: policy, presence: hub.settings.presence,
                               head: durable ? hub.durable?.store.head(of: name.name) : nil)
        streams[name] = stream
        return stream
    }

    /// Closes subscribers paused longer than their class allows.
    private func checkStalls() {
        let now = NIODeadline.now()
        for stream in streams.values where stream.pausedCount > 0 {
            var batches = [[Delivery]](repeating: [], count: loopCount)
            var closed: [SubscriberID] = []
            stream.log.checkStalls(now: now) { sub, output in
                guard let subscriber = stream.subscribers[sub] else { return }
                batches[subscriber.session.loopIndex].append(Delivery(session: subscriber.session, sub: sub, item: .flow(output)))
                closed.append(sub)
            }
            for sub in closed { stream.remove(sub) }
            hub.dispatch(batches, stream: stream.name, epoch: stream.log.epoch, from: index)
            if !closed.isEmpty { flushPresence(stream, now: now) }
        }
    }

    // MARK: presence

    /// Sends the due presence diff to every subscriber (skipping paused ones, which get a full
    /// state when they drain) and schedules the next flush.
    func flushPresence(_ stream: HubStream, now: NIODeadline) {
        if let diff = stream.presence.flush(now: now) {
            var leaves: [PresenceMember] = []
            for identity in diff.leaves {
                leaves.append(stream.publishedMembers.removeValue(forKey: identity)
                              ?? PresenceMember(identity: identity, kind: .user, metas: []))
            }
            for member in diff.joins { stream.publishedMembers[member.identity] = member }
            for member in diff.updates { stream.publishedMembers[member.identity] = member }
            let frame = Frames.presenceDiff(stream: stream.name, joins: diff.joins, leaves: leaves, updates: diff.updates, names: stream.names)
            for identity in diff.leaves { stream.names.removeValue(forKey: identity) }
            var batches = [[Delivery]](repeating: [], count: loopCount)
            for (sub, subscriber) in stream.subscribers {
                if subscriber.paused {
                    stream.subscribers[sub]?.presenceStale = true
                } else {
                    batches[subscriber.session.loopIndex].append(Delivery(session: subscriber.session, sub: sub, item: .frame(frame)))
                }
            }
            hub.dispatch(batches, stream: stream.name, epoch: stream.log.epoch, from: index)
        }
        if let next = stream.presence.nextFlush, stream.presenceTimer == nil {
            stream.presenceTimer = loop.assumeIsolated().scheduleTask(deadline: max(next, now)) {
                stream.presenceTimer = nil
                self.flushPresence(stream, now: .now())
            }
        }
    }
}
