import LatticeProtocol
import LatticeStreams
import NIOCore

extension SessionHandler {
    /// Carries out one decoded request: the session's own checks here (subscription state,
    /// limits, authorization), the stream work on the stream's home loop.
    func handle(_ request: ClientRequest) {
        guard let ref else { return }
        defer { updateReading() }
        switch request {
        case .ping(let ping):
            answerNow(ServerFrames.ok(id: ping.id))

        case .subscribe(let subscribe):
            let name = subscribe.stream
            let id = subscribe.id
            if subscriptions[name] != nil {
                return answerNow(ProtocolError(.alreadySubscribed, "already subscribed to '\(name)'", id: id, stream: name))
            }
            if subscriptions.count >= limits.maxSubscriptions {
                return answerNow(ProtocolError(.tooManySubscriptions,
                                               "a connection may hold at most \(limits.maxSubscriptions) subscriptions", id: id, stream: name))
            }
            if let refused = refusal(.subscribe, name, id: id) { return answerNow(refused) }
            let sub = hub.makeSubscriberID()
            subscriptions[name] = Subscription(id: sub)
            let seq = replies.reserve()
            let since = subscribe.since
            hub.subscribe(name, sub: sub, ref: ref, since: since, snapshot: subscribe.snapshot, requestID: id, seq: seq)
            if !writable { hub.pause(name, sub: sub) }

        case .unsubscribe(let unsubscribe):
            let name = unsubscribe.stream
            let id = unsubscribe.id
            guard let subscription = subscriptions.removeValue(forKey: name) else {
                return answerNow(ProtocolError(.notSubscribed, "not subscribed to '\(name)'", id: id, stream: name))
            }
            let seq = replies.reserve()
            hub.unsubscribe(name, sub: subscription.id, ref: ref, requestID: id, seq: seq)

        case .publish(let publish):
            let name = publish.stream
            let id = publish.id
            guard name.isPublishable else {
                return answerNow(ProtocolError(.notPublishable,
                                               "only channel streams accept publish; '\(name)' is a \(name.kind.rawValue) stream", id: id, stream: name))
            }
            if let refused = refusal(.publish, name, id: id) { return answerNow(refused) }
            let seq = replies.reserve()
            hub.publish(name, data: publish.data, key: publish.key, ref: ref, requestID: id, seq: seq)

        case .presenceSet(let set):
            let name = set.stream
            let id = set.id
            guard subscriptions[name] != nil else {
                return answerNow(ProtocolError(.notSubscribed, "not subscribed to '\(name)'", id: id, stream: name))
            }
            let size = set.state.bytes.readableBytes
            guard size <= limits.maxPresenceStateBytes else {
                return answerNow(ProtocolError(.tooLarge, "field 'state' is \(size) bytes; the limit is \(limits.maxPresenceStateBytes)",
                                               id: id, stream: name))
            }
            if let refused = refusal(.presence, name, id: id) { return answerNow(refused) }
            // A copy: the table keeps the state, not the whole received message.
            var copy = ByteBuffer()
            copy.writeImmutableBuffer(set.state.bytes)
            let state = copy
            let seq = replies.reserve()
            hub.setPresence(name, state: state, ref: ref, identity: identity, requestID: id, seq: seq)

        case .runStart, .runCancel, .runApprove, .workerRegister, .taskProgress, .taskComplete, .taskFail:
            handleRunRequest(request)
        }
    }
}
