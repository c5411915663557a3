public import NIOCore

/// Who is behind a connection, as `welcome` and presence show it.
public struct Identity: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case user, bot
    }

    public var id: String
    public var name: String
    public var kind: Kind

    public init(id: String, name: String, kind: Kind) {
        self.id = id
        self.name = name
        self.kind = kind
    }
}

/// Encodes `event` messages: the hot path of fan-out. No Foundation, no allocation beyond
/// the output buffer's growth; `data` is copied verbatim.
public enum EventEncoder {
    /// Appends `{"type":"event","stream":…,"epoch":…,"offset":N[,"key":…],"data":…}` to `buffer`.
    public static func encode(stream: String, epoch: StreamEpoch, offset: UInt64, data: RawJSON, key: String? = nil, into buffer: inout ByteBuffer) {
        // Exact when nothing needs escaping; otherwise the buffer grows once or twice.
        buffer.reserveCapacity(minimumWritableBytes: 64 + stream.utf8.count + epoch.rawValue.utf8.count + (key?.utf8.count ?? 0) + data.bytes.readableBytes)
        buffer.writeStaticString("{\"type\":\"event\",\"stream\":")
        buffer.writeJSONString(stream)
        buffer.writeStaticString(",\"epoch\":")
        buffer.writeJSONString(epoch.rawValue)
        buffer.writeStaticString(",\"offset\":")
        buffer.writeJSONInteger(offset)
        if let key {
            buffer.writeStaticString(",\"key\":")
            buffer.writeJSONString(key)
        }
        buffer.writeStaticString(",\"data\":")
        buffer.writeRawJSON(data)
        buffer.writeStaticString("}")
    }

    /// Same, with a `StreamName`.
    public static func encode(stream: StreamName, epoch: StreamEpoch, offset: UInt64, data: RawJSON, key: String? = nil, into buffer: inout ByteBuffer) {
        encode(stream: stream.name, epoch: epoch, offset: offset, data: data, key: key, into: &buffer)
    }
}

/// A server → client message, decoded (`decode(_:)`, what a client reads) or to be encoded
/// (`encode(into:)`). The static functions below are the encoders themselves, called directly
/// by the server so that nothing is built on its hot paths; `encode(into:)` goes through them.
/// A `type` this version does not know decodes as `unknown` (clients ignore it).
public enum ServerMessage: Sendable, Hashable {
    case welcome(Welcome)
    case ok(OK)
    /// An `error`: a refused request (or a message the server could not read).
    case error(ProtocolError)
    case event(Event)
    case recovered(Recovered)
    case presence(Presence)
    case presenceDiff(PresenceDiff)
    case unsubscribed(Unsubscribed)
    case snapshot(Snapshot)
    case taskAssign(TaskAssign)
    case taskCancel(TaskCancel)
    /// A message of a type this version does not know; its `type` as sent.
    case unknown(type: String)

    /// One connection's entry in a stream's presence: its session id and its state (a JSON object).
    public struct Meta: Sendable, Hashable {
        /// The connection's session id (the `session` of its `welcome`).
        public var conn: String
        public var state: RawJSON

        public init(conn: String, state: RawJSON) {
            self.conn = conn
            self.state = state
        }
    }

    /// One member of a stream's presence: an identity and the metas of its connections.
    public struct Member: Sendable, Hashable {
        public var identity: Identity
        public var metas: [Meta]

        public init(identity: Identity, metas: [Meta]) {
            self.identity = identity
            self.metas = metas
        }
    }

    /// `{"type":"welcome","protocol":"lattice.v1","session":…,"identity":{…},"limits":{…},"heartbeatSeconds":N}`.
    public static func welcome(
        session: String, identity: Identity, limits: ProtocolLimits, heartbeatSeconds: Int,
        protocol name: String = ProtocolVersion.v1, into buffer: inout ByteBuffer
    ) {
        buffer.writeStaticString("{\"type\":\"welcome\",\"protocol\":")
        buffer.writeJSONString(name)
        buffer.writeStaticString(",\"session\":")
        buffer.writeJSONString(session)
        buffer.writeStaticString(",\"identity\":")
        writeIdentity(identity, into: &buffer)
        buffer.writeStaticString("},\"limits\":{\"maxMessageBytes\":")
        buffer.writeJSONInteger(limits.maxMessageBytes)
        buffer.writeStaticString(",\"maxSubscriptions\":")
        buffer.writeJSONInteger(limits.maxSubscriptions)
        buffer.writeStaticString(",\"maxStreamNameBytes\":")
        buffer.writeJSONInteger(limits.maxStreamNameBytes)
        buffer.writeStaticString(",\"maxPresenceStateBytes\":")
        buffer.writeJSONInteger(limits.maxPresenceStateBytes)
        buffer.writeStaticString("},\"heartbeatSeconds\":")
        buffer.writeJSONInteger(heartbeatSeconds)
        buffer.writeStaticString("}")
    }

    /// `{"type":"ok"[,"id":…][,"stream":…][,"epoch":…][,"offset":N][,"run":{…}]}`; absent values
    /// are left out. `run` is a run's row (the answer to a run request), copied verbatim.
    public static func ok(id: RequestID?, stream: StreamName? = nil, epoch: StreamEpoch? = nil, offset: UInt64? = nil,
                          run: RawJSON? = nil, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"type\":\"ok\"")
        if let id {
            buffer.writeStaticString(",\"id\":")
            buffer.writeRawJSON(id.raw)
        }
        if let stream {
            buffer.writeStaticString(",\"stream\":")
            buffer.writeJSONString(stream.name)
        }
        if let epoch {
            buffer.writeStaticString(",\"epoch\":")
            buffer.writeJSONString(epoch.rawValue)
        }
        if let offset {
            buffer.writeStaticString(",\"offset\":")
            buffer.writeJSONInteger(offset)
        }
        if let run {
            buffer.writeStaticString(",\"run\":")
            buffer.writeRawJSON(run)
        }
        buffer.writeStaticString("}")
    }

    /// `{"type":"error"[,"id":…],"code":…,"message":…[,"stream":…]}`.
    public static func error(code: ErrorCode, message: String, id: RequestID? = nil, stream: StreamName? = nil, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"type\":\"error\"")
        if let id {
            buffer.writeStaticString(",\"id\":")
            buffer.writeRawJSON(id.raw)
        }
        buffer.writeStaticString(",\"code\":")
        buffer.writeJSONString(code.rawValue)
        buffer.writeStaticString(",\"message\":")
        buffer.writeJSONString(message)
        if let stream {
            buffer.writeStaticString(",\"stream\":")
            buffer.writeJSONString(stream.name)
        }
        buffer.writeStaticString("}")
    }

    /// The `error` message for a `ProtocolError` (code, message, id and stream).
    public static func error(_ error: ProtocolError, into buffer: inout ByteBuffer) {
        self.error(code: error.code, message: error.message, id: error.id, stream: error.stream, into: &buffer)
    }

    /// `{"type":"unsubscribed","stream":…,"code":…,"message":…}`: the server ended a subscription
    /// (the identity lost access to the stream's workspace).
    public static func unsubscribed(stream: StreamName, code: ErrorCode, message: String, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"type\":\"unsubscribed\",\"stream\":")
        buffer.writeJSONString(stream.name)
        buffer.writeStaticString(",\"code\":")
        buffer.writeJSONString(code.rawValue)
        buffer.writeStaticString(",\"message\":")
        buffer.writeJSONString(message)
        buffer.writeStaticString("}")
    }

    /// `{"type":"recovered","stream":…,"recovered":true|false,"epoch":…,"offset":N}`.
    public static func recovered(stream: StreamName, recovered: Bool, epoch: StreamEpoch, offset: UInt64, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"type\":\"recovered\",\"stream\":")
        buffer.writeJSONString(stream.name)
        buffer.writeStaticString(",\"recovered\":")
        buffer.writeJSONBool(recovered)
        buffer.writeStaticString(",\"epoch\":")
        buffer.writeJSONString(epoch.rawValue)
        buffer.writeStaticString(",\"offset\":")
        buffer.writeJSONInteger(offset)
        buffer.writeStaticString("}")
    }

    /// `{"type":"presence","stream":…,"members":[…]}`: the full state.
    public static func presence(stream: StreamName, members: [Member], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"type\":\"presence\",\"stream\":")
        buffer.writeJSONString(stream.name)
        buffer.writeStaticString(",\"members\":")
        writeMembers(members, into: &buffer)
        buffer.writeStaticString("}")
    }

    /// `{"type":"presence.diff","stream":…,"joins":[…],"leaves":[…],"updates":[…]}`.
    public static func presenceDiff(
        stream: StreamName, joins: [Member], leaves: [Member], updates: [Member], into buffer: inout ByteBuffer
    ) {
        buffer.writeStaticString("{\"type\":\"presence.diff\",\"stream\":")
        buffer.writeJSONString(stream.name)
        buffer.writeStaticString(",\"joins\":")
        writeMembers(joins, into: &buffer)
        buffer.writeStaticString(",\"leaves\":")
        writeMembers(leaves, into: &buffer)
        buffer.writeStaticString(",\"updates\":")
        writeMembers(updates, into: &buffer)
        buffer.writeStaticString("}")
    }

    /// `{"id":…,"name":…,"kind":…` — left open so a member can add `metas`.
    private static func writeIdentity(_ identity: Identity, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"id\":")
        buffer.writeJSONString(identity.id)
        buffer.writeStaticString(",\"name\":")
        buffer.writeJSONString(identity.name)
        buffer.writeStaticString(",\"kind\":")
        buffer.writeJSONString(identity.kind.rawValue)
    }

    private static func writeMembers(_ members: [Member], into buffer: inout ByteBuffer) {
        buffer.writeStaticString("[")
        for (m, member) in members.enumerated() {
            if m > 0 { buffer.writeStaticString(",") }
            writeIdentity(member.identity, into: &buffer)
            buffer.writeStaticString(",\"metas\":[")
            for (k, meta) in member.metas.enumerated() {
                if k > 0 { buffer.writeStaticString(",") }
                buffer.writeStaticString("{\"conn\":")
                buffer.writeJSONString(meta.conn)
                buffer.writeStaticString(",\"state\":")
                buffer.writeRawJSON(meta.state)
                buffer.writeStaticString("}")
            }
            buffer.writeStaticString("]}")
        }
        buffer.writeStaticString("]")
    }
}
