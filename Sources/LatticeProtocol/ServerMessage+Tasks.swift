public import NIOCore

// What the server sends a bot worker: `task.assign` (a task leased to it) and `task.cancel`
// (stop it; the lease has ended). The answer to a run request is an `ok` carrying the run's
// row (`ServerMessage.ok(id:…, run:)`).

extension ServerMessage {
    /// `task.assign`: the worker holds the lease until `expiresAt` (milliseconds since 1970),
    /// which each `task.progress` moves on.
    public struct TaskAssign: Sendable, Hashable {
        public var lease: String
        public var run: String
        public var node: String
        public var attempt: Int
        public var capability: String
        /// The node's input, JSON as the server wrote it.
        public var input: RawJSON
        public var expiresAt: Int64

        public init(lease: String, run: String, node: String, attempt: Int, capability: String, input: RawJSON, expiresAt: Int64) {
            self.lease = lease
            self.run = run
            self.node = node
            self.attempt = attempt
            self.capability = capability
            self.input = input
            self.expiresAt = expiresAt
        }
    }

    /// `task.cancel`: stop the task; reports on its lease are refused from now on.
    public struct TaskCancel: Sendable, Hashable {
        public var lease: String
        public var run: String
        public var node: String
        public var reason: String

        public init(lease: String, run: String, node: String, reason: String) {
            self.lease = lease
            self.run = run
            self.node = node
            self.reason = reason
        }
    }

    /// `{"type":"task.assign","lease":…,"run":…,"node":…,"attempt":N,"capability":…,"input":…,"expiresAt":N}`.
    public static func taskAssign(
        lease: String, run: String, node: String, attempt: Int, capability: String, input: RawJSON, expiresAt: Int64,
        into buffer: inout ByteBuffer
    ) {
        buffer.writeStaticString("{\"type\":\"task.assign\",\"lease\":")
        buffer.writeJSONString(lease)
        buffer.writeStaticString(",\"run\":")
        buffer.writeJSONString(run)
        buffer.writeStaticString(",\"node\":")
        buffer.writeJSONString(node)
        buffer.writeStaticString(",\"attempt\":")
        buffer.writeJSONInteger(attempt)
        buffer.writeStaticString(",\"capability\":")
        buffer.writeJSONString(capability)
        buffer.writeStaticString(",\"input\":")
        buffer.writeRawJSON(input)
        buffer.writeStaticString(",\"expiresAt\":")
        buffer.writeJSONInteger(expiresAt)
        buffer.writeStaticString("}")
    }

    /// `{"type":"task.cancel","lease":…,"run":…,"node":…,"reason":…}`.
    public static func taskCancel(lease: String, run: String, node: String, reason: String, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"type\":\"task.cancel\",\"lease\":")
        buffer.writeJSONString(lease)
        buffer.writeStaticString(",\"run\":")
        buffer.writeJSONString(run)
        buffer.writeStaticString(",\"node\":")
        buffer.writeJSONString(node)
        buffer.writeStaticString(",\"reason\":")
        buffer.writeJSONString(reason)
        buffer.writeStaticString("}")
    }
}
