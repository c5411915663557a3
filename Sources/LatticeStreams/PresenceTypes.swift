public import LatticeProtocol
public import NIOCore

/// One connection's presence in a stream: its raw JSON state (size-checked by the caller).
public struct PresenceMeta: Sendable, Equatable {
    public var conn: ConnectionID
    public var state: ByteBuffer

    public init(conn: ConnectionID, state: ByteBuffer) {
        self.conn = conn
        self.state = state
    }
}

/// How a presence table stores one identity present in a stream: its id and kind, with one meta
/// per connection (sorted by connection). The server turns it into the wire's
/// `ServerMessage.Member` (adding the name, and each connection's session id) where it is encoded.
public struct PresenceRecord: Sendable, Equatable {
    public var identity: String
    public var kind: Identity.Kind
    public var metas: [PresenceMeta]

    public init(identity: String, kind: Identity.Kind, metas: [PresenceMeta]) {
        self.identity = identity
        self.kind = kind
        self.metas = metas
    }
}

/// A change of a stream's presence, stream-wide (encoded once, sent to every subscriber).
///
/// Joins and updates carry the member's complete current value (all its metas), and leaves
/// name it; so applying a diff is "set these members, remove those", which is idempotent.
public struct PresenceDiff: Sendable, Equatable {
    public var joins: [PresenceRecord] = []
    public var updates: [PresenceRecord] = []
    public var leaves: [String] = []

    public init(joins: [PresenceRecord] = [], updates: [PresenceRecord] = [], leaves: [String] = []) {
        self.joins = joins
        self.updates = updates
        self.leaves = leaves
    }

    public var isEmpty: Bool { joins.isEmpty && updates.isEmpty && leaves.isEmpty }
}

/// A client's (or observer's) view of a stream's presence: a full state plus the diffs since.
public struct PresenceView: Sendable, Equatable {
    public private(set) var members: [String: PresenceRecord]

    public init(fullState: [PresenceRecord]) {
        members = Dictionary(fullState.map { ($0.identity, $0) }, uniquingKeysWith: { _, last in last })
    }

    public mutating func apply(_ diff: PresenceDiff) {
        for member in diff.joins { members[member.identity] = member }
        for member in diff.updates { members[member.identity] = member }
        for identity in diff.leaves { members.removeValue(forKey: identity) }
    }

    /// The members sorted by identity, like `PresenceTable.fullState()`.
    public var sorted: [PresenceRecord] { members.values.sorted { $0.identity < $1.identity } }
}

/// Bounds and timing of a stream's presence.
public struct PresenceConfig: Sendable, Equatable {
    /// At most one diff entry per member per interval, carrying its latest value (default 50 ms).
    public var coalesceInterval: TimeAmount
    /// A meta whose connection has not set presence or sent a heartbeat for this long is removed
    /// by `expire(now:)`; `nil`: only explicit leaves and closes remove metas (default 60 s).
    public var metaTimeout: TimeAmount?
    /// Most metas (connections present) per stream; `set` refuses beyond (default 10,000).
    public var maxMetas: Int

    public init(coalesceInterval: TimeAmount = .milliseconds(50), metaTimeout: TimeAmount? = .seconds(60), maxMetas: Int = 10_000) {
        precondition(maxMetas >= 0, "maxMetas must not be negative")
        self.coalesceInterval = coalesceInterval
        self.metaTimeout = metaTimeout
        self.maxMetas = maxMetas
    }
}
