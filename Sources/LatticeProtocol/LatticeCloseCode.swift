/// The WebSocket close codes a lattice.v1 server sends: one table, read by the server (what it
/// sends), the client (whether to reconnect) and the docs test (docs/protocol.md must list every
/// code in `all`). Each code is marked `reconnect` or `terminal`, as centrifuge's disconnect
/// codes are: after a terminal close, reconnecting would meet the same refusal. An open set: a
/// code this table lacks (a newer server, 1006 for a connection lost without a close frame) is
/// kept, and treated as `reconnect`.
public struct LatticeCloseCode: Sendable, Hashable, CustomStringConvertible {
    /// What a client should do after the server closed with this code.
    public enum Advice: Sendable, Hashable {
        /// Reconnect (with backoff) and resume.
        case reconnect
        /// Stop: the same connection would be refused or closed again.
        case terminal
    }

    /// The code as on the wire.
    public let rawValue: UInt16
    /// The close reason the server sends with it when it has a fixed one (`slow_consumer`), else "".
    public let reason: String
    public let advice: Advice

    private init(_ rawValue: UInt16, reason: String = "", _ advice: Advice) {
        self.rawValue = rawValue
        self.reason = reason
        self.advice = advice
    }

    /// The table's entry for `rawValue`, or an unknown code (advice: `reconnect`).
    public init(rawValue: UInt16) {
        self = Self.all.first { $0.rawValue == rawValue } ?? LatticeCloseCode(rawValue, .reconnect)
    }

    /// Whether a client should reconnect after this close.
    public var reconnects: Bool { advice == .reconnect }

    public var description: String { reason.isEmpty ? "\(rawValue)" : "\(rawValue) \(reason)" }

    /// Normal closure: the server's answer to the client's own close.
    public static let normal = LatticeCloseCode(1000, .terminal)
    /// The server is shutting down; another instance (or the same, restarted) will answer.
    public static let goingAway = LatticeCloseCode(1001, .reconnect)
    /// A WebSocket framing violation (docs/websocket.md): the client is broken.
    public static let protocolError = LatticeCloseCode(1002, .terminal)
    /// Invalid UTF-8 in a text message, or compressed data that does not inflate (docs/websocket.md).
    public static let invalidPayload = LatticeCloseCode(1007, .terminal)
    /// Policy: the connection kept sending past its rate limit; reconnecting after a backoff is fine.
    public static let policyViolation = LatticeCloseCode(1008, .reconnect)
    /// A frame or message above the WebSocket size limit (docs/websocket.md).
    public static let messageTooBig = LatticeCloseCode(1009, .terminal)
    /// A subscriber of an ephemeral channel could not keep up with it; a resume tells what was lost.
    public static let slowConsumer = LatticeCloseCode(4001, reason: "slow_consumer", .reconnect)
    /// The client stopped answering heartbeats: a keepalive ping went unanswered for a whole
    /// interval (sent by `lattice serve` on `/ws`, then TCP is closed at once).
    public static let heartbeatTimeout = LatticeCloseCode(4002, reason: "heartbeat_timeout", .reconnect)
    /// The token this connection authenticated with no longer authenticates (revoked, expired,
    /// deleted, its user deleted; the close reason says which): reconnecting with it is refused.
    public static let tokenRevoked = LatticeCloseCode(4003, reason: "token_revoked", .terminal)

    /// Every code of the table, in the order of docs/protocol.md's table.
    public static let all: [LatticeCloseCode] = [
        .normal, .goingAway, .protocolError, .invalidPayload, .policyViolation, .messageTooBig,
        .slowConsumer, .heartbeatTimeout, .tokenRevoked,
    ]
}
