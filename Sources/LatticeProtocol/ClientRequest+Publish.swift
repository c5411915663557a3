import NIOCore

// The publish family: `publish` to a channel.

extension ClientRequest {
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
}

extension RequestDecoder {
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
}

extension ClientRequest.Publish {
    /// The fields after `type`, `id` and `stream`.
    func encodeFields(into buffer: inout ByteBuffer) {
        if let key {
            buffer.writeStaticString(",\"key\":")
            buffer.writeJSONString(key)
        }
        buffer.writeStaticString(",\"data\":")
        buffer.writeRawJSON(data)
    }
}
