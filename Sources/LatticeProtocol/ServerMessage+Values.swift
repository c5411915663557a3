public import NIOCore

extension ServerMessage {
    /// `welcome`: the first message of every connection.
    public struct Welcome: Sendable, Hashable {
        /// The protocol spoken (`lattice.v1`).
        public var protocolName: String
        /// This connection's session id (the `conn` of its presence metas).
        public var session: String
        public var identity: Identity
        /// The limits announced: `maxMessageBytes`, `maxSubscriptions`, `maxStreamNameBytes` and
        /// `maxPresenceStateBytes` (the others are not sent and decode to their defaults).
        public var limits: ProtocolLimits
        public var heartbeatSeconds: Int

        public init(protocolName: String = ProtocolVersion.v1, session: String, identity: Identity, limits: ProtocolLimits, heartbeatSeconds: Int) {
            self.protocolName = protocolName
            self.session = session
            self.identity = identity
            self.limits = limits
            self.heartbeatSeconds = heartbeatSeconds
        }
    }

    /// `ok`: a request succeeded; the fields its answer carries (absent ones are nil).
    public struct OK: Sendable, Hashable {
        public var id: RequestID?
        public var stream: StreamName?
        public var epoch: StreamEpoch?
        public var offset: UInt64?
        /// A run's row, as JSON (the answer to `run.start`, `run.cancel`, `run.approve`).
        public var run: RawJSON?

        public init(id: RequestID? = nil, stream: StreamName? = nil, epoch: StreamEpoch? = nil, offset: UInt64? = nil,
                    run: RawJSON? = nil) {
            self.id = id
            self.stream = stream
            self.epoch = epoch
            self.offset = offset
            self.run = run
        }

        /// `epoch` and `offset` together, when both are present (a subscribe's or publish's answer).
        public var position: StreamPosition? {
            guard let epoch, let offset else { return nil }
            return StreamPosition(epoch: epoch, offset: offset)
        }
    }

    /// `event`: one event of a subscribed stream; `data` is the publisher's JSON, verbatim.
    public struct Event: Sendable, Hashable {
        public var stream: StreamName
        public var epoch: StreamEpoch
        public var offset: UInt64
        public var key: String?
        public var data: RawJSON

        public init(stream: StreamName, epoch: StreamEpoch, offset: UInt64, key: String? = nil, data: RawJSON) {
            self.stream = stream
            self.epoch = epoch
            self.offset = offset
            self.key = key
            self.data = data
        }

        /// The event's position in its stream.
        public var position: StreamPosition { StreamPosition(epoch: epoch, offset: offset) }
    }

    /// `recovered`: the answer to a resume; `recovered: false` means history was lost.
    public struct Recovered: Sendable, Hashable {
        public var stream: StreamName
        public var recovered: Bool
        public var epoch: StreamEpoch
        public var offset: UInt64

        public init(stream: StreamName, recovered: Bool, epoch: StreamEpoch, offset: UInt64) {
            self.stream = stream
            self.recovered = recovered
            self.epoch = epoch
            self.offset = offset
        }

        /// The stream's position after the resume.
        public var position: StreamPosition { StreamPosition(epoch: epoch, offset: offset) }
    }

    /// `presence`: a stream's full presence.
    public struct Presence: Sendable, Hashable {
        public var stream: StreamName
        public var members: [Member]

        public init(stream: StreamName, members: [Member]) {
            self.stream = stream
            self.members = members
        }
    }

    /// `presence.diff`: set `joins` and `updates`, remove `leaves`.
    public struct PresenceDiff: Sendable, Hashable {
        public var stream: StreamName
        public var joins: [Member]
        public var leaves: [Member]
        public var updates: [Member]

        public init(stream: StreamName, joins: [Member] = [], leaves: [Member] = [], updates: [Member] = []) {
            self.stream = stream
            self.joins = joins
            self.leaves = leaves
            self.updates = updates
        }

        /// Applies this diff to members keyed by identity id.
        public func apply(to members: inout [String: Member]) {
            for m in joins { members[m.identity.id] = m }
            for m in updates { members[m.identity.id] = m }
            for m in leaves { members[m.identity.id] = nil }
        }
    }

    /// `unsubscribed`: the server ended a subscription.
    public struct Unsubscribed: Sendable, Hashable {
        public var stream: StreamName
        public var code: ErrorCode
        public var message: String

        public init(stream: StreamName, code: ErrorCode, message: String) {
            self.stream = stream
            self.code = code
            self.message = message
        }
    }

    /// `snapshot`: a stream's state after every event up to and including `offset`.
    public struct Snapshot: Sendable, Hashable {
        public var stream: StreamName
        public var epoch: StreamEpoch
        public var offset: UInt64
        public var data: RawJSON

        public init(stream: StreamName, epoch: StreamEpoch, offset: UInt64, data: RawJSON) {
            self.stream = stream
            self.epoch = epoch
            self.offset = offset
            self.data = data
        }
    }

    /// The `type` as on the wire.
    public var type: String {
        switch self {
        case .welcome: "welcome"
        case .ok: "ok"
        case .error: "error"
        case .event: "event"
        case .recovered: "recovered"
        case .presence: "presence"
        case .presenceDiff: "presence.diff"
        case .unsubscribed: "unsubscribed"
        case .snapshot: "snapshot"
        case .taskAssign: "task.assign"
        case .taskCancel: "task.cancel"
        case .unknown(let type): type
        }
    }

    /// Writes the message with the encoders above. An `unknown` message writes `{"type":…}`.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .welcome(let m):
            Self.welcome(session: m.session, identity: m.identity, limits: m.limits, heartbeatSeconds: m.heartbeatSeconds,
                         protocol: m.protocolName, into: &buffer)
        case .ok(let m):
            Self.ok(id: m.id, stream: m.stream, epoch: m.epoch, offset: m.offset, run: m.run, into: &buffer)
        case .error(let m):
            Self.error(m, into: &buffer)
        case .event(let m):
            EventEncoder.encode(stream: m.stream, epoch: m.epoch, offset: m.offset, data: m.data, key: m.key, into: &buffer)
        case .recovered(let m):
            Self.recovered(stream: m.stream, recovered: m.recovered, epoch: m.epoch, offset: m.offset, into: &buffer)
        case .presence(let m):
            Self.presence(stream: m.stream, members: m.members, into: &buffer)
        case .presenceDiff(let m):
            Self.presenceDiff(stream: m.stream, joins: m.joins, leaves: m.leaves, updates: m.updates, into: &buffer)
        case .unsubscribed(let m):
            Self.unsubscribed(stream: m.stream, code: m.code, message: m.message, into: &buffer)
        case .snapshot(let m):
            Self.snapshot(stream: m.stream, epoch: m.epoch, offset: m.offset, data: m.data, into: &buffer)
        case .taskAssign(let m):
            Self.taskAssign(lease: m.lease, run: m.run, node: m.node, attempt: m.attempt, capability: m.capability,
                            input: m.input, expiresAt: m.expiresAt, into: &buffer)
        case .taskCancel(let m):
            Self.taskCancel(lease: m.lease, run: m.run, node: m.node, reason: m.reason, into: &buffer)
        case .unknown(let type):
            buffer.writeStaticString("{\"type\":")
            buffer.writeJSONString(type)
            buffer.writeStaticString("}")
        }
    }

    /// The message as a new buffer.
    public var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return buffer
    }
}
