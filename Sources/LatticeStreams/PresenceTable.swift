public import LatticeProtocol
public import NIOCore

/// The presence of one stream: who is here, with one meta per connection, and the diffs that
/// tell subscribers about changes — coalesced per member, with time driven by the caller.
///
/// Two states are kept: the **current** one (every `set`/`leave` applies at once) and the
/// **published** one (what subscribers have been told: the full states handed out plus every
/// diff returned by `flush`). `fullState()` answers the published state, so a new subscriber's
/// full state and the diffs it receives afterwards always compose to the current state once
/// flushed. `flush(now:)` emits, for each changed member whose last diff is at least
/// `coalesceInterval` old, one entry comparing published and current: a join (it was not
/// published), a leave (it is gone), or an update (its metas differ). A member that joined and
/// left within an interval produces nothing. `nextFlush` says when to call `flush` again.
///
/// A member joins when its first connection sets presence and leaves when its last connection
/// leaves, closes or times out. Single-threaded; no clocks inside.
public struct PresenceTable: Sendable {
    private struct MetaEntry: Sendable {
        var state: ByteBuffer
        var lastSeen: NIODeadline
    }

    private struct MemberEntry: Sendable {
        var kind: Identity.Kind
        var metas: [ConnectionID: MetaEntry]
    }

    public enum SetResult: Sendable, Equatable {
        case accepted
        /// The stream already has `maxMetas` connections present.
        case tooManyMetas
        /// This connection is present under another identity in this stream.
        case identityMismatch
    }

    public let config: PresenceConfig
    private var current: [String: MemberEntry] = [:]
    private var published: [String: PresenceRecord] = [:]
    private var identityOf: [ConnectionID: String] = [:]
    private var dirty: Set<String> = []
    private var lastDiff: [String: NIODeadline] = [:]
    /// Sum of the current metas' state sizes, in bytes.
    public private(set) var stateBytes = 0

    public init(config: PresenceConfig = PresenceConfig()) {
        self.config = config
    }

    public var memberCount: Int { current.count }
    public var metaCount: Int { identityOf.count }
    public var hasPendingChanges: Bool { !dirty.isEmpty }

    /// Whether `conn` is present in this stream.
    public func contains(_ conn: ConnectionID) -> Bool { identityOf[conn] != nil }

    /// Sets `conn`'s state (joining its identity's member if needed); also counts as a heartbeat.
    /// `kind` is recorded when the member joins.
    @discardableResult
    public mutating func set(
        conn: ConnectionID, identity: String, kind: Identity.Kind, state: ByteBuffer, now: NIODeadline
    ) -> SetResult {
        if let existing = identityOf[conn] {
            guard existing == identity else { return .identityMismatch }
        } else {
            guard identityOf.count < config.maxMetas else { return .tooManyMetas }
            identityOf[conn] = identity
        }
        let old = current[identity, default: MemberEntry(kind: kind, metas: [:])].metas.updateValue(
            MetaEntry(state: state, lastSeen: now), forKey: conn)
        stateBytes += state.readableBytes - (old?.state.readableBytes ?? 0)
        if old?.state != state { dirty.insert(identity) }
        return .accepted
    }

    /// Removes `conn`'s meta (presence cleared, unsubscribe, or connection closed); the member
    /// leaves with its last meta. Returns whether `conn` was present.
    @discardableResult
    public mutating func remove(conn: ConnectionID) -> Bool {
        guard let identity = identityOf.removeValue(forKey: conn) else { return false }
        if let meta = current[identity]?.metas.removeValue(forKey: conn) {
            stateBytes -= meta.state.readableBytes
        }
        if current[identity]?.metas.isEmpty == true { current.removeValue(forKey: identity) }
        dirty.insert(identity)
        return true
    }

    /// `conn` is alive (a heartbeat or any message), keeping its meta from expiring.
    public mutating func heartbeat(conn: ConnectionID, now: NIODeadline) {
        guard let identity = identityOf[conn] else { return }
        current[identity]?.metas[conn]?.lastSeen = now
    }

    /// Removes every meta not seen for longer than `metaTimeout`; returns their connections.
    @discardableResult
    public mutating func expire(now: NIODeadline) -> [ConnectionID] {
        guard let timeout = config.metaTimeout else { return [] }
        var expired: [ConnectionID] = []
        for (_, member) in current {
            for (conn, meta) in member.metas where meta.lastSeen + timeout < now {
                expired.append(conn)
            }
        }
        for conn in expired { remove(conn: conn) }
        return expired.sorted()
    }

    /// The published state, for a new subscriber: the members sorted by identity.
    public func fullState() -> [PresenceRecord] {
        published.values.sorted { $0.identity < $1.identity }
    }

    /// The current state (what `fullState()` becomes once everything is flushed).
    public func currentState() -> [PresenceRecord] {
        current.keys.sorted().map { member($0)! }
    }

    /// When a held-back change becomes due (`nil`: nothing pending). Call `flush` then.
    public var nextFlush: NIODeadline? {
        var earliest: NIODeadline?
        for identity in dirty {
            let due = lastDiff[identity].map { $0 + config.coalesceInterval } ?? .uptimeNanoseconds(0)
            if earliest == nil || due < earliest! { earliest = due }
        }
        return earliest
    }

    /// The diff of every changed member that is due at `now`; `nil` when there is none.
    /// Members not yet due stay pending (see `nextFlush`).
    public mutating func flush(now: NIODeadline) -> PresenceDiff? {
        var diff = PresenceDiff()
        for identity in dirty.sorted() {
            if let last = lastDiff[identity], now < last + config.coalesceInterval { continue }
            dirty.remove(identity)
            let now_ = member(identity)
            switch (published[identity], now_) {
            case (nil, nil):
                continue
            case (nil, let member?):
                diff.joins.append(member)
                published[identity] = member
            case (_?, nil):
                diff.leaves.append(identity)
                published.removeValue(forKey: identity)
            case (let was?, let member?):
                guard was != member else { continue }
                diff.updates.append(member)
                published[identity] = member
            }
            lastDiff[identity] = now
        }
        // Forget rate-limit marks that no longer matter.
        lastDiff = lastDiff.filter { dirty.contains($0.key) || now < $0.value + config.coalesceInterval }
        return diff.isEmpty ? nil : diff
    }

    private func member(_ identity: String) -> PresenceRecord? {
        guard let entry = current[identity] else { return nil }
        let metas = entry.metas.keys.sorted().map { PresenceMeta(conn: $0, state: entry.metas[$0]!.state) }
        return PresenceRecord(identity: identity, kind: entry.kind, metas: metas)
    }
}
