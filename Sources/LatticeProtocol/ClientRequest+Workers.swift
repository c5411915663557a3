import NIOCore

// The worker family: a bot worker registers its capabilities, then reports on the tasks it
// was assigned (`task.assign`) by their lease: `task.progress` (also its heartbeat),
// `task.complete`, `task.fail` (the server keeps the leases in LatticeRuns' WorkerLeases).

extension ClientRequest {
    /// `{"type":"worker.register","id":…,"workspace":…,"capabilities":[…]}` with an optional
    /// `concurrency` (default 1): how many tasks the worker takes at once.
    public struct WorkerRegister: Sendable, Hashable {
        public static let concurrencyRange = 1...64
        public static let capabilityCountRange = 1...32
        /// A capability name: 1 to 64 characters of `A–Z a–z 0–9 . _ -`.
        public static let maxCapabilityLength = 64

        public var id: RequestID?
        public var workspace: String
        /// Distinct names, in the order sent.
        public var capabilities: [String]
        public var concurrency: Int

        public init(id: RequestID? = nil, workspace: String, capabilities: [String], concurrency: Int = 1) {
            self.id = id
            self.workspace = workspace
            self.capabilities = capabilities
            self.concurrency = concurrency
        }

        /// Whether `name` may name a capability.
        public static func isCapabilityName(_ name: String) -> Bool {
            (1...maxCapabilityLength).contains(name.utf8.count) && name.utf8.allSatisfy { b in
                switch b {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): true
                default: false
                }
            }
        }
    }

    /// `{"type":"task.progress","id":…,"lease":…}` with optional `data` (any JSON value): a
    /// heartbeat that extends the lease, and progress shown on the run.
    public struct TaskProgress: Sendable, Hashable {
        public var id: RequestID?
        public var lease: String
        public var data: RawJSON?

        public init(id: RequestID? = nil, lease: String, data: RawJSON? = nil) {
            self.id = id
            self.lease = lease
            self.data = data
        }
    }

    /// `{"type":"task.complete","id":…,"lease":…}` with optional `output` (any JSON value;
    /// null when absent): the node's output.
    public struct TaskComplete: Sendable, Hashable {
        public var id: RequestID?
        public var lease: String
        public var output: RawJSON?

        public init(id: RequestID? = nil, lease: String, output: RawJSON? = nil) {
            self.id = id
            self.lease = lease
            self.output = output
        }
    }

    /// `{"type":"task.fail","id":…,"lease":…,"error":…}` with optional `retryable` (default
    /// true; false fails the node at once, retries left or not).
    public struct TaskFail: Sendable, Hashable {
        public var id: RequestID?
        public var lease: String
        public var error: String
        public var retryable: Bool

        public init(id: RequestID? = nil, lease: String, error: String, retryable: Bool = true) {
            self.id = id
            self.lease = lease
            self.error = error
            self.retryable = retryable
        }
    }
}

extension RequestDecoder {
    func decodeWorkerRegister() throws(ProtocolError) -> ClientRequest.WorkerRegister {
        typealias R = ClientRequest.WorkerRegister
        try unique(.workspace, .capabilities, .concurrency)
        let workspace = try name(.workspace)
        let names = try strings(.capabilities, present(.capabilities, "array of strings"))
        guard R.capabilityCountRange.contains(names.count) else {
            throw refusal(.wrongType, "field 'capabilities' must list from \(R.capabilityCountRange.lowerBound) to \(R.capabilityCountRange.upperBound) capabilities, not \(names.count)")
        }
        var seen: Set<String> = []
        for (k, name) in names.enumerated() {
            guard R.isCapabilityName(name) else {
                let shown = name.count > 64 ? String(name.prefix(64)) + "…" : name
                throw refusal(.wrongType, "field 'capabilities[\(k)]' must be 1 to \(R.maxCapabilityLength) characters of A-Z a-z 0-9 . _ -, not '\(shown)'")
            }
            guard seen.insert(name).inserted else {
                throw refusal(.wrongType, "field 'capabilities[\(k)]' repeats '\(name)'; each capability is listed once")
            }
        }
        let concurrency = try optionalInteger(.concurrency, in: R.concurrencyRange) ?? 1
        return .init(id: id, workspace: workspace, capabilities: names, concurrency: concurrency)
    }

    func decodeTaskProgress() throws(ProtocolError) -> ClientRequest.TaskProgress {
        try unique(.lease, .data)
        return .init(id: id, lease: try name(.lease), data: optionalValue(.data))
    }

    func decodeTaskComplete() throws(ProtocolError) -> ClientRequest.TaskComplete {
        try unique(.lease, .output)
        return .init(id: id, lease: try name(.lease), output: optionalValue(.output))
    }

    func decodeTaskFail() throws(ProtocolError) -> ClientRequest.TaskFail {
        try unique(.lease, .error, .retryable)
        let lease = try name(.lease)
        return .init(id: id, lease: lease, error: try text(.error), retryable: try optionalBool(.retryable) ?? true)
    }
}

extension ClientRequest.WorkerRegister {
    /// The fields after `type` and `id`.
    func encodeFields(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(",\"workspace\":")
        buffer.writeJSONString(workspace)
        buffer.writeStaticString(",\"capabilities\":[")
        for (k, capability) in capabilities.enumerated() {
            if k > 0 { buffer.writeStaticString(",") }
            buffer.writeJSONString(capability)
        }
        buffer.writeStaticString("],\"concurrency\":")
        buffer.writeJSONInteger(concurrency)
    }
}

extension ClientRequest.TaskProgress {
    func encodeFields(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(",\"lease\":")
        buffer.writeJSONString(lease)
        if let data {
            buffer.writeStaticString(",\"data\":")
            buffer.writeRawJSON(data)
        }
    }
}

extension ClientRequest.TaskComplete {
    func encodeFields(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(",\"lease\":")
        buffer.writeJSONString(lease)
        if let output {
            buffer.writeStaticString(",\"output\":")
            buffer.writeRawJSON(output)
        }
    }
}

extension ClientRequest.TaskFail {
    func encodeFields(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(",\"lease\":")
        buffer.writeJSONString(lease)
        buffer.writeStaticString(",\"error\":")
        buffer.writeJSONString(error)
        buffer.writeStaticString(",\"retryable\":")
        buffer.writeJSONBool(retryable)
    }
}
