import LatticeProtocol
import LatticeStreams
import NIOCore

/// The hub's state on one event loop, touched only there: the streams whose home this loop is
/// (log, presence, subscribers, reducer state), with their timers — stall checks, presence
/// flushes, the idle sweep. Sessions have their own per-loop state (`SessionLoop`).
final class HomeLoop {
    let index: Int
    let loop: any EventLoop
    let loopCount: Int
    private(set) var hub: StreamHub!
    var streams: [StreamName: HubStream] = [:]
    private var stallTask: RepeatedTask?
    private var sweepTask: RepeatedTask?

    init(index: Int, loop: any EventLoop, loopCount: Int) {
        self.index = index
        self.loop = loop
        self.loopCount = loopCount
    }

    /// The hub's clock (`HubSettings.clock`): every time the hub compares is read here.
    var now: NIODeadline { hub.settings.clock() }

    func start(hub: StreamHub) {
        self.hub = hub
        let interval = hub.settings.stallCheckInterval
        let bound = NIOLoopBound(self, eventLoop: loop)
        stallTask = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            bound.value.checkStalls()
        }
        let sweep = hub.settings.idleSweepInterval
        sweepTask = loop.scheduleRepeatedTask(initialDelay: sweep, delay: sweep) { _ in
            bound.value.unloadIdleStreams(now: bound.value.now)
        }
    }

    /// Cancels this loop's timers (the hub is stopping).
    func stop() {
        stallTask?.cancel()
        sweepTask?.cancel()
        for stream in streams.values { stream.presenceTimer?.cancel() }
    }

    /// The stream, loaded at its first use: a durable one resumes where its store stands, and a
    /// stream with a reducer starts rebuilding its state (`hydrate`).
    func stream(_ name: StreamName) -> HubStream {
        if let stream = streams[name] { return stream }
        let durable = hub.isDurable(name)
        let policy = hub.settings.policy(for: name, class: hub.streamClass(of: name))
        let stream = HubStream(name: name, policy: policy, presence: hub.settings.presence,
                               head: durable ? hub.durable?.store.head(of: name.name) : nil, now: now)
        streams[name] = stream
        if let reducer = hub.settings.reducers[name.kind] {
            stream.reduction = ReducerState(reducer, stream: name)
            if stream.log.newestOffset > 0 { hydrate(stream) }
        }
        return stream
    }

    /// Closes subscribers paused longer than their class allows.
    private func checkStalls() {
        let now = self.now
        for stream in streams.values where stream.pausedCount > 0 {
            var batches = [[Delivery]](repeating: [], count: loopCount)
            var closed: [SubscriberID] = []
            stream.log.checkStalls(now: now) { sub, output in
                guard let subscriber = stream.subscribers[sub] else { return }
                batches[subscriber.ref.loopIndex].append(Delivery(subscriber: subscriber.ref, sub: sub, item: .flow(output)))
                closed.append(sub)
            }
            for sub in closed { stream.remove(sub, now: now) }
            hub.dispatch(batches, stream: stream.name, epoch: stream.log.epoch, from: index)
            if !closed.isEmpty { flushPresence(stream, now: now) }
        }
    }

    // MARK: presence

    /// Sends the due presence diff to every subscriber (skipping paused ones, which get a full
    /// state when they drain) and schedules the next flush.
    func flushPresence(_ stream: HubStream, now: NIODeadline) {
        if let diff = stream.presence.flush(now: now) {
            var leaves: [PresenceRecord] = []
            for identity in diff.leaves {
                leaves.append(stream.publishedMembers.removeValue(forKey: identity)
                              ?? PresenceRecord(identity: identity, kind: .user, metas: []))
            }
            for member in diff.joins { stream.publishedMembers[member.identity] = member }
            for member in diff.updates { stream.publishedMembers[member.identity] = member }
            let frame = ServerFrames.presenceDiff(stream: stream.name, joins: diff.joins, leaves: leaves, updates: diff.updates,
                                                  names: stream.names)
            for identity in diff.leaves { stream.names.removeValue(forKey: identity) }
            var batches = [[Delivery]](repeating: [], count: loopCount)
            for (sub, subscriber) in stream.subscribers {
                if subscriber.paused {
                    stream.subscribers[sub]?.presenceStale = true
                } else {
                    batches[subscriber.ref.loopIndex].append(Delivery(subscriber: subscriber.ref, sub: sub, item: .frame(frame)))
                }
            }
            hub.dispatch(batches, stream: stream.name, epoch: stream.log.epoch, from: index)
        }
        if let next = stream.presence.nextFlush, stream.presenceTimer == nil {
            stream.presenceTimer = loop.assumeIsolated().scheduleTask(in: max(.zero, next - now)) {
                stream.presenceTimer = nil
                self.flushPresence(stream, now: self.now)
            }
        }
    }

    /// Sends a reply to a subscriber (on its loop).
    func reply(_ ref: SubscriberRef, seq: UInt64, _ reply: HubReply) {
        hub.onSubscriber(ref, from: index) { $0.hubReply(seq: seq, reply) }
    }
}
