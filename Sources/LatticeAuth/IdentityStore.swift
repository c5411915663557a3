public import Foundation

/// Errors an identity store reports in terms the API can answer.
public enum IdentityStoreError: Error, Sendable, Equatable {
    /// A unique id or name is taken (workspace id, user id).
    case alreadyExists(String)
    /// The named record does not exist.
    case notFound(String)
    /// The invitation cannot be accepted; nothing was changed (it is not burned).
    case invitationUnusable(Invitation.State)
    /// The operation would leave a workspace without an owner.
    case lastOwner(String)
    /// The operation (disabling or deleting this user) would leave the server without an
    /// enabled server admin.
    case lastAdmin(String)
    /// The store failed.
    case storeFailed(String)
}

/// What `LatticeAuth` needs from storage. `LatticeStore` implements it on SQLite; every method
/// that changes more than one row does so in one transaction.
///
/// ## Workspace activity
/// A method that takes `by actor` records the `WorkspaceActivity` its change makes (member
/// added, token revoked, …; none when nothing changed) in the same transaction as the change,
/// as a `PendingActivity` the server publishes on `workspace/{ws}` (an invitation's acceptance
/// is attributed to who accepted it). So after a crash an action and its activity are both
/// there or both absent.
public protocol IdentityStore: Sendable {
    // Users
    func createUser(_ user: User) async throws
    func user(id: String) async throws -> User?
    func users() async throws -> [User]
    func userCount() async throws -> Int
    /// Disables the user (`at` non-nil; an already disabled user keeps its first date) or
    /// enables it (nil). Returns the user as it is now, nil if unknown. Throws `lastAdmin` when
    /// it would disable the last enabled server admin.
    func setUserDisabled(id: String, at: Date?) async throws -> User?
    /// Deletes the user with its tokens and memberships, in one transaction; returns whether
    /// there was one. Throws `lastAdmin` for the last enabled server admin and `lastOwner` for
    /// the last owner of a workspace (nothing is deleted then).
    func deleteUser(id: String, by actor: ActivityActor) async throws -> Bool

    // Workspaces and members
    /// Creates the workspace and makes `owner` its owner, atomically.
    func createWorkspace(_ workspace: Workspace, owner: String) async throws
    func workspace(id: String) async throws -> Workspace?
    func workspaces() async throws -> [Workspace]
    /// Gives the workspace a new name; returns it as it is now, nil if unknown.
    func renameWorkspace(id: String, name: String, by actor: ActivityActor) async throws -> Workspace?
    /// Every role `userID` holds, by workspace id.
    func memberships(of userID: String) async throws -> [String: Role]
    func members(of workspaceID: String) async throws -> [(User, Role)]
    /// Adds or changes a membership. Throws `lastOwner` when it would demote the last owner.
    func setRole(_ role: Role, of userID: String, in workspaceID: String, by actor: ActivityActor) async throws
    /// Removes a membership; returns whether there was one. Throws `lastOwner` for the last owner.
    func removeMember(_ userID: String, from workspaceID: String, by actor: ActivityActor) async throws -> Bool

    // Tokens
    func insertToken(_ token: TokenRecord, by actor: ActivityActor) async throws
    func token(id: String) async throws -> TokenRecord?
    func tokens(of userID: String) async throws -> [TokenRecord]
    /// Sets `revokedAt` if not yet revoked; returns the token as it is now (nil if unknown).
    func revokeToken(id: String, at: Date, by actor: ActivityActor) async throws -> TokenRecord?
    /// Revokes the token only if it is not revoked yet; true when this call revoked it (so of
    /// two concurrent uses of a one-time token exactly one gets true).
    func consumeToken(id: String, at: Date) async throws -> Bool
    /// Sets `revokedAt` on every token of the user not yet revoked, in one transaction; returns
    /// those tokens as they are now, oldest first. Throws `notFound` for an unknown user.
    func revokeTokens(of userID: String, at: Date, by actor: ActivityActor) async throws -> [TokenRecord]

    // Invitations
    func insertInvitation(_ invitation: Invitation, by actor: ActivityActor) async throws
    func invitation(id: String) async throws -> Invitation?
    func invitations(of workspaceID: String) async throws -> [Invitation]
    /// Sets `revokedAt` if still pending; returns the invitation as it is now.
    func revokeInvitation(id: String, at: Date, by actor: ActivityActor) async throws -> Invitation?
    /// Accepts a pending invitation in one transaction: checks it is still pending at `at`
    /// (`invitationUnusable` otherwise — nothing changes), creates `newUser` if given (else the
    /// invitation is for the existing `userID`), grants the invitation's role (never lowers an
    /// existing higher role), marks the invitation used and stores `session`. Any failure rolls
    /// everything back: an invitation is never burned without its membership.
    func acceptInvitation(id: String, userID: String, newUser: User?, session: TokenRecord, at: Date) async throws -> Membership

    // Changes live sessions depend on (recorded by the store whoever made them)
    /// The newest change's `seq` (0 if none).
    func identityChangeHead() async throws -> Int64
    /// Changes with `seq` above `after`, oldest first, at most `limit`.
    func identityChanges(after: Int64, limit: Int) async throws -> [IdentityChange]
    /// Deletes changes recorded before `before`; returns how many.
    func pruneIdentityChanges(before: Date) async throws -> Int

    // Workspace activity not yet published (the server's relay publishes and removes it)
    /// The oldest `limit` recorded activities, in `seq` order.
    func pendingActivity(limit: Int) async throws -> [PendingActivity]

    // Audit
    func appendAudit(_ entry: AuditEntry) async throws
    /// Newest first; `workspaceID` nil: every entry (server admins).
    func audit(workspaceID: String?, limit: Int, beforeID: Int64?) async throws -> [AuditEntry]
}
