public import Foundation

/// Something a principal may want to do in a workspace.
public enum Permission: String, Sendable, Hashable, CaseIterable {
    /// Subscribe to a stream, read its history.
    case read
    /// Set presence on a stream it reads.
    case presence
    /// Publish on channels, edit documents and the graph, start/cancel/approve runs.
    case write
    /// Add, change and remove members; create and revoke invitations; mark channels durable.
    case manageMembers
    /// Read the workspace's audit log.
    case readAudit

    /// The least role that grants it.
    public var minimumRole: Role {
        switch self {
        case .read, .presence: .viewer
        case .write: .editor
        case .manageMembers, .readAudit: .owner
        }
    }

    /// The token scope it needs.
    public var scope: TokenScope {
        switch self {
        case .read, .presence: .read
        case .write: .write
        case .manageMembers, .readAudit: .manage
        }
    }
}

/// Who is acting, as the policy sees it: a user through one token, with the roles it held when
/// last loaded (the server updates them in place when memberships change).
public struct Principal: Sendable, Hashable {
    public var user: User
    public var tokenID: String
    public var scopes: Set<TokenScope>
    /// A token bound to one workspace (bot tokens) is refused everywhere else.
    public var tokenWorkspace: String?
    /// The user's role per workspace id.
    public var roles: [String: Role]
    /// When the token stops being valid (nil: never); live sessions end then.
    public var tokenExpiresAt: Date?
    /// The capabilities a bot token was made for (empty: any).
    public var tokenCapabilities: [String]

    public init(user: User, tokenID: String, scopes: Set<TokenScope>, tokenWorkspace: String?, roles: [String: Role],
                tokenExpiresAt: Date? = nil, tokenCapabilities: [String] = []) {
        self.tokenCapabilities = tokenCapabilities
        self.user = user
        self.tokenID = tokenID
        self.scopes = scopes
        self.tokenWorkspace = tokenWorkspace
        self.roles = roles
        self.tokenExpiresAt = tokenExpiresAt
    }

    /// The role that counts in `workspace`: the membership, or owner for a server admin.
    public func role(in workspace: String) -> Role? {
        if let tokenWorkspace, tokenWorkspace != workspace { return nil }
        if user.isAdmin { return .owner }
        return roles[workspace]
    }
}

/// `can(actor, action, resource)`: the one access rule of the server (docs/security.md).
public enum Policy {
    /// Whether `principal` may do `permission` in `workspace`: its token carries the scope,
    /// is usable in that workspace, and its role there is at least the permission's minimum.
    /// Cross-workspace access is refused because a non-member has no role there.
    public static func can(_ principal: Principal, _ permission: Permission, in workspace: String) -> Bool {
        guard principal.scopes.contains(permission.scope), let role = principal.role(in: workspace) else { return false }
        return role >= permission.minimumRole
    }

    /// Whether `principal` may serve tasks of `capabilities` as a bot worker in `workspace`:
    /// it may write there, and a token made for some capabilities serves only those.
    public static func canServe(_ principal: Principal, _ capabilities: [String], in workspace: String) -> Bool {
        guard can(principal, .write, in: workspace) else { return false }
        return principal.tokenCapabilities.isEmpty || Set(capabilities).isSubset(of: principal.tokenCapabilities)
    }

    /// Server-wide actions (not tied to one workspace).
    public enum ServerAction: String, Sendable {
        /// Create users other than oneself (and their tokens).
        case manageUsers
        /// Create a workspace (the creator becomes its owner).
        case createWorkspace
        /// Read every audit entry.
        case readAllAudit
    }

    public static func can(_ principal: Principal, _ action: ServerAction) -> Bool {
        guard principal.scopes.contains(.manage) else { return false }
        switch action {
        case .manageUsers, .readAllAudit: return principal.user.isAdmin && principal.tokenWorkspace == nil
        case .createWorkspace: return principal.user.kind == .user && principal.tokenWorkspace == nil
        }
    }
}
