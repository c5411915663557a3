import LatticeProtocol
import LatticeStreams
import NIOCore
import Synchronization
@testable import LatticeServer

/// A `HubSubscriber` that writes nothing anywhere: it records, in arrival order, every message
/// the hub hands it (replies, deliveries, drain and catch-up steps, ends), and asks for the next
/// drain or catch-up step at once, as an always-writable socket would.
final class RecordingSubscriber: HubSubscriber, Sendable {
    let hub: StreamHub
    private(set) nonisolated(unsafe) var ref: SubscriberRef!
    private let received = Mutex<[Received]>([])
    private let nextSeq = Atomic<UInt64>(0)
    /// A close the hub asked for (slow consumer, …): its code.
    private let closes = Mutex<[UInt16]>([])

    private init(hub: StreamHub) {
        self.hub = hub
    }

    /// A subscriber living on `loop` (one of the hub's), as connection `conn`.
    static func make(hub: StreamHub, loop: any EventLoop, conn: UInt64) async throws -> RecordingSubscriber {
        let subscriber = RecordingSubscriber(hub: hub)
        let index = hub.index(of: loop)
        subscriber.ref = try await loop.submit {
            SubscriberRef(subscriber: NIOLoopBound(subscriber, eventLoop: loop), loopIndex: index, conn: ConnectionID(conn))
        }.get()
        return subscriber
    }

    /// Everything received so far.
    var messages: [Received] { received.withLock { $0 } }
    var closeCodes: [UInt16] { closes.withLock { $0 } }

    /// The next request number (the hub answers in slot `seq`).
    func seq() -> UInt64 { nextSeq.add(1, ordering: .relaxed).oldValue }

    /// Subscribes to `stream` with a fresh subscriber id, and returns that id.
    @discardableResult
    func subscribe(_ stream: StreamName, since: StreamPosition? = nil, snapshot: Bool = false, id: Int = 1) -> SubscriberID {
        let sub = hub.makeSubscriberID()
        hub.subscribe(stream, sub: sub, ref: ref, since: since, snapshot: snapshot, requestID: RequestID(id), seq: seq())
        return sub
    }

    /// Waits (polling, at most `seconds`) until the recorded messages satisfy `condition`.
    func waitUntil(_ seconds: Double = 10, _ condition: ([Received]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition(messages) { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return condition(messages)
    }

    // MARK: HubSubscriber

    func hubReply(seq: UInt64, _ reply: HubReply) {
        record(reply.frames)
    }

    func hubDeliver(_ item: Delivery.Item, stream: StreamName, sub: SubscriberID, epoch: StreamEpoch) {
        record(item, stream: stream, epoch: epoch)
    }

    func hubDrained(stream: StreamName, sub: SubscriberID, epoch: StreamEpoch, items: [Delivery.Item], more: Bool) {
        for item in items { record(item, stream: stream, epoch: epoch) }
        if more { hub.drain(stream, sub: sub) }
    }

    func hubCaughtUp(stream: StreamName, sub: SubscriberID, frames: [ByteBuffer], next: UInt64?) {
        record(frames)
        if let next { hub.catchUp(stream, sub: sub, ref: ref, after: next) }
    }

    func hubEnded(stream: StreamName, sub: SubscriberID, code: ErrorCode, message: String) {
        record([ServerFrames.unsubscribed(stream: stream, code: code, message: message)])
    }

    private func record(_ frames: [ByteBuffer]) {
        let texts = frames.map { Received(text: ServerFrameJSON.text(of: $0)) }
        received.withLock { $0.append(contentsOf: texts) }
    }

    private func record(_ item: Delivery.Item, stream: StreamName, epoch: StreamEpoch) {
        switch item {
        case .frame(let frame):
            record([frame])
        case .flow(.event(let event)):
            record([event.payload])
        case .flow(.gap(let gap)):
            record([ServerFrames.recovered(stream: stream, recovered: false, epoch: epoch, offset: gap.resumesAfter)])
        case .flow(.close(let close)):
            closes.withLock { $0.append(close.code) }
        case .flow(.fetch):
            break
        }
    }
}
