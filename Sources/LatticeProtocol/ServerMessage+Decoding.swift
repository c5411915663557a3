public import NIOCore

extension ServerMessage {
    /// Decodes one server message from the bytes of a text message (the buffer's readable bytes;
    /// it is not consumed). `data`, `state` and `id` are slices of `message` (no copy). An unknown
    /// `type` decodes as `.unknown`. Malformed input fails with the code of the first problem:
    /// `bad_json`, `too_large` (nesting), `not_object`, `missing_field`, `wrong_type`,
    /// `duplicate_field` (a field read twice) or `invalid_stream`.
    public static func decode(_ message: ByteBuffer) -> Result<ServerMessage, ProtocolError> {
        message.withUnsafeReadableBytes { raw in
            let reader = MessageReader(raw: raw, message: message)
            do throws(ProtocolError) {
                return .success(try reader.decode())
            } catch {
                return .failure(error)
            }
        }
    }

    /// Decodes one server message from a string (tests, tools).
    public static func decode(_ text: String) -> Result<ServerMessage, ProtocolError> {
        decode(ByteBuffer(string: text))
    }
}

/// The deepest nesting a server message may have: a presence state nested as deep as the
/// request limit allows sits 5 levels down (message, members, member, metas, meta).
private let maxServerMessageDepth = ProtocolLimits.defaultMaxDepth + 8

/// The members of one JSON object of a message, by name (first occurrence; repeats noted).
private struct ObjectReader {
    let raw: UnsafeRawBufferPointer
    let message: ByteBuffer
    /// How the object is named in errors: "" for the message, "identity." for a nested one.
    let path: String
    var fields: [String: (range: Range<Int>, kind: JSONValueKind)] = [:]
    var repeated: Set<String> = []

    /// Reads the members of the (already validated) object at `start`.
    init(raw: UnsafeRawBufferPointer, message: ByteBuffer, objectAt start: Int, path: String) {
        self.raw = raw
        self.message = message
        self.path = path
        var scanner = JSONScanner(raw, maxDepth: Int.max, start: start)
        var fields: [String: (range: Range<Int>, kind: JSONValueKind)] = [:]
        var repeated: Set<String> = []
        try? scanner.members(depth: 1) { key, escaped, range, kind in
            let name = JSONScanner.decodeString(raw, key, escaped: escaped)
            if fields[name] != nil { repeated.insert(name) } else { fields[name] = (range, kind) }
        }
        self.fields = fields
        self.repeated = repeated
    }

    func fail(_ code: ErrorCode, _ text: String) -> ProtocolError {
        ProtocolError(code, text)
    }

    /// The field's slot, nil when absent; repeated fields fail.
    func slot(_ name: String) throws(ProtocolError) -> (range: Range<Int>, kind: JSONValueKind)? {
        if repeated.contains(name) { throw fail(.duplicateField, "field '\(path)\(name)' appears more than once") }
        return fields[name]
    }

    func required(_ name: String, _ what: String) throws(ProtocolError) -> (range: Range<Int>, kind: JSONValueKind) {
        guard let slot = try slot(name) else { throw fail(.missingField, "field '\(path)\(name)' (\(what)) is required") }
        return slot
    }

    func expect(_ name: String, _ slot: (range: Range<Int>, kind: JSONValueKind), _ kind: JSONValueKind) throws(ProtocolError) {
        guard slot.kind == kind else {
            throw fail(.wrongType, "field '\(path)\(name)' must be \(kind.name), not \(slot.kind.name)")
        }
    }

    func decodeString(_ range: Range<Int>) -> String {
        let content = range.lowerBound + 1..<range.upperBound - 1
        let escaped = raw[content].contains(UInt8(ascii: "\\"))
        return JSONScanner.decodeString(raw, content, escaped: escaped)
    }

    func slice(_ range: Range<Int>) -> RawJSON {
        RawJSON(trusted: message.getSlice(at: message.readerIndex + range.lowerBound, length: range.count)!)
    }

    func string(_ name: String) throws(ProtocolError) -> String {
        let slot = try required(name, "string")
        try expect(name, slot, .string)
        return decodeString(slot.range)
    }

    func optionalString(_ name: String) throws(ProtocolError) -> String? {
        guard let slot = try slot(name) else { return nil }
        try expect(name, slot, .string)
        return decodeString(slot.range)
    }

    func bool(_ name: String) throws(ProtocolError) -> Bool {
        let slot = try required(name, "boolean")
        try expect(name, slot, .bool)
        return raw[slot.range.lowerBound] == UInt8(ascii: "t")
    }

    /// An integer from 0 to `Int.max` (digits only).
    func integer(_ name: String) throws(ProtocolError) -> Int {
        let slot = try required(name, "integer ≥ 0")
        return try integer(name, slot)
    }

    func optionalInteger(_ name: String) throws(ProtocolError) -> Int? {
        guard let slot = try slot(name) else { return nil }
        return try integer(name, slot)
    }

    func integer(_ name: String, _ slot: (range: Range<Int>, kind: JSONValueKind)) throws(ProtocolError) -> Int {
        try expect(name, slot, .number)
        var value = 0
        for i in slot.range {
            let digit = raw[i] &- UInt8(ascii: "0")
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(digit))
            guard digit < 10, !o1, !o2 else {
                throw fail(.wrongType, "field '\(path)\(name)' must be an integer from 0 to \(Int.max), not \(slice(slot.range))")
            }
            value = sum
        }
        return value
    }

    /// A stream offset: an integer from 0 to `UInt64.max` (digits only).
    func offset(_ name: String = "offset") throws(ProtocolError) -> UInt64 {
        try offset(name, try required(name, "integer ≥ 0"))
    }

    func optionalOffset(_ name: String = "offset") throws(ProtocolError) -> UInt64? {
        guard let slot = try slot(name) else { return nil }
        return try offset(name, slot)
    }

    func offset(_ name: String, _ slot: (range: Range<Int>, kind: JSONValueKind)) throws(ProtocolError) -> UInt64 {
        try expect(name, slot, .number)
        var value: UInt64 = 0
        for i in slot.range {
            let digit = raw[i] &- UInt8(ascii: "0")
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
            guard digit < 10, !o1, !o2 else {
                throw fail(.wrongType, "field '\(path)\(name)' must be an integer from 0 to \(UInt64.max), not \(slice(slot.range))")
            }
            value = sum
        }
        return value
    }

    func epoch(_ name: String = "epoch") throws(ProtocolError) -> StreamEpoch { StreamEpoch(try string(name)) }

    func rawValue(_ name: String) throws(ProtocolError) -> RawJSON {
        slice(try required(name, "any JSON value").range)
    }

    /// An optional JSON object, as sent.
    func optionalObject(_ name: String) throws(ProtocolError) -> RawJSON? {
        guard let slot = try slot(name) else { return nil }
        try expect(name, slot, .object)
        return slice(slot.range)
    }

    func object(_ name: String) throws(ProtocolError) -> ObjectReader {
        let slot = try required(name, "object")
        try expect(name, slot, .object)
        return ObjectReader(raw: raw, message: message, objectAt: slot.range.lowerBound, path: path + name + ".")
    }

    /// The elements of an array of objects.
    func objects(_ name: String) throws(ProtocolError) -> [ObjectReader] {
        let slot = try required(name, "array")
        try expect(name, slot, .array)
        var ranges: [(Range<Int>, JSONValueKind)] = []
        var scanner = JSONScanner(raw, maxDepth: Int.max, start: slot.range.lowerBound)
        try? scanner.elements(depth: 1) { range, kind in ranges.append((range, kind)) }
        var out: [ObjectReader] = []
        out.reserveCapacity(ranges.count)
        for (k, (range, kind)) in ranges.enumerated() {
            guard kind == .object else {
                throw fail(.wrongType, "field '\(path)\(name)[\(k)]' must be an object, not \(kind.name)")
            }
            out.append(ObjectReader(raw: raw, message: message, objectAt: range.lowerBound, path: "\(path)\(name)[\(k)]."))
        }
        return out
    }

    func stream(_ name: String = "stream") throws(ProtocolError) -> StreamName {
        try streamName(name, string(name))
    }

    func optionalStream(_ name: String = "stream") throws(ProtocolError) -> StreamName? {
        try optionalString(name).map { (text) throws(ProtocolError) in try streamName(name, text) }
    }

    func streamName(_ name: String, _ text: String) throws(ProtocolError) -> StreamName {
        switch StreamName.parse(text, maxBytes: Int.max) {
        case .success(let stream): return stream
        case .failure(let error): throw fail(.invalidStream, "field '\(path)\(name)': \(error.message)")
        }
    }

    func requestID(_ name: String = "id") throws(ProtocolError) -> RequestID? {
        guard let slot = try slot(name) else { return nil }
        guard slot.kind == .number || slot.kind == .string else {
            throw fail(.wrongType, "field '\(path)\(name)' must be a number or a string, not \(slot.kind.name)")
        }
        return RequestID(raw: slice(slot.range))
    }

    func identity() throws(ProtocolError) -> Identity {
        let kindName = try string("kind")
        guard let kind = Identity.Kind(rawValue: kindName) else {
            throw fail(.wrongType, "field '\(path)kind' must be one of \(Identity.Kind.allCases.map(\.rawValue)), not '\(kindName)'")
        }
        return Identity(id: try string("id"), name: try string("name"), kind: kind)
    }

    func members(_ name: String) throws(ProtocolError) -> [ServerMessage.Member] {
        var out: [ServerMessage.Member] = []
        for member in try objects(name) {
            var metas: [ServerMessage.Meta] = []
            for meta in try member.objects("metas") {
                let state = try meta.required("state", "object")
                try meta.expect("state", state, .object)
                metas.append(ServerMessage.Meta(conn: try meta.string("conn"), state: meta.slice(state.range)))
            }
            out.append(ServerMessage.Member(identity: try member.identity(), metas: metas))
        }
        return out
    }
}

private struct MessageReader {
    let raw: UnsafeRawBufferPointer
    let message: ByteBuffer

    func decode() throws(ProtocolError) -> ServerMessage {
        var scanner = JSONScanner(raw, maxDepth: maxServerMessageDepth)
        let kind: JSONValueKind
        let start: Int
        do throws(JSONSyntaxError) {
            scanner.skipWhitespace()
            start = scanner.index
            kind = try scanner.value(depth: 0)
            try scanner.end()
        } catch {
            switch error.reason {
            case .tooDeep: throw ProtocolError(.tooLarge, "the message nests arrays and objects deeper than \(maxServerMessageDepth) levels")
            default: throw ProtocolError(.badJSON, error.message)
            }
        }
        guard kind == .object else { throw ProtocolError(.notObject, "the message is \(kind.name), not a JSON object") }
        let m = ObjectReader(raw: raw, message: message, objectAt: start, path: "")
        switch try m.string("type") {
        case "welcome":
            let identity = try m.object("identity")
            let limits = try m.object("limits")
            return .welcome(ServerMessage.Welcome(
                protocolName: try m.string("protocol"), session: try m.string("session"), identity: try identity.identity(),
                limits: ProtocolLimits(
                    maxMessageBytes: try limits.integer("maxMessageBytes"), maxSubscriptions: try limits.integer("maxSubscriptions"),
                    maxStreamNameBytes: try limits.integer("maxStreamNameBytes"),
                    maxPresenceStateBytes: try limits.integer("maxPresenceStateBytes")),
                heartbeatSeconds: try m.integer("heartbeatSeconds")))
        case "ok":
            return .ok(ServerMessage.OK(
                id: try m.requestID(), stream: try m.optionalStream(), epoch: try m.optionalString("epoch").map { StreamEpoch($0) },
                offset: try m.optionalOffset(), run: try m.optionalObject("run")))
        case "error":
            return .error(ProtocolError(
                ErrorCode(rawValue: try m.string("code")), try m.string("message"), id: try m.requestID(), stream: try m.optionalStream()))
        case "event":
            return .event(ServerMessage.Event(
                stream: try m.stream(), epoch: try m.epoch(), offset: try m.offset(),
                key: try m.optionalString("key"), data: try m.rawValue("data")))
        case "recovered":
            return .recovered(ServerMessage.Recovered(
                stream: try m.stream(), recovered: try m.bool("recovered"), epoch: try m.epoch(), offset: try m.offset()))
        case "presence":
            return .presence(ServerMessage.Presence(stream: try m.stream(), members: try m.members("members")))
        case "presence.diff":
            return .presenceDiff(ServerMessage.PresenceDiff(
                stream: try m.stream(), joins: try m.members("joins"), leaves: try m.members("leaves"), updates: try m.members("updates")))
        case "unsubscribed":
            return .unsubscribed(ServerMessage.Unsubscribed(
                stream: try m.stream(), code: ErrorCode(rawValue: try m.string("code")), message: try m.string("message")))
        case "snapshot":
            return .snapshot(ServerMessage.Snapshot(
                stream: try m.stream(), epoch: try m.epoch(), offset: try m.offset(), data: try m.rawValue("data")))
        case "task.assign":
            return .taskAssign(ServerMessage.TaskAssign(
                lease: try m.string("lease"), run: try m.string("run"), node: try m.string("node"), attempt: try m.integer("attempt"),
                capability: try m.string("capability"), input: try m.rawValue("input"), expiresAt: Int64(try m.integer("expiresAt"))))
        case "task.cancel":
            return .taskCancel(ServerMessage.TaskCancel(
                lease: try m.string("lease"), run: try m.string("run"), node: try m.string("node"), reason: try m.string("reason")))
        case let type:
            return .unknown(type: type)
        }
    }
}
