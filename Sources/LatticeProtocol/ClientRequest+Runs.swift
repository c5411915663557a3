import NIOCore

// The run family: `run.start`, `run.cancel`, `run.approve` (docs/runs.md). The server checks
// that the definition, run and node exist; the decoder checks the shapes.

extension ClientRequest {
    /// `{"type":"run.start","id":…,"workspace":…,"definition":…}` with optional `version`
    /// (the newest when absent), `inputs` (an object) and an idempotency `key`.
    public struct RunStart: Sendable, Hashable {
        public var id: RequestID?
        public var workspace: String
        public var definition: String
        /// 1 or more.
        public var version: Int?
        /// A JSON object, as received (the executor checks its size).
        public var inputs: RawJSON?
        public var key: String?

        public init(id: RequestID? = nil, workspace: String, definition: String, version: Int? = nil,
                    inputs: RawJSON? = nil, key: String? = nil) {
            self.id = id
            self.workspace = workspace
            self.definition = definition
            self.version = version
            self.inputs = inputs
            self.key = key
        }
    }

    /// `{"type":"run.cancel","id":…,"run":…}` with an optional `reason`.
    public struct RunCancel: Sendable, Hashable {
        public var id: RequestID?
        public var run: String
        public var reason: String?

        public init(id: RequestID? = nil, run: String, reason: String? = nil) {
            self.id = id
            self.run = run
            self.reason = reason
        }
    }

    /// `{"type":"run.approve","id":…,"run":…,"approved":true|false}` with optional `node` (left
    /// out when only one approval waits) and `comment`.
    public struct RunApprove: Sendable, Hashable {
        public var id: RequestID?
        public var run: String
        public var node: String?
        public var approved: Bool
        public var comment: String?

        public init(id: RequestID? = nil, run: String, node: String? = nil, approved: Bool, comment: String? = nil) {
            self.id = id
            self.run = run
            self.node = node
            self.approved = approved
            self.comment = comment
        }
    }
}

extension RequestDecoder {
    func decodeRunStart() throws(ProtocolError) -> ClientRequest.RunStart {
        try unique(.workspace, .definition, .version, .inputs, .key)
        let workspace = try name(.workspace)
        let definition = try name(.definition)
        let version = try optionalInteger(.version, in: 1...Int.max)
        let inputs = try optionalObject(.inputs)
        var key: String?
        if slots.key.present {
            key = try string(.key, slots.key, maxBytes: limits.maxKeyBytes, allowEmpty: false)
        }
        return .init(id: id, workspace: workspace, definition: definition, version: version, inputs: inputs, key: key)
    }

    func decodeRunCancel() throws(ProtocolError) -> ClientRequest.RunCancel {
        try unique(.run, .reason)
        return .init(id: id, run: try name(.run), reason: try optionalText(.reason))
    }

    func decodeRunApprove() throws(ProtocolError) -> ClientRequest.RunApprove {
        try unique(.run, .node, .approved, .comment)
        let run = try name(.run)
        let node = try optionalName(.node)
        return .init(id: id, run: run, node: node, approved: try bool(.approved), comment: try optionalText(.comment))
    }
}

extension ClientRequest.RunStart {
    /// The fields after `type` and `id`.
    func encodeFields(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(",\"workspace\":")
        buffer.writeJSONString(workspace)
        buffer.writeStaticString(",\"definition\":")
        buffer.writeJSONString(definition)
        if let version {
            buffer.writeStaticString(",\"version\":")
            buffer.writeJSONInteger(version)
        }
        if let inputs {
            buffer.writeStaticString(",\"inputs\":")
            buffer.writeRawJSON(inputs)
        }
        if let key {
            buffer.writeStaticString(",\"key\":")
            buffer.writeJSONString(key)
        }
    }
}

extension ClientRequest.RunCancel {
    func encodeFields(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(",\"run\":")
        buffer.writeJSONString(run)
        if let reason {
            buffer.writeStaticString(",\"reason\":")
            buffer.writeJSONString(reason)
        }
    }
}

extension ClientRequest.RunApprove {
    func encodeFields(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(",\"run\":")
        buffer.writeJSONString(run)
        if let node {
            buffer.writeStaticString(",\"node\":")
            buffer.writeJSONString(node)
        }
        buffer.writeStaticString(",\"approved\":")
        buffer.writeJSONBool(approved)
        if let comment {
            buffer.writeStaticString(",\"comment\":")
            buffer.writeJSONString(comment)
        }
    }
}
