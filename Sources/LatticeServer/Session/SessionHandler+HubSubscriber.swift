import LatticeProtocol
import LatticeStreams
import LatticeWebSocket
import NIOCore

/// What the hub hands a session, on the session's loop.
extension SessionHandler: HubSubscriber {
    /// An answer computed on a home loop: written once every earlier answer is.
    func hubReply(seq: UInt64, _ reply: HubReply) {
        replies.fill(seq, reply)
        while let ready = replies.popReady() {
            for frame in ready.frames { write(.encodedFrames(frame)) }
            if let (name, sub) = ready.activates, var subscription = subscriptions[name], subscription.id == sub {
                for outbound in subscription.pending { write(outbound) }
                if subscription.endsOnActivation {
                    subscriptions.removeValue(forKey: name)
                } else {
                    subscription.pending = []
                    subscription.active = true
                    subscriptions[name] = subscription
                }
            }
            if let (name, sub) = ready.failed, subscriptions[name]?.id == sub {
                subscriptions.removeValue(forKey: name)
            }
        }
        markDirty()
        updateReading()
    }

    /// One fan-out delivery (event, gap notice, close, presence frame).
    func hubDeliver(_ item: Delivery.Item, stream: StreamName, sub: SubscriberID, epoch: StreamEpoch) {
        guard let outbound = Self.outbound(item, stream: stream, epoch: epoch) else { return }
        deliver(outbound, stream: stream, sub: sub)
    }

    /// One drain step's outputs; asks for the next step while the socket stays writable.
    func hubDrained(stream: StreamName, sub: SubscriberID, epoch: StreamEpoch, items: [Delivery.Item], more: Bool) {
        for item in items {
            if let outbound = Self.outbound(item, stream: stream, epoch: epoch) { deliver(outbound, stream: stream, sub: sub) }
        }
        if more, subscriptions[stream]?.id == sub, isOpen, writable {
            hub.drain(stream, sub: sub)
        }
    }

    func deliver(_ outbound: WebSocketOutbound, stream: StreamName, sub: SubscriberID) {
        guard var subscription = subscriptions[stream], subscription.id == sub else { return }  // unsubscribed since
        if subscription.active {
            write(outbound)
            markDirty()
        } else {
            subscription.pending.append(outbound)
            subscriptions[stream] = subscription
        }
    }

    /// The hub ended subscription `sub` of `stream` (its class changed): tell the client with
    /// `unsubscribed`, after anything already delivered for it.
    func hubEnded(stream: StreamName, sub: SubscriberID, code: ErrorCode, message: String) {
        guard var subscription = subscriptions[stream], subscription.id == sub else { return }
        let notice = WebSocketOutbound.encodedFrames(ServerFrames.unsubscribed(stream: stream, code: code, message: message))
        if subscription.active {
            subscriptions.removeValue(forKey: stream)
            write(notice)
            markDirty()
        } else {
            subscription.pending.append(notice)
            subscription.endsOnActivation = true
            subscriptions[stream] = subscription
        }
    }

    /// One step of a replay from the store (after a subscribe's `ok`): write it, then ask for
    /// the next step once the socket is writable (`next`), so a long replay never floods it.
    func hubCaughtUp(stream: StreamName, sub: SubscriberID, frames: [ByteBuffer], next: UInt64?) {
        guard var subscription = subscriptions[stream], subscription.id == sub else { return }
        for frame in frames { deliver(.encodedFrames(frame), stream: stream, sub: sub) }
        markDirty()
        guard let next, let ref else { return }
        if isOpen, writable {
            hub.catchUp(stream, sub: sub, ref: ref, after: next)
        } else {
            subscription = subscriptions[stream] ?? subscription
            subscription.catchUpAfter = next
            subscriptions[stream] = subscription
        }
    }

    /// The socket drained: continue replays that waited for it.
    func resumeCatchUps() {
        guard let ref else { return }
        for (name, subscription) in subscriptions {
            guard let after = subscription.catchUpAfter else { continue }
            subscriptions[name]?.catchUpAfter = nil
            hub.catchUp(name, sub: subscription.id, ref: ref, after: after)
        }
    }

    private static func outbound(_ item: Delivery.Item, stream: StreamName, epoch: StreamEpoch) -> WebSocketOutbound? {
        switch item {
        case .frame(let frame):
            return .encodedFrames(frame)
        case .flow(.event(let event)):
            return .encodedFrames(event.payload)
        case .flow(.gap(let gap)):
            return .encodedFrames(ServerFrames.recovered(stream: stream, recovered: false, epoch: epoch, offset: gap.resumesAfter))
        case .flow(.close(let close)):
            return .close(WebSocketCloseCode(rawValue: close.code), reason: close.reason)
        case .flow(.fetch):
            return nil  // only with a store-backed history (not yet)
        }
    }
}
