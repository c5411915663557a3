/// The stable machine codes of `error` messages. docs/protocol.md says when each is sent.
public enum ErrorCode: String, Sendable, Hashable, CaseIterable {
    /// The message is not valid JSON (or is a binary message: see `unsupportedEncoding`).
    case badJSON = "bad_json"
    /// The message is JSON but not an object.
    case notObject = "not_object"
    /// A required field is absent.
    case missingField = "missing_field"
    /// A field has the wrong JSON type (or an integer is out of range).
    case wrongType = "wrong_type"
    /// A field the request uses appears more than once.
    case duplicateField = "duplicate_field"
    /// Two fields that exclude each other are both given (`since` with `snapshot: true`).
    case conflictingFields = "conflicting_fields"
    /// `type` names no request.
    case unknownType = "unknown_type"
    /// The message, a value in it, or its nesting is over a limit.
    case tooLarge = "too_large"
    /// A stream name is malformed or too long.
    case invalidStream = "invalid_stream"
    /// The identity may not do this on this stream.
    case forbidden
    /// The connection already holds `maxSubscriptions` subscriptions.
    case tooManySubscriptions = "too_many_subscriptions"
    /// `unsubscribe` or `presence.set` on a stream the connection is not subscribed to.
    case notSubscribed = "not_subscribed"
    /// `subscribe` to a stream the connection is already subscribed to.
    case alreadySubscribed = "already_subscribed"
    /// `publish` on a stream that is not a channel.
    case notPublishable = "not_publishable"
    /// The connection sends requests faster than allowed.
    case rateLimited = "rate_limited"
    /// A binary message: lattice.v1 requests are JSON text messages.
    case unsupportedEncoding = "unsupported_encoding"
    /// The stream names a run or document that does not exist.
    case notFound = "not_found"
    /// The server failed; the request may be retried.
    case `internal`
    /// (`unsubscribed` only) The stream changed class on the server (a channel was made durable
    /// or ephemeral): subscribe again; a resume answers `recovered: false` with the new epoch.
    case reconfigured
}

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

/// WebSocket close codes the lattice.v1 server uses (see docs/protocol.md).
public enum LatticeCloseCode {
    /// Normal closure.
    public static let normal: UInt16 = 1000
    /// The server is shutting down.
    public static let goingAway: UInt16 = 1001
    /// A WebSocket framing violation (docs/websocket.md).
    public static let protocolError: UInt16 = 1002
    /// Invalid UTF-8 in a text message (docs/websocket.md).
    public static let invalidPayload: UInt16 = 1007
    /// Policy: for example a revoked token.
    public static let policyViolation: UInt16 = 1008
    /// A frame or message above the WebSocket size limit (docs/websocket.md).
    public static let messageTooBig: UInt16 = 1009
    /// A subscriber of an ephemeral channel could not keep up with it.
    public static let slowConsumer: UInt16 = 4001
    /// The client stopped answering heartbeats.
    public static let heartbeatTimeout: UInt16 = 4002
}
