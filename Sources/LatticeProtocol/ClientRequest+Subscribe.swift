import NIOCore

// The subscribe family: `subscribe` (with `since` or `snapshot`) and `unsubscribe`.

extension ClientRequest {
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
}

extension RequestDecoder {
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
        var epoch = RequestSlot()
        var offset = RequestSlot()
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
}

extension ClientRequest.Subscribe {
    /// The fields after `type`, `id` and `stream`.
    func encodeFields(into buffer: inout ByteBuffer) {
        if let since {
            buffer.writeStaticString(",\"since\":{\"epoch\":")
            buffer.writeJSONString(since.epoch.rawValue)
            buffer.writeStaticString(",\"offset\":")
            buffer.writeJSONInteger(since.offset)
            buffer.writeStaticString("}")
        }
        if snapshot { buffer.writeStaticString(",\"snapshot\":true") }
    }
}
