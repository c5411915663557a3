/// The stable machine codes of `error` and `unsubscribed` messages: one table, read by the
/// server (what it sends), the client (what it matches) and the docs test (docs/protocol.md
/// must list every code in `all`). An open set: a client keeps a code it does not know.
public struct ErrorCode: Sendable, Hashable, CustomStringConvertible {
    /// The code as on the wire.
    public let rawValue: String

    /// Any code, known or not (a newer server may send codes this table lacks).
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    /// Whether this table lists the code.
    public var isKnown: Bool { Self.all.contains(self) }

    /// The message is not valid JSON (or is a binary message: see `unsupportedEncoding`).
    public static let badJSON = ErrorCode(rawValue: "bad_json")
    /// The message is JSON but not an object.
    public static let notObject = ErrorCode(rawValue: "not_object")
    /// A required field is absent.
    public static let missingField = ErrorCode(rawValue: "missing_field")
    /// A field has the wrong JSON type (or an integer is out of range).
    public static let wrongType = ErrorCode(rawValue: "wrong_type")
    /// A field the request uses appears more than once.
    public static let duplicateField = ErrorCode(rawValue: "duplicate_field")
    /// Two fields that exclude each other are both given (`since` with `snapshot: true`).
    public static let conflictingFields = ErrorCode(rawValue: "conflicting_fields")
    /// `type` names no request.
    public static let unknownType = ErrorCode(rawValue: "unknown_type")
    /// The message, a value in it, or its nesting is over a limit.
    public static let tooLarge = ErrorCode(rawValue: "too_large")
    /// A stream name is malformed or too long.
    public static let invalidStream = ErrorCode(rawValue: "invalid_stream")
    /// The identity may not do this on this stream.
    public static let forbidden = ErrorCode(rawValue: "forbidden")
    /// The connection already holds `maxSubscriptions` subscriptions.
    public static let tooManySubscriptions = ErrorCode(rawValue: "too_many_subscriptions")
    /// The stream already has as many subscribers as it accepts (`subscribe` refused, or a
    /// resume ended with `unsubscribed`); retrying later may succeed.
    public static let subscriberLimit = ErrorCode(rawValue: "subscriber_limit")
    /// `unsubscribe` or `presence.set` on a stream the connection is not subscribed to.
    public static let notSubscribed = ErrorCode(rawValue: "not_subscribed")
    /// `subscribe` to a stream the connection is already subscribed to.
    public static let alreadySubscribed = ErrorCode(rawValue: "already_subscribed")
    /// `publish` on a stream that is not a channel.
    public static let notPublishable = ErrorCode(rawValue: "not_publishable")
    /// The connection sends requests faster than allowed.
    public static let rateLimited = ErrorCode(rawValue: "rate_limited")
    /// A binary message: lattice.v1 requests are JSON text messages.
    public static let unsupportedEncoding = ErrorCode(rawValue: "unsupported_encoding")
    /// The stream names a run or document that does not exist.
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// The server failed; the request may be retried.
    public static let `internal` = ErrorCode(rawValue: "internal")
    /// (`unsubscribed` only) The stream changed class on the server (a channel was made durable
    /// or ephemeral): subscribe again; a resume answers `recovered: false` with the new epoch.
    public static let reconfigured = ErrorCode(rawValue: "reconfigured")
    /// A run request's field is out of range (`inputs` not an object or over the limit).
    public static let badRequest = ErrorCode(rawValue: "bad_request")
    /// The run's definition no longer validates (its problems are in the message).
    public static let invalid = ErrorCode(rawValue: "invalid")
    /// `run.cancel` or `run.approve` on a run that has ended.
    public static let runFinished = ErrorCode(rawValue: "run_finished")
    /// `run.cancel` on a run already being cancelled.
    public static let alreadyCancelling = ErrorCode(rawValue: "already_cancelling")
    /// `run.approve` where no approval waits (of two concurrent decisions, the second gets this).
    public static let conflict = ErrorCode(rawValue: "conflict")
    /// A worker's report on an attempt the run has moved past.
    public static let stale = ErrorCode(rawValue: "stale")
    /// `task.*` from a connection that has not sent `worker.register`.
    public static let notAWorker = ErrorCode(rawValue: "not_a_worker")
    /// `task.*` naming a lease the server never gave out.
    public static let unknownLease = ErrorCode(rawValue: "unknown_lease")
    /// `task.*` naming a lease another worker holds.
    public static let notYourLease = ErrorCode(rawValue: "not_your_lease")
    /// `task.*` naming a lease that ended (completed, failed, cancelled, expired): the task is
    /// no longer this worker's, so a node completes exactly once.
    public static let leaseEnded = ErrorCode(rawValue: "lease_ended")

    /// Every code the server sends, in the order of docs/protocol.md's table.
    public static let all: [ErrorCode] = [
        .badJSON, .notObject, .missingField, .wrongType, .duplicateField, .conflictingFields, .unknownType, .tooLarge,
        .invalidStream, .forbidden, .tooManySubscriptions, .subscriberLimit, .notSubscribed, .alreadySubscribed,
        .notPublishable, .rateLimited, .unsupportedEncoding, .notFound, .internal, .reconfigured,
        .badRequest, .invalid, .runFinished, .alreadyCancelling, .conflict, .stale, .notAWorker, .unknownLease, .notYourLease,
        .leaseEnded,
    ]
}
