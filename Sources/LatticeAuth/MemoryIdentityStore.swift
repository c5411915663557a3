public import Foundation
import Synchronization

/// An `IdentityStore` in memory, for tests of the code above the store: the same rules as the
/// SQLite adapter (the shared contract suite in LatticeStoreTests runs on both), including the
/// change log its triggers keep. Every method is atomic: it runs under one lock, and a method
/// that fails changes nothing.
public final class MemoryIdentityStore: IdentityStore {
    private struct State {
        var users: [String: User] = [:]
        var workspaces: [String: Workspace] = [:]
        /// Role by workspace, then user.
        var members: [String: [String: Role]] = [:]
        var tokens: [String: TokenRecord] = [:]
        var invitations: [String: Invitation] = [:]
        var changes: [(seq: Int64, subject: IdentityChange.Subject, at: Date)] = []
        var nextChange: Int64 = 1
        var audit: [AuditEntry] = []
        var activity: [PendingActivity] = []
        var nextActivity: Int64 = 1

        mutating func note(_ activity: WorkspaceActivity?) {
            guard let activity else { return }
            self.activity.append(PendingActivity(seq: nextActivity, stream: activity.streamName, data: activity.json()))
            nextActivity += 1
        }

        func workspaceIDs(of userID: String) -> [String] {
            members.filter { $0.value[userID] != nil }.map(\.key).sorted()
        }

        mutating func record(_ subject: IdentityChange.Subject) {
            changes.append((nextChange, subject, Date()))
            nextChange += 1
        }

        /// Throws `lastAdmin(id)` unless another enabled server admin than `id` exists.
        func requireAnotherAdmin(than id: String) throws(IdentityStoreError) {
            guard users.values.contains(where: { $0.isAdmin && !$0.isDisabled && $0.id != id }) else { throw .lastAdmin(id) }
        }

        func owners(of workspaceID: String) -> Int {
            members[workspaceID, default: [:]].values.filter { $0 == .owner }.count
        }

        mutating func putMember(_ userID: String, _ role: Role, in workspaceID: String) throws(IdentityStoreError) {
            guard workspaces[workspaceID] != nil, users[userID] != nil else {
                throw .notFound("\(userID) in \(workspaceID)")
            }
            members[workspaceID, default: [:]][userID] = role
            record(.user(userID))
        }

        mutating func noteToken(_ kind: WorkspaceActivity.Kind, _ token: TokenRecord, by actor: ActivityActor) {
            guard let user = users[token.userID] else { return }
            for activity in WorkspaceActivity.botToken(kind, token, of: user, memberships: workspaceIDs(of: user.id), by: actor,
                                                       at: kind == .tokenRevoked ? token.revokedAt ?? Date() : token.createdAt) {
                note(activity)
            }
        }

        mutating func insertToken(_ token: TokenRecord) throws(IdentityStoreError) {
            guard tokens[token.id] == nil else { throw .alreadyExists(token.id) }
            guard users[token.userID] != nil, token.workspaceID.map({ workspaces[$0] != nil }) ?? true else {
                throw .notFound(token.workspaceID.map { "\(token.userID) or \($0)" } ?? token.userID)
            }
            tokens[token.id] = token
        }
    }

    private let state = Mutex(State())

    public init() {}

    // MARK: users

    public func createUser(_ user: User) async throws {
        try state.withLock { (s: inout State) throws(IdentityStoreError) in
            guard s.users[user.id] == nil else { throw .alreadyExists(user.id) }
            s.users[user.id] = user
        }
    }

    public func user(id: String) async throws -> User? { state.withLock { $0.users[id] } }

    public func users() async throws -> [User] {
        state.withLock { $0.users.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    public func userCount() async throws -> Int { state.withLock { $0.users.count } }

    public func setUserDisabled(id: String, at: Date?) async throws -> User? {
        try state.withLock { (s: inout State) throws(IdentityStoreError) -> User? in
            guard var user = s.users[id] else { return nil }
            switch (at, user.disabledAt) {
            case (let at?, nil):
                if user.isAdmin { try s.requireAnotherAdmin(than: id) }
                user.disabledAt = at
            case (nil, _?):
                user.disabledAt = nil
            default:
                return user  // already as asked: nothing changes (and nothing is recorded)
            }
            s.users[id] = user
            s.record(.user(id))
            return user
        }
    }

    /// Its tokens and memberships go with it, each recorded (as the SQLite cascades are).
    public func deleteUser(id: String, by actor: ActivityActor) async throws -> Bool {
        try state.withLock { (s: inout State) throws(IdentityStoreError) -> Bool in
            guard let user = s.users[id] else { return false }
            if user.isAdmin && !user.isDisabled { try s.requireAnotherAdmin(than: id) }
            for (workspace, members) in s.members.sorted(by: { $0.key < $1.key }) where members[id] == .owner {
                if s.owners(of: workspace) < 2 { throw .lastOwner(workspace) }
            }
            for token in s.tokens.values.filter({ $0.userID == id }).sorted(by: { $0.id < $1.id }) {
                s.tokens[token.id] = nil
                s.record(.token(token.id))
            }
            for workspace in s.members.keys.sorted() {
                guard let role = s.members[workspace]?[id] else { continue }
                s.members[workspace]?[id] = nil
                s.record(.user(id))
                s.note(.membership(of: user, in: workspace, from: role, to: nil, by: actor, at: Date(), reason: "user deleted"))
            }
            s.users[id] = nil
            s.record(.user(id))
            return true
        }
    }

    // MARK: workspaces and members

    public func createWorkspace(_ workspace: Workspace, owner: String) async throws {
        try state.withLock { (s: inout State) throws(IdentityStoreError) in
            guard s.users[owner] != nil else { throw .notFound(owner) }
            guard s.workspaces[workspace.id] == nil else { throw .alreadyExists(workspace.id) }
            s.workspaces[workspace.id] = workspace
            try s.putMember(owner, .owner, in: workspace.id)
        }
    }

    public func workspace(id: String) async throws -> Workspace? { state.withLock { $0.workspaces[id] } }

    public func renameWorkspace(id: String, name: String, by actor: ActivityActor) async throws -> Workspace? {
        state.withLock { s in
            guard var workspace = s.workspaces[id] else { return nil }
            let previous = workspace.name
            workspace.name = name
            s.workspaces[id] = workspace
            s.note(.renamed(workspace, from: previous, by: actor, at: Date()))
            return workspace
        }
    }

    public func workspaces() async throws -> [Workspace] {
        state.withLock { $0.workspaces.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }
    }

    public func memberships(of userID: String) async throws -> [String: Role] {
        state.withLock { s in
            var roles: [String: Role] = [:]
            for (workspace, members) in s.members { if let role = members[userID] { roles[workspace] = role } }
            return roles
        }
    }

    /// Ordered by user name, then id.
    public func members(of workspaceID: String) async throws -> [(User, Role)] {
        state.withLock { s in
            s.members[workspaceID, default: [:]].compactMap { id, role in s.users[id].map { ($0, role) } }
                .sorted { ($0.0.name, $0.0.id) < ($1.0.name, $1.0.id) }
        }
    }

    public func setRole(_ role: Role, of userID: String, in workspaceID: String, by actor: ActivityActor) async throws {
        try state.withLock { (s: inout State) throws(IdentityStoreError) in
            guard s.workspaces[workspaceID] != nil else { throw .notFound(workspaceID) }
            guard let user = s.users[userID] else { throw .notFound(userID) }
            let before = s.members[workspaceID]?[userID]
            if role != .owner, before == .owner, s.owners(of: workspaceID) < 2 {
                throw .lastOwner(workspaceID)
            }
            try s.putMember(userID, role, in: workspaceID)
            s.note(.membership(of: user, in: workspaceID, from: before, to: role, by: actor, at: Date()))
        }
    }

    public func removeMember(_ userID: String, from workspaceID: String, by actor: ActivityActor) async throws -> Bool {
        try state.withLock { (s: inout State) throws(IdentityStoreError) -> Bool in
            guard let role = s.members[workspaceID]?[userID] else { return false }
            if role == .owner, s.owners(of: workspaceID) < 2 { throw .lastOwner(workspaceID) }
            s.members[workspaceID]?[userID] = nil
            s.record(.user(userID))
            if let user = s.users[userID] {
                s.note(.membership(of: user, in: workspaceID, from: role, to: nil, by: actor, at: Date()))
            }
            return true
        }
    }

    // MARK: tokens

    public func insertToken(_ token: TokenRecord, by actor: ActivityActor) async throws {
        try state.withLock { (s: inout State) throws(IdentityStoreError) in
            try s.insertToken(token)
            s.noteToken(.tokenCreated, token, by: actor)
        }
    }

    public func token(id: String) async throws -> TokenRecord? { state.withLock { $0.tokens[id] } }

    /// Oldest first.
    public func tokens(of userID: String) async throws -> [TokenRecord] {
        state.withLock { s in
            s.tokens.values.filter { $0.userID == userID }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }

    public func revokeToken(id: String, at: Date, by actor: ActivityActor) async throws -> TokenRecord? {
        state.withLock { s in
            guard var token = s.tokens[id] else { return nil }
            if token.revokedAt == nil {
                token.revokedAt = at
                s.tokens[id] = token
                s.record(.token(id))
                s.noteToken(.tokenRevoked, token, by: actor)
            }
            return token
        }
    }

    public func revokeTokens(of userID: String, at: Date, by actor: ActivityActor) async throws -> [TokenRecord] {
        try state.withLock { (s: inout State) throws(IdentityStoreError) -> [TokenRecord] in
            guard s.users[userID] != nil else { throw .notFound(userID) }
            var revoked: [TokenRecord] = []
            for var token in s.tokens.values.filter({ $0.userID == userID && $0.revokedAt == nil })
                .sorted(by: { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }) {
                token.revokedAt = at
                s.tokens[token.id] = token
                s.record(.token(token.id))
                s.noteToken(.tokenRevoked, token, by: actor)
                revoked.append(token)
            }
            return revoked
        }
    }

    public func consumeToken(id: String, at: Date) async throws -> Bool {
        state.withLock { s in
            guard var token = s.tokens[id], token.revokedAt == nil else { return false }
            token.revokedAt = at
            s.tokens[id] = token
            s.record(.token(id))
            return true
        }
    }

    // MARK: invitations

    public func insertInvitation(_ invitation: Invitation, by actor: ActivityActor) async throws {
        try state.withLock { (s: inout State) throws(IdentityStoreError) in
            guard s.invitations[invitation.id] == nil else { throw .alreadyExists(invitation.id) }
            guard s.workspaces[invitation.workspaceID] != nil else { throw .notFound(invitation.workspaceID) }
            s.invitations[invitation.id] = invitation
            s.note(.invitation(.invitationCreated, invitation, by: actor, at: invitation.createdAt))
        }
    }

    public func invitation(id: String) async throws -> Invitation? { state.withLock { $0.invitations[id] } }

    /// Oldest first.
    public func invitations(of workspaceID: String) async throws -> [Invitation] {
        state.withLock { s in
            s.invitations.values.filter { $0.workspaceID == workspaceID }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }

    public func revokeInvitation(id: String, at: Date, by actor: ActivityActor) async throws -> Invitation? {
        state.withLock { s in
            guard var invitation = s.invitations[id] else { return nil }
            guard invitation.state(at: at) == .pending else { return invitation }
            invitation.revokedAt = at
            s.invitations[id] = invitation
            s.note(.invitation(.invitationRevoked, invitation, by: actor, at: at))
            return invitation
        }
    }

    public func acceptInvitation(id: String, userID: String, newUser: User?, session: TokenRecord, at: Date) async throws -> Membership {
        try state.withLock { (s: inout State) throws(IdentityStoreError) -> Membership in
            // Worked on a copy: any failure leaves the store as it was.
            var next = s
            guard var invitation = next.invitations[id] else { throw .notFound(id) }
            let state = invitation.state(at: at)
            guard state == .pending else { throw .invitationUnusable(state) }
            if let newUser {
                guard next.users[newUser.id] == nil else { throw .alreadyExists(newUser.id) }
                next.users[newUser.id] = newUser
            } else if next.users[userID] == nil {
                throw .notFound(userID)
            }
            let current = next.members[invitation.workspaceID]?[userID]
            let role = max(current ?? invitation.role, invitation.role)
            try next.putMember(userID, role, in: invitation.workspaceID)
            let user = next.users[userID]!
            next.note(.invitation(.invitationAccepted, invitation, user: user, by: ActivityActor(user), at: at))
            next.note(.membership(of: user, in: invitation.workspaceID, from: current, to: role, by: ActivityActor(user), at: at))
            invitation.usedAt = at
            invitation.usedBy = userID
            next.invitations[id] = invitation
            try next.insertToken(session)
            s = next
            return Membership(workspaceID: invitation.workspaceID, userID: userID, role: role)
        }
    }

    // MARK: the change log

    public func identityChangeHead() async throws -> Int64 { state.withLock { $0.changes.last?.seq ?? 0 } }

    public func identityChanges(after: Int64, limit: Int) async throws -> [IdentityChange] {
        guard limit > 0 else { return [] }
        return state.withLock { s in
            s.changes.lazy.filter { $0.seq > after }.prefix(limit).map { IdentityChange(seq: $0.seq, subject: $0.subject) }
        }
    }

    public func pruneIdentityChanges(before: Date) async throws -> Int {
        state.withLock { s in
            let before0 = s.changes.count
            s.changes.removeAll { $0.at < before }
            return before0 - s.changes.count
        }
    }

    // MARK: activity

    public func pendingActivity(limit: Int) async throws -> [PendingActivity] {
        guard limit > 0 else { return [] }
        return state.withLock { Array($0.activity.prefix(limit)) }
    }

    // MARK: audit

    public func appendAudit(_ entry: AuditEntry) async throws {
        state.withLock { s in
            var stored = entry
            stored.id = Int64(s.audit.count + 1)
            s.audit.append(stored)
        }
    }

    /// Newest first, at most `limit`, with ids below `beforeID`.
    public func audit(workspaceID: String?, limit: Int, beforeID: Int64?) async throws -> [AuditEntry] {
        guard limit > 0 else { return [] }
        return state.withLock { s in
            Array(s.audit.reversed().lazy
                .filter { workspaceID == nil || $0.workspaceID == workspaceID }
                .filter { beforeID == nil || $0.id < beforeID! }
                .prefix(limit))
        }
    }
}
