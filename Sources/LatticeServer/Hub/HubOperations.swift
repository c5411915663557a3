import LatticeProtocol
import LatticeStreams
import NIOCore

/// What a session asked its stream's home loop to do; each runs there, atomically.
extension LoopContext {
    /// Attaches `sub` (resuming from `since`) and answers with `ok`, `recovered` (with `since`),
    /// the backlog and the full presence,
    /// in one reply: no publish can fall in between, so backlog and live events meet exactly.
    func subscribe(_ name: StreamName, sub: SubscriberID, session: SessionRef, identity: Identity,
                   since: StreamPosition?, requestID: RequestID?, seq: UInt64) {
        let now = NIODeadline.now()
        let stream = self.stream(name)
        stream.lastActivity = now
        if since != nil { refreshStoreOldest(stream) }
        var frames: [ByteBuffer] = []
        let attachment: Attachment
        do {
            switch try stream.log.attach(sub, since: since, now: now) {
            case .attached(let attached):
                attachment = attached
            case .needsStore(let range):
                // Older than the memory tail: answer now, then replay from the store in steps.
                let since = since!  // only a resume reads history
                frames.append(Frames.ok(id: requestID, stream: name, epoch: stream.log.epoch, offset: stream.log.newestOffset))
                frames.append(Frames.recovered(stream: name, recovered: true, epoch: since.epoch, offset: since.offset))
                stream.catchingUp[sub] = session
                reply(session, seq: seq, SessionReply(frames: frames, activates: (name, sub)))
                return catchUp(name, sub: sub, session: session, after: range.lowerBound - 1)
            }
        } catch {
            let message: String
            switch error {
            case .tooManySubscribers(let limit): message = "stream '\(name)' has its maximum of \(limit) subscribers"
            case .alreadyAttached: message = "already subscribed to '\(name)'"
            }
            frames.append(Frames.error(ProtocolError(.internal, message, id: requestID, stream: name)))
            return reply(session, seq: seq, SessionReply(frames: frames, failed: (name, sub)))
        }
        frames.reserveCapacity(attachment.backlog.count + 3)
        frames.append(Frames.ok(id: requestID, stream: name, epoch: attachment.epoch, offset: attachment.liveFrom))
        if let since {
            let position = attachment.recovered ? since : attachment.position
            frames.append(Frames.recovered(stream: name, recovered: attachment.recovered, epoch: position.epoch, offset: position.offset))
        }
        for event in attachment.backlog { frames.append(event.payload) }
        // Subscribing does not join presence (a `presence.set` does): a stream watched by
        // thousands of monitors must not cost a diff to everyone per subscriber. Settle pending
        // diffs first so the full state and later diffs compose exactly for the newcomer.
        flushPresence(stream, now: now)
        frames.append(Frames.presence(stream: name, members: stream.presence.fullState(), names: stream.names))
        stream.subscribers[sub] = HubStream.Subscriber(session: session)
        reply(session, seq: seq, SessionReply(frames: frames, activates: (name, sub)))
    }

    /// Detaches `sub` and removes its presence; answers `ok` when `seq` is given.
    func unsubscribe(_ name: StreamName, sub: SubscriberID, session: SessionRef, requestID: RequestID?, seq: UInt64?) {
        if let stream = streams[name], stream.remove(sub) != nil {
            flushPresence(stream, now: .now())
        }
        if let seq { reply(session, seq: seq, SessionReply(frames: [Frames.ok(id: requestID)])) }
    }

    /// Assigns the next offset, encodes the event frame once and hands the same buffer to every
    /// subscriber, grouped by loop; answers `ok` with the epoch and offset.
    func publish(_ name: StreamName, data: RawJSON, key: String?, session: SessionRef, requestID: RequestID?, seq: UInt64) {
        let stream = self.stream(name)
        if stream.isDurable {
            return storeThenPublish(stream, data: data, key: key, session: session, requestID: requestID, seq: seq)
        }
        publishNow(stream, data: data, key: key, session: session, requestID: requestID, seq: seq)
    }

    /// Appends to the log (the next offset), encodes the frame once, fans it out and answers.
    func publishNow(_ stream: HubStream, data: RawJSON, key: String?, session: SessionRef, requestID: RequestID?, seq: UInt64) {
        let now = NIODeadline.now()
        stream.lastActivity = now
        let name = stream.name
        let epoch = stream.log.epoch
        let frame = Frames.event(stream: name, epoch: epoch, offset: stream.log.newestOffset + 1, data: data, key: key)
        var batches = [[Delivery]](repeating: [], count: loopCount)
        var closed: [SubscriberID] = []
        let event = stream.log.publish(frame, key: key, now: now) { sub, output in
            guard let subscriber = stream.subscribers[sub] else { return }
            if case .close = output { closed.append(sub) }
            batches[subscriber.session.loopIndex].append(Delivery(session: subscriber.session, sub: sub, item: .flow(output)))
        }
        hub.dispatch(batches, stream: name, epoch: epoch, from: index)
        reply(session, seq: seq, SessionReply(frames: [Frames.ok(id: requestID, epoch: epoch, offset: event.offset)]))
        if !closed.isEmpty {
            for sub in closed { stream.remove(sub) }
            flushPresence(stream, now: now)
        }
    }

    /// Replaces the connection's presence state (a copy, so the request's buffer is not kept).
    func presenceSet(_ name: StreamName, state: ByteBuffer, session: SessionRef, identity: Identity,
                     requestID: RequestID?, seq: UInt64) {
        let now = NIODeadline.now()
        let stream = self.stream(name)
        let frame: ByteBuffer
        switch stream.presence.set(conn: session.conn, identity: identity.id, kind: PresenceMemberKind(identity.kind.rawValue),
                                   state: state, now: now) {
        case .accepted:
            stream.names[identity.id] = identity.name
            frame = Frames.ok(id: requestID)
        case .tooManyMetas:
            frame = Frames.error(ProtocolError(.tooLarge, "the presence of '\(name)' is full", id: requestID, stream: name))
        case .identityMismatch:
            frame = Frames.error(ProtocolError(.forbidden, "this connection is present in '\(name)' under another identity", id: requestID, stream: name))
        }
        reply(session, seq: seq, SessionReply(frames: [frame]))
        flushPresence(stream, now: now)
    }

    /// The subscriber's socket is past its high-water mark.
    func pause(_ name: StreamName, sub: SubscriberID) {
        guard let stream = streams[name], let subscriber = stream.subscribers[sub], !subscriber.paused else { return }
        stream.log.pause(sub, now: .now())
        stream.subscribers[sub]?.paused = true
        stream.pausedCount += 1
    }

    /// The subscriber's socket drained: one drain step's outputs (plus a full presence if diffs
    /// were skipped), sent to the session; `more` asks it to call again once written.
    func drain(_ name: StreamName, sub: SubscriberID) {
        guard let stream = streams[name], stream.subscribers[sub] != nil else { return }
        deliverDrain(stream, sub: sub, stream.log.drain(sub, now: .now()))
    }

    /// Sends one drain step's outputs to the subscriber; a `.fetch` output reads the store first.
    func deliverDrain(_ stream: HubStream, sub: SubscriberID, _ result: FlowDrain, prefix: [Delivery.Item] = []) {
        let name = stream.name
        guard var subscriber = stream.subscribers[sub] else { return }
        var items: [Delivery.Item] = prefix
        if subscriber.presenceStale {
            items.append(.frame(Frames.presence(stream: name, members: stream.presence.fullState(), names: stream.names)))
            subscriber.presenceStale = false
        }
        var closed = false
        var fetch: ClosedRange<UInt64>?
        for output in result.outputs {
            if case .close = output { closed = true }
            if case .fetch(let range) = output { fetch = range; continue }
            items.append(.flow(output))
        }
        if let fetch {
            stream.subscribers[sub] = subscriber
            return fetchForDrain(stream, sub: sub, range: fetch, prefix: items)
        }
        if subscriber.paused, stream.log.flow(sub)?.isPaused != true {
            subscriber.paused = false
            stream.pausedCount -= 1
        }
        stream.subscribers[sub] = subscriber
        let epoch = stream.log.epoch
        let more = result.more
        let outputs = items
        hub.onSession(subscriber.session, from: index) { session in
            session.receiveDrain(stream: name, sub: sub, epoch: epoch, items: outputs, more: more)
        }
        if closed {
            stream.remove(sub)
            flushPresence(stream, now: .now())
        }
    }

    func reply(_ session: SessionRef, seq: UInt64, _ reply: SessionReply) {
        hub.onSession(session, from: index) { $0.receiveReply(seq: seq, reply) }
    }
}

/// The answer to one request, computed on the home loop, written in request order by the session.
struct SessionReply: Sendable {
    var frames: [ByteBuffer]
    /// A subscribe succeeded: the subscription goes live once these frames are written.
    var activates: (StreamName, SubscriberID)? = nil
    /// A subscribe failed: the session forgets the subscription.
    var failed: (StreamName, SubscriberID)? = nil
}
