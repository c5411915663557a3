/// One recorded change to identity data that live sessions depend on. The store records these
/// itself, whoever made the change (this server's REST API, `lattice admin` beside it, another
/// server on the same database), so a server can apply every change to its live sessions.
public struct IdentityChange: Sendable, Equatable {
    /// What changed.
    public enum Subject: Sendable, Equatable, Hashable {
        /// A user's memberships, admin flag or disabled state, or the user was deleted.
        case user(String)
        /// A token was revoked, deleted or had its expiry changed.
        case token(String)
    }

    /// Increasing, never reused: the position to read on from.
    public var seq: Int64
    public var subject: Subject

    public init(seq: Int64, subject: Subject) {
        self.seq = seq
        self.subject = subject
    }
}
