public import Foundation

/// A person or a bot that can sign in.
public struct User: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case user, bot
    }

    /// `u_` + 16 hex digits.
    public var id: String
    /// Display name (1–64 bytes, no control characters).
    public var name: String
    public var kind: Kind
    /// Server administrator: creates users and workspaces, may act as owner anywhere.
    public var isAdmin: Bool
    public var createdAt: Date
    /// When a server admin disabled the user (nil: enabled). A disabled user keeps its data
    /// (memberships, tokens) but none of its tokens authenticates until it is enabled again.
    public var disabledAt: Date?

    public init(id: String, name: String, kind: Kind, isAdmin: Bool, createdAt: Date, disabledAt: Date? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.isAdmin = isAdmin
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }

    public var isDisabled: Bool { disabledAt != nil }
}

/// A workspace: the unit of membership. Its id appears in stream names (`workspace/{id}`), so it
/// is a stream-name segment: 1–64 bytes of `A–Z a–z 0–9 . _ ~ -`.
public struct Workspace: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var createdAt: Date

    public init(id: String, name: String, createdAt: Date) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// One user's role in one workspace.
public struct Membership: Sendable, Hashable, Codable {
    public var workspaceID: String
    public var userID: String
    public var role: Role

    public init(workspaceID: String, userID: String, role: Role) {
        self.workspaceID = workspaceID
        self.userID = userID
        self.role = role
    }
}

/// What a token may be used for, on top of its user's roles (the effective permission is the
/// smaller of the two).
public enum TokenScope: String, Sendable, Hashable, Codable, CaseIterable {
    /// Subscribe, read history, presence.
    case read
    /// Publish, edit, runs (implies nothing about membership management).
    case write
    /// Manage members, invitations, tokens, workspaces; read the audit log.
    case manage
}

/// A stored token. The secret itself is never stored: only its SHA-256 (`secretHash`).
public struct TokenRecord: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Made by an API call or `lattice admin token create`, for scripts and CLIs.
        case api
        /// A browser session (the cookie), made by sign-in.
        case session
        /// A bot's token: bound to one workspace and a set of capabilities.
        case bot
        /// A one-time sign-in link (`lattice admin signin-link`): accepted only by `/signin`,
        /// which uses it up; refused everywhere else.
        case signin
    }

    /// `t_` + 16 hex digits; the public half of the token string.
    public var id: String
    public var userID: String
    public var kind: Kind
    /// SHA-256 of the secret half.
    public var secretHash: Data
    public var scopes: Set<TokenScope>
    /// Bot tokens (and optionally others): usable in this workspace only.
    public var workspaceID: String?
    /// Bot tokens: what work the bot may take (used by run workers).
    public var capabilities: [String]
    /// A human label ("ci", "laptop").
    public var label: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    public init(id: String, userID: String, kind: Kind, secretHash: Data, scopes: Set<TokenScope>,
                workspaceID: String? = nil, capabilities: [String] = [], label: String = "",
                createdAt: Date, expiresAt: Date?, revokedAt: Date? = nil) {
        self.id = id
        self.userID = userID
        self.kind = kind
        self.secretHash = secretHash
        self.scopes = scopes
        self.workspaceID = workspaceID
        self.capabilities = capabilities
        self.label = label
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    /// Usable at `now`: not revoked and not expired.
    public func isActive(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }
}

/// An invitation to join a workspace with a role. Single use; its secret is stored hashed.
public struct Invitation: Sendable, Hashable, Codable {
    /// `i_` + 16 hex digits.
    public var id: String
    public var workspaceID: String
    public var role: Role
    public var secretHash: Data
    public var createdBy: String
    public var createdAt: Date
    public var expiresAt: Date
    public var usedAt: Date?
    public var usedBy: String?
    public var revokedAt: Date?

    public init(id: String, workspaceID: String, role: Role, secretHash: Data, createdBy: String,
                createdAt: Date, expiresAt: Date, usedAt: Date? = nil, usedBy: String? = nil, revokedAt: Date? = nil) {
        self.id = id
        self.workspaceID = workspaceID
        self.role = role
        self.secretHash = secretHash
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.usedBy = usedBy
        self.revokedAt = revokedAt
    }

    public enum State: String, Sendable, Codable {
        case pending, used, revoked, expired
    }

    public func state(at now: Date) -> State {
        if usedAt != nil { return .used }
        if revokedAt != nil { return .revoked }
        if now >= expiresAt { return .expired }
        return .pending
    }
}

/// One security-relevant action: sign-in, token create/revoke, membership and invitation
/// changes, refused access.
public struct AuditEntry: Sendable, Hashable, Codable {
    /// Assigned by the store (0 before it is stored).
    public var id: Int64
    public var at: Date
    /// Who did it (a user id), if known.
    public var actorID: String?
    /// A stable dotted name: `signin`, `signin.failed`, `token.create`, `token.revoke`,
    /// `member.add`, `member.role`, `member.remove`, `invitation.create`, `invitation.accept`,
    /// `invitation.revoke`, `access.refused`, `workspace.create`, `user.create`, `user.disable`,
    /// `user.enable`, `user.delete`, `user.signout`, `channel.durable`.
    public var action: String
    /// The workspace it concerns, if any (owners read their workspace's entries).
    public var workspaceID: String?
    /// What it was done to (a user, token, invitation id or stream name).
    public var target: String?
    /// Free text for humans.
    public var detail: String
    /// The peer address, when it came over the network.
    public var address: String?

    public init(id: Int64 = 0, at: Date, actorID: String?, action: String, workspaceID: String?,
                target: String?, detail: String = "", address: String? = nil) {
        self.id = id
        self.at = at
        self.actorID = actorID
        self.action = action
        self.workspaceID = workspaceID
        self.target = target
        self.detail = detail
        self.address = address
    }
}
