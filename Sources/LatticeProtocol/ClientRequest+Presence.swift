import NIOCore

// The presence family: `presence.set`.

extension ClientRequest {
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
}

extension RequestDecoder {
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

extension ClientRequest.PresenceSet {
    /// The fields after `type`, `id` and `stream`.
    func encodeFields(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(",\"state\":")
        buffer.writeRawJSON(state)
    }
}
