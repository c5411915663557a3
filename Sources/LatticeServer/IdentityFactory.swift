public import Foundation
public import LatticeAuth

/// Makes new identity records with fresh ids and secrets: shared by the REST API, sign-in,
/// the first-start bootstrap and `lattice admin`, so all of them issue credentials alike.
public enum IdentityFactory {
    /// How long a browser session (the `lattice_session` cookie) lasts.
    public static let sessionLifetime: TimeInterval = 30 * 86_400
    /// Invitations: 7 days unless asked otherwise, never more than 30.
    public static let defaultInvitationLifetime: TimeInterval = 7 * 86_400
    public static let maxInvitationLifetime: TimeInterval = 30 * 86_400

    public static func user(name: String, kind: User.Kind = .user, isAdmin: Bool = false, now: Date = Date()) -> User {
        User(id: Crypto.makeID(prefix: "u_"), name: name, kind: kind, isAdmin: isAdmin, createdAt: now)
    }

    /// A token and the record to store; the string is shown once and never stored.
    public static func token(for userID: String, kind: TokenRecord.Kind, scopes: Set<TokenScope>,
                             workspaceID: String? = nil, capabilities: [String] = [], label: String = "",
                             expiresIn: TimeInterval?, now: Date = Date()) -> (token: TokenString, record: TokenRecord) {
        let secret = TokenString.generate(id: Crypto.makeID(prefix: "t_"))
        let record = TokenRecord(id: secret.id, userID: userID, kind: kind, secretHash: secret.secretHash, scopes: scopes,
                                 workspaceID: workspaceID, capabilities: capabilities, label: label,
                                 createdAt: now, expiresAt: expiresIn.map { now.addingTimeInterval($0) })
        return (secret, record)
    }

    /// How long a `lattice admin signin-link` link is valid by default.
    public static let signInLinkLifetime: TimeInterval = 15 * 60

    /// A one-time sign-in link's token for `userID` (every scope: the session it becomes is
    /// still limited by the user's roles).
    public static func signInLink(for userID: String, expiresIn: TimeInterval = signInLinkLifetime,
                                  now: Date = Date()) -> (token: TokenString, record: TokenRecord) {
        token(for: userID, kind: .signin, scopes: Set(TokenScope.allCases), label: "sign-in link", expiresIn: expiresIn, now: now)
    }

    /// A browser session token for `userID` (30 days).
    public static func session(for userID: String, scopes: Set<TokenScope> = Set(TokenScope.allCases),
                               workspaceID: String? = nil, label: String = "browser", now: Date = Date()) -> (token: TokenString, record: TokenRecord) {
        token(for: userID, kind: .session, scopes: scopes, workspaceID: workspaceID, label: label,
              expiresIn: sessionLifetime, now: now)
    }

    /// An invitation and its secret (`lat_i_…`), shown once.
    public static func invitation(workspaceID: String, role: Role, createdBy: String,
                                  expiresIn: TimeInterval = defaultInvitationLifetime, now: Date = Date()) -> (secret: TokenString, record: Invitation) {
        let secret = TokenString.generate(id: Crypto.makeID(prefix: "i_"))
        let record = Invitation(id: secret.id, workspaceID: workspaceID, role: role, secretHash: secret.secretHash,
                                createdBy: createdBy, createdAt: now, expiresAt: now.addingTimeInterval(expiresIn))
        return (secret, record)
    }

    /// The sign-in link path for an invitation.
    public static func invitationLink(_ secret: TokenString) -> String {
        "/signin?invite=" + secret.description
    }
}
