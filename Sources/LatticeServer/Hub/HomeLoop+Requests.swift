import LatticeProtocol
import LatticeStreams
import NIOCore

/// What subscribers and server components ask a stream's home loop to do; each runs there,
/// atomically.
extension HomeLoop {
    /// Attaches `sub` and answers in one reply: `ok`; then `recovered` (with `since`) and the
    /// backlog, or the `snapshot` (with `snapshot`, when the stream has a reducer); then the full
    /// presence. No publish can fall in between, so what the reply shows and the live events
    /// after it meet exactly: no gap, no duplicate.
    func subscribe(_ name: StreamName, sub: SubscriberID, ref: SubscriberRef, since: StreamPosition?, snapshot: Bool,
                   requestID: RequestID?, seq: UInt64) {
        let now = self.now
        let stream = self.stream(name)
        stream.lastActivity = now
        if snapshot, let reason = stream.reductionFailure {
            let error = ProtocolError(.internal, "no snapshot of '\(name)' can be built: \(reason)", id: requestID, stream: name)
            return reply(ref, seq: seq, HubReply(frames: [ServerFrames.error(error)], failed: (name, sub)))
        }
        if snapshot, let reduction = stream.reduction {
            if stream.isHydrating {
                stream.snapshotWaiters.append(HubStream.SnapshotWaiter(sub: sub, ref: ref, requestID: requestID, seq: seq))
                return
            }
            return subscribeWithSnapshot(stream, reduction, sub: sub, ref: ref, requestID: requestID, seq: seq)
        }
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
                frames.append(ServerFrames.ok(id: requestID, stream: name, epoch: stream.log.epoch, offset: stream.log.newestOffset))
                frames.append(ServerFrames.recovered(stream: name, recovered: true, epoch: since.epoch, offset: since.offset))
                stream.catchingUp[sub] = ref
                reply(ref, seq: seq, HubReply(frames: frames, activates: (name, sub)))
                return catchUp(name, sub: sub, ref: ref, after: range.lowerBound - 1)
            }
        } catch {
            return refuseAttach(stream, error, sub: sub, ref: ref, requestID: requestID, seq: seq)
        }
        frames.reserveCapacity(attachment.backlog.count + 3)
        frames.append(ServerFrames.ok(id: requestID, stream: name, epoch: attachment.epoch, offset: attachment.liveFrom))
        if let since {
            let position = attachment.recovered ? since : attachment.position
            frames.append(ServerFrames.recovered(stream: name, recovered: attachment.recovered, epoch: position.epoch, offset: position.offset))
        }
        for event in attachment.backlog { frames.append(event.payload) }
        appendPresence(stream, to: &frames, now: now)
        stream.subscribers[sub] = HubStream.Subscriber(ref: ref)
        reply(ref, seq: seq, HubReply(frames: frames, activates: (name, sub)))
    }

    /// `ok`, the reducer's snapshot at the newest offset, the presence; live from the next offset.
    func subscribeWithSnapshot(_ stream: HubStream, _ reduction: ReducerState, sub: SubscriberID, ref: SubscriberRef,
                               requestID: RequestID?, seq: UInt64) {
        let name = stream.name
        let now = self.now
        do {
            guard case .attached(let attachment) = try stream.log.attach(sub, since: nil, now: now) else {
                preconditionFailure("a subscribe without `since` never reads history")
            }
            let epoch = attachment.epoch
            var frames: [ByteBuffer] = []
            frames.append(ServerFrames.ok(id: requestID, stream: name, epoch: epoch, offset: attachment.liveFrom))
            frames.append(ServerFrames.snapshot(stream: name, epoch: epoch, offset: reduction.appliedThrough, data: reduction.snapshot()))
            appendPresence(stream, to: &frames, now: now)
            stream.subscribers[sub] = HubStream.Subscriber(ref: ref)
            reply(ref, seq: seq, HubReply(frames: frames, activates: (name, sub)))
        } catch {
            refuseAttach(stream, error, sub: sub, ref: ref, requestID: requestID, seq: seq)
        }
    }

    /// The full presence after the backlog. Subscribing does not join presence (a
    /// `presence.set` does): a stream watched by thousands of monitors must not cost a diff to
    /// everyone per subscriber. Pending diffs are settled first, so the full state and later
    /// diffs compose exactly for the newcomer.
    private func appendPresence(_ stream: HubStream, to frames: inout [ByteBuffer], now: NIODeadline) {
        flushPresence(stream, now: now)
        frames.append(ServerFrames.presence(stream: stream.name, members: stream.presence.fullState(), names: stream.names))
    }

    private func refuseAttach(_ stream: HubStream, _ error: StreamLogError, sub: SubscriberID, ref: SubscriberRef,
                              requestID: RequestID?, seq: UInt64) {
        let name = stream.name
        let code: ErrorCode, message: String
        switch error {
        case .tooManySubscribers(let limit): (code, message) = (.subscriberLimit, "stream '\(name)' has its maximum of \(limit) subscribers")
        case .alreadyAttached: (code, message) = (.internal, "already subscribed to '\(name)'")
        }
        reply(ref, seq: seq, HubReply(frames: [ServerFrames.error(ProtocolError(code, message, id: requestID, stream: name))],
                                      failed: (name, sub)))
    }

    /// Detaches `sub` and removes its presence; answers `ok` when `seq` is given.
    func unsubscribe(_ name: StreamName, sub: SubscriberID, ref: SubscriberRef, requestID: RequestID?, seq: UInt64?) {
        let now = self.now
        if let stream = streams[name] {
            stream.snapshotWaiters.removeAll { $0.sub == sub }
            if stream.remove(sub, now: now) != nil { flushPresence(stream, now: now) }
        }
        if let seq { reply(ref, seq: seq, HubReply(frames: [ServerFrames.ok(id: requestID)])) }
    }

    /// One publish, from a subscriber or from the server: a durable stream's event is stored
    /// first and published once committed; an ephemeral one is published at once.
    /// `attachment`: the write committed with the event (`StreamHub.append`); only on durable streams.
    func publish(_ name: StreamName, data: RawJSON, key: String?, attachment: (any DurableAppendAttachment)? = nil,
                 origin: PublishOrigin) {
        let stream = self.stream(name)
        if stream.isDurable {
            return storeThenPublish(stream, data: data, key: key, attachment: attachment, origin: origin)
        }
        if attachment != nil {
            return answer(origin, .failure(.notStored("\(name) is not durable: an attachment is written only with a durable stream's event")), stream: name)
        }
        publishNow(stream, data: data, key: key, origin: origin)
    }

    /// Appends to the log (the next offset), applies the event to the reducer, encodes the frame
    /// once, fans it out (the same buffer to every subscriber, grouped by loop) and answers.
    func publishNow(_ stream: HubStream, data: RawJSON, key: String?, origin: PublishOrigin) {
        let now = self.now
        stream.lastActivity = now
        let name = stream.name
        let epoch = stream.log.epoch
        let offset = stream.log.newestOffset + 1
        let frame = ServerFrames.event(stream: name, epoch: epoch, offset: offset, data: data, key: key)
        var batches = [[Delivery]](repeating: [], count: loopCount)
        var closed: [SubscriberID] = []
        let event = stream.log.publish(frame, key: key, now: now) { sub, output in
            guard let subscriber = stream.subscribers[sub] else { return }
            if case .close = output { closed.append(sub) }
            batches[subscriber.ref.loopIndex].append(Delivery(subscriber: subscriber.ref, sub: sub, item: .flow(output)))
        }
        // While it is being rebuilt from the store, the reducer skips this; the rebuild reads it.
        stream.reduction?.apply(ReducerEvent(offset: event.offset, data: data, key: key))
        hub.dispatch(batches, stream: name, epoch: epoch, from: index)
        answer(origin, .success(StreamPosition(epoch: epoch, offset: event.offset)), stream: name)
        if !closed.isEmpty {
            for sub in closed { stream.remove(sub, now: now) }
            flushPresence(stream, now: now)
        }
    }

    /// Answers a publish: an `ok` (epoch, offset) or `error` frame in the subscriber's reply
    /// slot, or the server's callback.
    func answer(_ origin: PublishOrigin, _ result: Result<StreamPosition, StreamAppendError>, stream: StreamName) {
        switch origin {
        case .server(let done):
            done(result)
        case .request(let ref, let seq, let id):
            let frame: ByteBuffer
            switch result {
            case .success(let position):
                frame = ServerFrames.ok(id: id, epoch: position.epoch, offset: position.offset)
            case .failure(.notStored(let why)):
                frame = ServerFrames.error(ProtocolError(.internal, "the event was not stored (\(why)); it was not published",
                                                         id: id, stream: stream))
            }
            reply(ref, seq: seq, HubReply(frames: [frame]))
        }
    }

    /// Replaces the connection's presence state (a copy, so the request's buffer is not kept).
    func presenceSet(_ name: StreamName, state: ByteBuffer, ref: SubscriberRef, identity: Identity,
                     requestID: RequestID?, seq: UInt64) {
        let now = self.now
        let stream = self.stream(name)
        let frame: ByteBuffer
        switch stream.presence.set(conn: ref.conn, identity: identity.id, kind: identity.kind,
                                   state: state, now: now) {
        case .accepted:
            stream.names[identity.id] = identity.name
            frame = ServerFrames.ok(id: requestID)
        case .tooManyMetas:
            frame = ServerFrames.error(ProtocolError(.tooLarge, "the presence of '\(name)' is full", id: requestID, stream: name))
        case .identityMismatch:
            frame = ServerFrames.error(ProtocolError(.forbidden, "this connection is present in '\(name)' under another identity",
                                                     id: requestID, stream: name))
        }
        reply(ref, seq: seq, HubReply(frames: [frame]))
        flushPresence(stream, now: now)
    }

    /// The subscriber's socket is past its high-water mark.
    func pause(_ name: StreamName, sub: SubscriberID) {
        guard let stream = streams[name], let subscriber = stream.subscribers[sub], !subscriber.paused else { return }
        stream.log.pause(sub, now: now)
        stream.subscribers[sub]?.paused = true
        stream.pausedCount += 1
    }

    /// The subscriber's socket drained: one drain step's outputs (plus a full presence if diffs
    /// were skipped), sent to the subscriber; `more` asks it to call again once written.
    func drain(_ name: StreamName, sub: SubscriberID) {
        guard let stream = streams[name], stream.subscribers[sub] != nil else { return }
        deliverDrain(stream, sub: sub, stream.log.drain(sub, now: now))
    }

    /// Sends one drain step's outputs to the subscriber; a `.fetch` output reads the store first.
    func deliverDrain(_ stream: HubStream, sub: SubscriberID, _ result: FlowDrain, prefix: [Delivery.Item] = []) {
        let name = stream.name
        guard var subscriber = stream.subscribers[sub] else { return }
        var items: [Delivery.Item] = prefix
        if subscriber.presenceStale {
            items.append(.frame(ServerFrames.presence(stream: name, members: stream.presence.fullState(), names: stream.names)))
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
        hub.onSubscriber(subscriber.ref, from: index) { $0.hubDrained(stream: name, sub: sub, epoch: epoch, items: outputs, more: more) }
        if closed {
            let now = self.now
            stream.remove(sub, now: now)
            flushPresence(stream, now: now)
        }
    }
}
