import LatticeProtocol
import LatticeStreams
import NIOCore

/// A subscriber of the hub: something on one event loop that holds subscriptions and is told,
/// on that loop, what the hub has for it. A WebSocket session is one (`SessionHandler`); a
/// server component that follows streams can be another.
///
/// The hub calls these only on the subscriber's loop, in the order the home loop produced
/// them; the subscriber writes them out in that order.
protocol HubSubscriber: AnyObject {
    /// The answer to request `seq` (the subscriber numbers its requests; answers may arrive
    /// out of order from different home loops).
    func hubReply(seq: UInt64, _ reply: HubReply)
    /// One fan-out delivery for subscription `sub` of `stream`.
    func hubDeliver(_ item: Delivery.Item, stream: StreamName, sub: SubscriberID, epoch: StreamEpoch)
    /// One drain step's outputs after a pause; `more`: ask for the next step (`StreamHub.drain`)
    /// while the subscriber can take more.
    func hubDrained(stream: StreamName, sub: SubscriberID, epoch: StreamEpoch, items: [Delivery.Item], more: Bool)
    /// One step of a replay from the store; `next`: ask for the next step after this offset
    /// (`StreamHub.catchUp`) once the subscriber can take more, nil when it is live.
    func hubCaughtUp(stream: StreamName, sub: SubscriberID, frames: [ByteBuffer], next: UInt64?)
    /// The hub ended subscription `sub` (its stream's class changed, …).
    func hubEnded(stream: StreamName, sub: SubscriberID, code: ErrorCode, message: String)
}

/// How the hub reaches one subscriber: the subscriber bound to its loop, the index of that
/// loop among the hub's, and the connection its presence belongs to.
struct SubscriberRef: Sendable {
    let subscriber: NIOLoopBound<any HubSubscriber>
    let loopIndex: Int
    let conn: ConnectionID
}

/// One thing the hub hands one subscriber from a fan-out.
struct Delivery: Sendable {
    enum Item: Sendable {
        /// A backpressure output (an event, a gap notice, a close).
        case flow(FlowOutput)
        /// A pre-encoded frame outside the log (presence).
        case frame(ByteBuffer)
    }
    let subscriber: SubscriberRef
    let sub: SubscriberID
    let item: Item
}

/// The answer to one request, computed on the home loop, written in request order by the
/// subscriber.
struct HubReply: Sendable {
    var frames: [ByteBuffer]
    /// A subscribe succeeded: the subscription goes live once these frames are written.
    var activates: (StreamName, SubscriberID)? = nil
    /// A subscribe failed: the subscriber forgets the subscription.
    var failed: (StreamName, SubscriberID)? = nil
}

/// Who asked for a publish, and so where its answer goes.
enum PublishOrigin: Sendable {
    /// A subscriber's request: the answer is an `ok` or `error` frame in its reply slot `seq`.
    case request(SubscriberRef, seq: UInt64, id: RequestID?)
    /// A server component (`StreamHub.append`): the answer is the position, or why not.
    case server(@Sendable (Result<StreamPosition, StreamAppendError>) -> Void)
}

/// Why `StreamHub.append` did not append.
public enum StreamAppendError: Error, Sendable, Equatable {
    /// A durable stream's store did not commit the event; it was not published.
    case notStored(String)
}
