public import NIOCore

/// The protocol's name, as negotiated in `Sec-WebSocket-Protocol` and sent in `welcome`.
public enum ProtocolVersion {
    public static let v1 = "lattice.v1"
}

/// A lattice.v1 request from a client, decoded from one text message.
///
/// The enum and the top-level dispatch live here; each family of requests has its own file
/// (its value types, its decoding and the fields it encodes): ClientRequest+Subscribe.swift,
/// +Publish, +Presence, +Ping, +Runs, +Workers. A new family (document requests) is a new file,
/// a case here, its `type` in `RequestDecoder.decode()` and its fields in `RequestField`.
public enum ClientRequest: Sendable, Hashable {
    case subscribe(Subscribe)
    case unsubscribe(Unsubscribe)
    case publish(Publish)
    case presenceSet(PresenceSet)
    case ping(Ping)
    case runStart(RunStart)
    case runCancel(RunCancel)
    case runApprove(RunApprove)
    case workerRegister(WorkerRegister)
    case taskProgress(TaskProgress)
    case taskComplete(TaskComplete)
    case taskFail(TaskFail)

    /// The request's `id`, if it has one.
    public var id: RequestID? {
        switch self {
        case .subscribe(let r): r.id
        case .unsubscribe(let r): r.id
        case .publish(let r): r.id
        case .presenceSet(let r): r.id
        case .ping(let r): r.id
        case .runStart(let r): r.id
        case .runCancel(let r): r.id
        case .runApprove(let r): r.id
        case .workerRegister(let r): r.id
        case .taskProgress(let r): r.id
        case .taskComplete(let r): r.id
        case .taskFail(let r): r.id
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
        case .runStart(var r): r.id = id; return .runStart(r)
        case .runCancel(var r): r.id = id; return .runCancel(r)
        case .runApprove(var r): r.id = id; return .runApprove(r)
        case .workerRegister(var r): r.id = id; return .workerRegister(r)
        case .taskProgress(var r): r.id = id; return .taskProgress(r)
        case .taskComplete(var r): r.id = id; return .taskComplete(r)
        case .taskFail(var r): r.id = id; return .taskFail(r)
        }
    }

    /// The stream the request is about (the stream families only).
    public var stream: StreamName? {
        switch self {
        case .subscribe(let r): r.stream
        case .unsubscribe(let r): r.stream
        case .publish(let r): r.stream
        case .presenceSet(let r): r.stream
        case .ping, .runStart, .runCancel, .runApprove, .workerRegister, .taskProgress, .taskComplete, .taskFail: nil
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
        case .runStart: "run.start"
        case .runCancel: "run.cancel"
        case .runApprove: "run.approve"
        case .workerRegister: "worker.register"
        case .taskProgress: "task.progress"
        case .taskComplete: "task.complete"
        case .taskFail: "task.fail"
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
        case .subscribe(let r): r.encodeFields(into: &buffer)
        case .publish(let r): r.encodeFields(into: &buffer)
        case .presenceSet(let r): r.encodeFields(into: &buffer)
        case .runStart(let r): r.encodeFields(into: &buffer)
        case .runCancel(let r): r.encodeFields(into: &buffer)
        case .runApprove(let r): r.encodeFields(into: &buffer)
        case .workerRegister(let r): r.encodeFields(into: &buffer)
        case .taskProgress(let r): r.encodeFields(into: &buffer)
        case .taskComplete(let r): r.encodeFields(into: &buffer)
        case .taskFail(let r): r.encodeFields(into: &buffer)
        case .unsubscribe, .ping: break
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
