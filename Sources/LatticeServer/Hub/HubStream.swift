import LatticeProtocol
import LatticeStreams
import NIOCore

/// One stream on its home loop: its log, its presence, and who is subscribed. Touched only on
/// the home loop.
final class HubStream {
    struct Subscriber {
        let ref: SubscriberRef
        /// The socket is past its high-water mark: presence diffs are skipped and a full
        /// `presence` is sent when it drains.
        var paused = false
        var presenceStale = false
    }

    let name: StreamName
    /// Events are stored (and acknowledged after their commit) in the durable store.
    let isDurable: Bool
    var log: StreamLog<TieredStreamHistory>
    /// Subscribers being caught up from the store (subscribed, not yet attached to the log).
    var catchingUp: [SubscriberID: SubscriberRef] = [:]
    /// The reducer's state, when the stream's kind has a reducer (`HubSettings.reducers`).
    var reduction: ReducerState?
    /// The reducer's state is being rebuilt from the store; snapshot subscribes wait here.
    var isHydrating = false
    var snapshotWaiters: [SnapshotWaiter] = []
    /// Why the reducer's state could not be rebuilt (snapshot subscribes are refused with it).
    var reductionFailure: String?

    struct SnapshotWaiter {
        let sub: SubscriberID
        let ref: SubscriberRef
        let requestID: RequestID?
        let seq: UInt64
    }
    var presence: PresenceTable
    var subscribers: [SubscriberID: Subscriber] = [:]
    /// Display names of the identities present (presence shows `id` and `name`).
    var names: [String: String] = [:]
    /// The members subscribers were last told about (for the last metas of `leaves`).
    var publishedMembers: [String: PresenceRecord] = [:]
    var presenceTimer: Scheduled<Void>?
    /// Subscribers currently paused (the stall check looks only at streams with some).
    var pausedCount = 0
    /// Publishes handed to the store whose commit has not come back yet.
    var pendingCommits = 0
    /// The last publish, subscribe or unsubscribe (idle streams are unloaded after a while).
    var lastActivity: NIODeadline

    /// A stream whose history is its memory tail only, or — with `head` — a durable stream
    /// resuming where its store stands.
    /// Nothing depends on this stream being in memory: nobody subscribed or being caught up, no
    /// presence, no commit on its way back.
    var isUnused: Bool {
        subscribers.isEmpty && catchingUp.isEmpty && snapshotWaiters.isEmpty && !isHydrating && pendingCommits == 0
            && presence.metaCount == 0
            && !presence.hasPendingChanges && presenceTimer == nil
    }

    /// How long it must have been unused before the hub unloads it: a durable stream loses
    /// nothing (the store has its events and head); an ephemeral one waits until its history
    /// would have aged out anyway, so unloading never shortens what a resume can reach.
    func unloadAfter(idle: TimeAmount) -> TimeAmount {
        if isDurable { return idle }
        guard let maxAge = log.policy.history.maxAge else { return .hours(24 * 365) }
        return max(idle, maxAge)
    }

    init(name: StreamName, policy: StreamPolicy, presence: PresenceConfig, head: DurableStreamHead?, now: NIODeadline) {
        self.name = name
        self.lastActivity = now
        self.isDurable = head != nil
        if let head {
            self.log = StreamLog(epoch: head.epoch, policy: policy,
                                 history: TieredStreamHistory(limits: policy.history, newestOffset: head.newestOffset,
                                                              storeOldestOffset: head.oldestOffset))
        } else {
            self.log = StreamLog(epoch: .random(), policy: policy, history: TieredStreamHistory(limits: policy.history))
        }
        self.presence = PresenceTable(config: presence)
    }

    /// Removes a subscriber and its presence meta; returns whether it was there.
    @discardableResult
    func remove(_ sub: SubscriberID, now: NIODeadline) -> Subscriber? {
        lastActivity = now
        log.detach(sub)
        catchingUp.removeValue(forKey: sub)
        guard let subscriber = subscribers.removeValue(forKey: sub) else { return nil }
        if subscriber.paused { pausedCount -= 1 }
        presence.remove(conn: subscriber.ref.conn)
        return subscriber
    }
}
