/// Why a request was refused: everything an `error` message carries.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: ErrorCode
    /// Human-readable; not stable.
    public var message: String
    /// The request's `id`, when it could be read.
    public var id: RequestID?
    /// The request's stream, when it was read and is a valid name.
    public var stream: StreamName?

    public init(_ code: ErrorCode, _ message: String, id: RequestID? = nil, stream: StreamName? = nil) {
        self.code = code
        self.message = message
        self.id = id
        self.stream = stream
    }

    public var description: String {
        "\(code.rawValue): \(message)" + (id.map { " (id \($0))" } ?? "") + (stream.map { " [\($0)]" } ?? "")
    }
}

extension ProtocolError {
    /// The answer to a request whose `type` names no request this server serves.
    public static func unknownType(_ type: String, id: RequestID?) -> ProtocolError {
        let shown = type.count > 64 ? String(type.prefix(64)) + "…" : type
        return ProtocolError(.unknownType, "unknown request type '\(shown)' (expected subscribe, unsubscribe, publish, presence.set, ping, run.start, run.cancel, run.approve, worker.register, task.progress, task.complete or task.fail)", id: id)
    }
}
