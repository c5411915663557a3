/// A position in a stream: the epoch (compared for equality only) and the offset of the
/// last event seen (0 = nothing seen).
public struct LatticePosition: Sendable, Hashable, CustomStringConvertible {
    public var epoch: String
    public var offset: Int

    public init(epoch: String, offset: Int) {
        self.epoch = epoch
        self.offset = offset
    }

    /// Parses `EPOCH:OFFSET` (the epoch may itself hold colons; the last one separates).
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let offset = Int(text[text.index(after: colon)...]), offset >= 0 else {
            return nil
        }
        let epoch = String(text[..<colon])
        guard !epoch.isEmpty else { return nil }
        self.init(epoch: epoch, offset: offset)
    }

    public var description: String { "\(epoch):\(offset)" }
}

/// One event of a stream, with its data as the publisher's JSON text, verbatim.
public struct LatticeEvent: Sendable, Hashable {
    public var stream: String
    public var epoch: String
    public var offset: Int
    /// The event's `data`: raw JSON text, exactly the bytes the publisher sent.
    public var data: String
    public var key: String?

    public init(stream: String, epoch: String, offset: Int, data: String, key: String? = nil) {
        self.stream = stream
        self.epoch = epoch
        self.offset = offset
        self.data = data
        self.key = key
    }

    public var position: LatticePosition { LatticePosition(epoch: epoch, offset: offset) }
}

/// One member of a stream's presence: an identity with one meta per connection.
public struct PresenceMember: Sendable, Hashable {
    public struct Meta: Sendable, Hashable {
        /// The connection's `session`.
        public var conn: String
        /// Its last `presence.set` state, raw JSON (an object).
        public var state: String
        public init(conn: String, state: String) {
            self.conn = conn
            self.state = state
        }
    }

    public var id: String
    public var name: String
    public var kind: String
    public var metas: [Meta]

    public init(id: String, name: String, kind: String, metas: [Meta]) {
        self.id = id
        self.name = name
        self.kind = kind
        self.metas = metas
    }
}

/// A change of a stream's presence (`presence.diff`): set `joins` and `updates`, remove `leaves`.
public struct PresenceDiff: Sendable, Hashable {
    public var joins: [PresenceMember]
    public var leaves: [PresenceMember]
    public var updates: [PresenceMember]

    public init(joins: [PresenceMember] = [], leaves: [PresenceMember] = [], updates: [PresenceMember] = []) {
        self.joins = joins
        self.leaves = leaves
        self.updates = updates
    }

    /// Applies this diff to members keyed by id.
    public func apply(to members: inout [String: PresenceMember]) {
        for m in joins { members[m.id] = m }
        for m in updates { members[m.id] = m }
        for m in leaves { members[m.id] = nil }
    }
}

/// The server's `welcome`.
public struct LatticeWelcome: Sendable, Hashable {
    public var protocolName: String
    public var session: String
    public var identity: PresenceMember?
    public var heartbeatSeconds: Int?
    /// `limits` as announced, by name.
    public var limits: [String: Int]

    public init(protocolName: String, session: String, identity: PresenceMember? = nil, heartbeatSeconds: Int? = nil,
                limits: [String: Int] = [:]) {
        self.protocolName = protocolName
        self.session = session
        self.identity = identity
        self.heartbeatSeconds = heartbeatSeconds
        self.limits = limits
    }
}

/// The payload of an `ok`: the optional fields a request's answer carries.
public struct LatticeOK: Sendable, Hashable {
    public var stream: String?
    public var epoch: String?
    public var offset: Int?

    public init(stream: String? = nil, epoch: String? = nil, offset: Int? = nil) {
        self.stream = stream
        self.epoch = epoch
        self.offset = offset
    }

    /// `epoch` and `offset` together, when both are present.
    public var position: LatticePosition? {
        guard let epoch, let offset else { return nil }
        return LatticePosition(epoch: epoch, offset: offset)
    }
}

/// A message from the server, decoded.
public enum LatticeServerMessage: Sendable, Hashable {
    case welcome(LatticeWelcome)
    /// `id` is the request id when it is an integer (the client only sends integer ids).
    case ok(id: Int?, LatticeOK)
    case error(id: Int?, code: String, message: String, stream: String?)
    case event(LatticeEvent)
    case recovered(stream: String, recovered: Bool, LatticePosition)
    case presence(stream: String, members: [PresenceMember])
    case presenceDiff(stream: String, PresenceDiff)
    /// The server ended a subscription (lost access, or the stream changed class: `reconfigured`).
    case unsubscribed(stream: String, code: String, message: String)
    /// A message type this client does not know (ignored, as the protocol asks).
    case unknown(type: String)

    /// Decodes one server text message; nil when it is not a JSON object with the fields its type needs.
    public static func decode(_ text: String) -> LatticeServerMessage? {
        decode(bytes: Array(text.utf8))
    }

    public static func decode(bytes: [UInt8]) -> LatticeServerMessage? {
        guard let root = JSONSlice(bytes), let fields = root.fields() else { return nil }
        var byKey: [String: JSONSlice] = [:]
        for (k, v) in fields where byKey[k] == nil { byKey[k] = v }
        guard let type = byKey["type"]?.string else { return nil }
        let stream = byKey["stream"]?.string
        switch type {
        case "welcome":
            guard let session = byKey["session"]?.string else { return nil }
            var limits: [String: Int] = [:]
            for (k, v) in byKey["limits"]?.fields() ?? [] { if let n = v.int { limits[k] = n } }
            let identity = byKey["identity"].flatMap { decodeMember($0, metasRequired: false) }
            return .welcome(LatticeWelcome(protocolName: byKey["protocol"]?.string ?? "", session: session, identity: identity,
                                           heartbeatSeconds: byKey["heartbeatSeconds"]?.int, limits: limits))
        case "ok":
            return .ok(id: byKey["id"]?.int, LatticeOK(stream: stream, epoch: byKey["epoch"]?.string, offset: byKey["offset"]?.int))
        case "error":
            return .error(id: byKey["id"]?.int, code: byKey["code"]?.string ?? "internal",
                          message: byKey["message"]?.string ?? "", stream: stream)
        case "event":
            guard let stream, let epoch = byKey["epoch"]?.string, let offset = byKey["offset"]?.int,
                  let data = byKey["data"] else { return nil }
            return .event(LatticeEvent(stream: stream, epoch: epoch, offset: offset, data: data.raw, key: byKey["key"]?.string))
        case "recovered":
            guard let stream, let recovered = byKey["recovered"]?.bool, let epoch = byKey["epoch"]?.string,
                  let offset = byKey["offset"]?.int else { return nil }
            return .recovered(stream: stream, recovered: recovered, LatticePosition(epoch: epoch, offset: offset))
        case "presence":
            guard let stream, let members = decodeMembers(byKey["members"]) else { return nil }
            return .presence(stream: stream, members: members)
        case "presence.diff":
            guard let stream else { return nil }
            let joins = byKey["joins"].map { decodeMembers($0) } ?? []
            let leaves = byKey["leaves"].map { decodeMembers($0) } ?? []
            let updates = byKey["updates"].map { decodeMembers($0) } ?? []
            guard let joins, let leaves, let updates else { return nil }
            return .presenceDiff(stream: stream, PresenceDiff(joins: joins, leaves: leaves, updates: updates))
        case "unsubscribed":
            guard let stream else { return nil }
            return .unsubscribed(stream: stream, code: byKey["code"]?.string ?? "internal", message: byKey["message"]?.string ?? "")
        default:
            return .unknown(type: type)
        }
    }

    private static func decodeMembers(_ slice: JSONSlice?) -> [PresenceMember]? {
        guard let elements = slice?.elements() else { return nil }
        var out: [PresenceMember] = []
        for e in elements {
            guard let m = decodeMember(e, metasRequired: true) else { return nil }
            out.append(m)
        }
        return out
    }

    private static func decodeMember(_ slice: JSONSlice, metasRequired: Bool) -> PresenceMember? {
        guard let id = slice["id"]?.string else { return nil }
        var metas: [PresenceMember.Meta] = []
        if let list = slice["metas"]?.elements() {
            for m in list {
                guard let conn = m["conn"]?.string else { return nil }
                metas.append(.init(conn: conn, state: m["state"]?.raw ?? "{}"))
            }
        } else if metasRequired {
            return nil
        }
        return PresenceMember(id: id, name: slice["name"]?.string ?? id, kind: slice["kind"]?.string ?? "user", metas: metas)
    }
}
