public import NIOCore

/// The protocol's name, as negotiated in `Sec-WebSocket-Protocol` and sent in `welcome`.
public enum ProtocolVersion {
    public static let v1 = "lattice.v1"
}

/// A lattice.v1 request from a client, decoded from one text message.
public enum ClientRequest: Sendable, Hashable {
    case subscribe(Subscribe)
    case unsubscribe(Unsubscribe)
    case publish(Publish)
    case presenceSet(PresenceSet)
    case ping(Ping)

    /// `{"type":"subscribe","id":…,"stream":…}` with optional `since` or `snapshot: true`.
    public struct Subscribe: Sendable, Hashable {
        public var id: RequestID?
        public var stream: StreamName
        /// Resume after this position (never together with `snapshot`).
        public var since: StreamPosition?
        /// Ask for a snapshot then live events (documents; reserved).
        public var snapshot: Bool

        public init(id: RequestID? = nil, stream: StreamName, since: StreamPosition? = nil, snapshot: Bool = false) {
            self.id = id
            self.stream = stream
            self.since = since
            self.snapshot = snapshot
        }
    }

    /// `{"type":"unsubscribe","id":…,"stream":…}`.
    public struct Unsubscribe: Sendable, Hashable {
        public var id: RequestID?
        public var stream: StreamName

        public init(id: RequestID? = nil, stream: StreamName) {
            self.id = id
            self.stream = stream
        }
    }

    /// `{"type":"publish","id":…,"stream":…,"data":…}` with an optional coalescing `key`.
    /// The stream is always a channel (the decoder answers `not_publishable` otherwise).
    public struct Publish: Sendable, Hashable {
        public var id: RequestID?
        public var stream: StreamName
        /// Any JSON value, as received.
        public var data: RawJSON
        public var key: String?

        public init(id: RequestID? = nil, stream: StreamName, data: RawJSON, key: String? = nil) {
            self.id = id
            self.stream = stream
            self.data = data
            self.key = key
        }
    }

    /// `{"type":"presence.set","id":…,"stream":…,"state":{…}}`.
    public struct PresenceSet: Sendable, Hashable {
        public var id: RequestID?
        public var stream: StreamName
        /// A JSON object, as received.
        public var state: RawJSON

        public init(id: RequestID? = nil, stream: StreamName, state: RawJSON) {
            self.id = id
            self.stream = stream
            self.state = state
        }
    }

    /// `{"type":"ping","id":…}`.
    public struct Ping: Sendable, Hashable {
        public var id: RequestID?

        public init(id: RequestID? = nil) {
            self.id = id
        }
    }

    /// The request's `id`, if it has one.
    public var id: RequestID? {
        switch self {
        case .subscribe(let r): r.id
        case .unsubscribe(let r): r.id
        case .publish(let r): r.id
        case .presenceSet(let r): r.id
        case .ping(let r): r.id
        }
    }

    /// The same request with another `id` (a client numbers its requests as it sends them).
    public func with(id: RequestID?) -> ClientRequest {
        switch self {
        case .subscribe(var r): r.id = id; return .subscribe(r)
        case .unsubscribe(var r): r.id = id; return .unsubscribe(r)
        case .publish(var r): r.id = id; return .publish(r)
        case .presenceSet(var r): r.id = id; return .presenceSet(r)
        case .ping(var r): r.id = id; return .ping(r)
        }
    }

    /// The stream the request is about (all but `ping`).
    public var stream: StreamName? {
        switch self {
        case .subscribe(let r): r.stream
        case .unsubscribe(let r): r.stream
        case .publish(let r): r.stream
        case .presenceSet(let r): r.stream
        case .ping: nil
        }
    }

    /// The `type` as on the wire.
    public var type: String {
        switch self {
        case .subscribe: "subscribe"
        case .unsubscribe: "unsubscribe"
        case .publish: "publish"
        case .presenceSet: "presence.set"
        case .ping: "ping"
        }
    }
}

// MARK: - Decoding

extension ClientRequest {
    /// Decodes one request from the bytes of a text message (the buffer's readable bytes;
    /// it is not consumed). `data`, `state` and `id` in the result are slices of `message`
    /// (no copy). On failure the error carries the request's `id` whenever it could be read,
    /// and its stream when that was read and valid. docs/protocol.md lists the checks in order.
    public static func decode(_ message: ByteBuffer, limits: ProtocolLimits = ProtocolLimits()) -> Result<ClientRequest, ProtocolError> {
        if message.readableBytes > limits.maxMessageBytes {
            return .failure(ProtocolError(.tooLarge, "the message is \(message.readableBytes) bytes; the limit is \(limits.maxMessageBytes)"))
        }
        return message.withUnsafeReadableBytes { raw in
            var decoder = RequestDecoder(raw: raw, message: message, limits: limits)
            return decoder.decode()
        }
    }

    /// Decodes one request from a string (tests, tools).
    public static func decode(_ text: String, limits: ProtocolLimits = ProtocolLimits()) -> Result<ClientRequest, ProtocolError> {
        decode(ByteBuffer(string: text), limits: limits)
    }
}

/// The top-level fields a request may use.
private enum Field: CaseIterable {
    case id, type, stream, since, snapshot, data, key, state

    var name: String {
        switch self {
        case .id: "id"
        case .type: "type"
        case .stream: "stream"
        case .since: "since"
        case .snapshot: "snapshot"
        case .data: "data"
        case .key: "key"
        case .state: "state"
        }
    }
}

/// Where a field's value is in the message.
private struct Slot {
    var range: Range<Int> = 0..<0
    var kind: JSONValueKind = .null
    var present = false
    var duplicate = false

    mutating func record(_ range: Range<Int>, _ kind: JSONValueKind) {
        if present { duplicate = true }
        self.range = range
        self.kind = kind
        present = true
    }
}

private struct Slots {
    var id = Slot(), type = Slot(), stream = Slot(), since = Slot(), snapshot = Slot(), data = Slot(), key = Slot(), state = Slot()

    subscript(field: Field) -> Slot {
        get {
            switch field {
            case .id: id
            case .type: type
            case .stream: stream
            case .since: since
            case .snapshot: snapshot
            case .data: data
            case .key: key
            case .state: state
            }
        }
        set {
            switch field {
            case .id: id = newValue
            case .type: type = newValue
            case .stream: stream = newValue
            case .since: since = newValue
            case .snapshot: snapshot = newValue
            case .data: data = newValue
            case .key: key = newValue
            case .state: state = newValue
            }
        }
    }
}

@inline(__always)
private func matches(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
    guard range.count == literal.utf8CodeUnitCount else { return false }
    let p = literal.utf8Start
    var k = 0
    for i in range {
        if raw[i] != p[k] { return false }
        k += 1
    }
    return true
}

private struct RequestDecoder {
    let raw: UnsafeRawBufferPointer
    let message: ByteBuffer
    let limits: ProtocolLimits
    var slots = Slots()
    var id: RequestID?
    var stream: StreamName?

    init(raw: UnsafeRawBufferPointer, message: ByteBuffer, limits: ProtocolLimits) {
        self.raw = raw
        self.message = message
        self.limits = limits
    }

    static func field(_ raw: UnsafeRawBufferPointer, _ key: Range<Int>, escaped: Bool) -> Field? {
        if escaped {
            let name = JSONScanner.decodeString(raw, key, escaped: true)
            return Field.allCases.first { $0.name == name }
        }
        switch key.count {
        case 2: return matches(raw, key, "id") ? .id : nil
        case 3: return matches(raw, key, "key") ? .key : nil
        case 4: return matches(raw, key, "type") ? .type : matches(raw, key, "data") ? .data : nil
        case 5: return matches(raw, key, "since") ? .since : matches(raw, key, "state") ? .state : nil
        case 6: return matches(raw, key, "stream") ? .stream : nil
        case 8: return matches(raw, key, "snapshot") ? .snapshot : nil
        default: return nil
        }
    }

    func fail(_ code: ErrorCode, _ text: String) -> Result<ClientRequest, ProtocolError> {
        .failure(ProtocolError(code, text, id: id, stream: stream))
    }

    func slice(_ range: Range<Int>) -> ByteBuffer {
        message.getSlice(at: message.readerIndex + range.lowerBound, length: range.count)!
    }

    /// The content range of a string value and whether it has escapes.
    func stringContent(_ slot: Slot) -> (Range<Int>, Bool) {
        let content = slot.range.lowerBound + 1..<slot.range.upperBound - 1
        var escaped = false
        for i in content where raw[i] == UInt8(ascii: "\\") {
            escaped = true
            break
        }
        return (content, escaped)
    }

    func string(_ slot: Slot) -> String {
        let (content, escaped) = stringContent(slot)
        return JSONScanner.decodeString(raw, content, escaped: escaped)
    }

    mutating func decode() -> Result<ClientRequest, ProtocolError> {
        var scanner = JSONScanner(raw, maxDepth: limits.maxDepth)
        do throws(JSONSyntaxError) {
            scanner.skipWhitespace()
            if scanner.index < raw.count, raw[scanner.index] == UInt8(ascii: "{") {
                let raw = self.raw
                try scanner.members(depth: 1) { key, escaped, range, kind in
                    if let field = Self.field(raw, key, escaped: escaped) {
                        slots[field].record(range, kind)
                    }
                }
                try scanner.end()
            } else {
                let kind = try scanner.value(depth: 0)
                try scanner.end()
                return fail(.notObject, "the message is \(kind.name), not a JSON object")
            }
        } catch {
            switch error.reason {
            case .tooDeep:
                return fail(.tooLarge, "the message nests arrays and objects deeper than \(limits.maxDepth) levels")
            case .numberOutOfRange:
                return fail(.tooLarge, "the number at byte \(error.offset) is beyond the range of a 64-bit float")
            default:
                break
            }
            return fail(.badJSON, error.message)
        }

        // id
        if slots.id.present {
            guard slots.id.kind == .number || slots.id.kind == .string else {
                return fail(.wrongType, "field 'id' must be a number or a string, not \(slots.id.kind.name)")
            }
            if slots.id.duplicate { return fail(.duplicateField, "field 'id' appears more than once") }
            id = RequestID(raw: RawJSON(trusted: slice(slots.id.range)))
        }

        // type
        guard slots.type.present else { return fail(.missingField, "field 'type' (string) is required") }
        guard slots.type.kind == .string else {
            return fail(.wrongType, "field 'type' must be a string, not \(slots.type.kind.name)")
        }
        if slots.type.duplicate { return fail(.duplicateField, "field 'type' appears more than once") }
        let (typeRange, typeEscaped) = stringContent(slots.type)
        let type: String
        if typeEscaped {
            type = JSONScanner.decodeString(raw, typeRange, escaped: true)
        } else if matches(raw, typeRange, "publish") {
            return decodePublish()
        } else if matches(raw, typeRange, "subscribe") {
            return decodeSubscribe()
        } else if matches(raw, typeRange, "ping") {
            return .success(.ping(.init(id: id)))
        } else if matches(raw, typeRange, "presence.set") {
            return decodePresenceSet()
        } else if matches(raw, typeRange, "unsubscribe") {
            return decodeUnsubscribe()
        } else {
            type = JSONScanner.decodeString(raw, typeRange, escaped: false)
        }
        switch type {
        case "publish": return decodePublish()
        case "subscribe": return decodeSubscribe()
        case "ping": return .success(.ping(.init(id: id)))
        case "presence.set": return decodePresenceSet()
        case "unsubscribe": return decodeUnsubscribe()
        default:
            let shown = type.count > 64 ? String(type.prefix(64)) + "…" : type
            return fail(.unknownType, "unknown request type '\(shown)' (expected subscribe, unsubscribe, publish, presence.set or ping)")
        }
    }

    /// Checks that none of `fields` is repeated, then reads `stream`.
    mutating func readStream(using a: Field, _ b: Field? = nil, _ c: Field? = nil) -> ProtocolError? {
        func duplicate(_ field: Field?) -> ProtocolError? {
            guard let field, slots[field].duplicate else { return nil }
            return ProtocolError(.duplicateField, "field '\(field.name)' appears more than once", id: id)
        }
        if let error = duplicate(a) ?? duplicate(b) ?? duplicate(c) { return error }
        guard slots.stream.present else { return ProtocolError(.missingField, "field 'stream' (string) is required", id: id) }
        guard slots.stream.kind == .string else {
            return ProtocolError(.wrongType, "field 'stream' must be a string, not \(slots.stream.kind.name)", id: id)
        }
        let (content, escaped) = stringContent(slots.stream)
        // A name over the limit is refused before it is decoded (an escape is at least 1 byte).
        if content.count > limits.maxStreamNameBytes * 6 {
            return ProtocolError(.invalidStream, "stream name is over \(limits.maxStreamNameBytes) bytes (the limit)", id: id)
        }
        switch StreamName.parse(JSONScanner.decodeString(raw, content, escaped: escaped), maxBytes: limits.maxStreamNameBytes) {
        case .success(let name):
            stream = name
            return nil
        case .failure(var error):
            error.id = id
            return error
        }
    }

    mutating func decodeSubscribe() -> Result<ClientRequest, ProtocolError> {
        if let error = readStream(using: .stream, .since, .snapshot) { return .failure(error) }
        var snapshot = false
        if slots.snapshot.present {
            guard slots.snapshot.kind == .bool else {
                return fail(.wrongType, "field 'snapshot' must be a boolean, not \(slots.snapshot.kind.name)")
            }
            snapshot = raw[slots.snapshot.range.lowerBound] == UInt8(ascii: "t")
        }
        var since: StreamPosition?
        if slots.since.present {
            switch readSince() {
            case .success(let position): since = position
            case .failure(let error): return .failure(error)
            }
            if snapshot {
                return fail(.conflictingFields, "fields 'since' and 'snapshot: true' exclude each other")
            }
        }
        return .success(.subscribe(.init(id: id, stream: stream!, since: since, snapshot: snapshot)))
    }

    func readSince() -> Result<StreamPosition, ProtocolError> {
        let since = slots.since
        guard since.kind == .object else {
            return .failure(ProtocolError(.wrongType, "field 'since' must be an object {\"epoch\": string, \"offset\": integer}, not \(since.kind.name)", id: id, stream: stream))
        }
        var epoch = Slot()
        var offset = Slot()
        var scanner = JSONScanner(raw, maxDepth: Int.max, start: since.range.lowerBound)
        let raw = self.raw
        // Already validated as part of the message: this cannot fail.
        try? scanner.members(depth: 1) { key, escaped, range, kind in
            let name = escaped ? JSONScanner.decodeString(raw, key, escaped: true) : nil
            if name == "epoch" || matches(raw, key, "epoch") {
                epoch.record(range, kind)
            } else if name == "offset" || matches(raw, key, "offset") {
                offset.record(range, kind)
            }
        }
        func failure(_ code: ErrorCode, _ text: String) -> Result<StreamPosition, ProtocolError> {
            .failure(ProtocolError(code, text, id: id, stream: stream))
        }
        if epoch.duplicate { return failure(.duplicateField, "field 'since.epoch' appears more than once") }
        if offset.duplicate { return failure(.duplicateField, "field 'since.offset' appears more than once") }
        guard epoch.present else { return failure(.missingField, "field 'since.epoch' (string) is required") }
        guard epoch.kind == .string else {
            return failure(.wrongType, "field 'since.epoch' must be a string, not \(epoch.kind.name)")
        }
        guard offset.present else { return failure(.missingField, "field 'since.offset' (integer ≥ 0) is required") }
        guard offset.kind == .number, let value = nonNegativeInteger(offset.range) else {
            return failure(.wrongType, "field 'since.offset' must be an integer from 0 to \(Int.max), not \(offset.kind == .number ? String(buffer: slice(offset.range)) : offset.kind.name)")
        }
        return .success(StreamPosition(epoch: StreamEpoch(string(epoch)), offset: UInt64(value)))
    }

    /// Digits only (no sign, fraction or exponent), at most `Int.max`.
    func nonNegativeInteger(_ range: Range<Int>) -> Int? {
        var value = 0
        for i in range {
            let digit = raw[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(digit))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    mutating func decodeUnsubscribe() -> Result<ClientRequest, ProtocolError> {
        if let error = readStream(using: .stream) { return .failure(error) }
        return .success(.unsubscribe(.init(id: id, stream: stream!)))
    }

    mutating func decodePublish() -> Result<ClientRequest, ProtocolError> {
        if let error = readStream(using: .stream, .data, .key) { return .failure(error) }
        let stream = stream!
        guard stream.isPublishable else {
            return fail(.notPublishable, "only channel streams accept publish; '\(stream)' is a \(stream.kind.rawValue) stream")
        }
        guard slots.data.present else { return fail(.missingField, "field 'data' (any JSON value) is required") }
        var key: String?
        if slots.key.present {
            guard slots.key.kind == .string else {
                return fail(.wrongType, "field 'key' must be a string, not \(slots.key.kind.name)")
            }
            let text = string(slots.key)
            if text.utf8.count > limits.maxKeyBytes {
                return fail(.tooLarge, "field 'key' is \(text.utf8.count) bytes; the limit is \(limits.maxKeyBytes)")
            }
            key = text
        }
        return .success(.publish(.init(id: id, stream: stream, data: RawJSON(trusted: slice(slots.data.range)), key: key)))
    }

    mutating func decodePresenceSet() -> Result<ClientRequest, ProtocolError> {
        if let error = readStream(using: .stream, .state) { return .failure(error) }
        guard slots.state.present else { return fail(.missingField, "field 'state' (object) is required") }
        guard slots.state.kind == .object else {
            return fail(.wrongType, "field 'state' must be an object, not \(slots.state.kind.name)")
        }
        if slots.state.range.count > limits.maxPresenceStateBytes {
            return fail(.tooLarge, "field 'state' is \(slots.state.range.count) bytes; the limit is \(limits.maxPresenceStateBytes)")
        }
        return .success(.presenceSet(.init(id: id, stream: stream!, state: RawJSON(trusted: slice(slots.state.range)))))
    }
}

// MARK: - Encoding (clients, tests, tools)

extension ClientRequest {
    /// Writes the request as lattice.v1 JSON (what a client sends): the one encoder of
    /// requests, so that clients never build request text by hand. `decode` reads it back.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"type\":")
        buffer.writeJSONString(type)
        if let id {
            buffer.writeStaticString(",\"id\":")
            buffer.writeRawJSON(id.raw)
        }
        if let stream {
            buffer.writeStaticString(",\"stream\":")
            buffer.writeJSONString(stream.name)
        }
        switch self {
        case .subscribe(let r):
            if let since = r.since {
                buffer.writeStaticString(",\"since\":{\"epoch\":")
                buffer.writeJSONString(since.epoch.rawValue)
                buffer.writeStaticString(",\"offset\":")
                buffer.writeJSONInteger(since.offset)
                buffer.writeStaticString("}")
            }
            if r.snapshot { buffer.writeStaticString(",\"snapshot\":true") }
        case .publish(let r):
            if let key = r.key {
                buffer.writeStaticString(",\"key\":")
                buffer.writeJSONString(key)
            }
            buffer.writeStaticString(",\"data\":")
            buffer.writeRawJSON(r.data)
        case .presenceSet(let r):
            buffer.writeStaticString(",\"state\":")
            buffer.writeRawJSON(r.state)
        case .unsubscribe, .ping:
            break
        }
        buffer.writeStaticString("}")
    }

    /// The request as a new buffer (what a client sends as one text message).
    public var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return buffer
    }
}
