public import Foundation
import GRDB
public import LatticeAuth

extension SQLiteStore {
    /// Throws `alreadyExists` for a taken id, `notFound` for an unknown workspace.
    public func insertInvitation(_ invitation: Invitation, by actor: ActivityActor) async throws {
        try await identityWrite(ifExists: invitation.id, ifMissing: invitation.workspaceID) { db in
            try db.execute(sql: """
                INSERT INTO invitations (id, workspace_id, role, secret_hash, created_by, created_at,
                                         expires_at, used_at, used_by, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: IdentityRows.arguments(invitation))
            try Self.record(.invitation(.invitationCreated, invitation, by: actor, at: invitation.createdAt), db)
        }
    }

    public func invitation(id: String) async throws -> Invitation? {
        try await identityRead { db in try Self.invitation(id: id, db) }
    }

    /// Oldest first.
    public func invitations(of workspaceID: String) async throws -> [Invitation] {
        try await identityRead { db in
            try Row.fetchAll(db, sql: "SELECT * FROM invitations WHERE workspace_id = ? ORDER BY created_at, id",
                             arguments: [workspaceID]).map(IdentityRows.invitation)
        }
    }

    public func revokeInvitation(id: String, at: Date, by actor: ActivityActor) async throws -> Invitation? {
        try await identityWrite { db in
            guard let invitation = try Self.invitation(id: id, db) else { return nil }
            guard invitation.state(at: at) == .pending else { return invitation }
            try db.execute(sql: "UPDATE invitations SET revoked_at = ? WHERE id = ?", arguments: [at.storeMillis, id])
            let revoked = try Self.invitation(id: id, db)
            if let revoked { try Self.record(.invitation(.invitationRevoked, revoked, by: actor, at: at), db) }
            return revoked
        }
    }

    /// Throws `notFound` for an unknown invitation (or an unknown existing user),
    /// `invitationUnusable` unless pending at `at`, `alreadyExists` when `newUser` or the session
    /// id is taken. On any error nothing changed.
    public func acceptInvitation(id: String, userID: String, newUser: User?, session: TokenRecord,
                                 at: Date) async throws -> Membership {
        try await identityWrite { db in
            guard let invitation = try Self.invitation(id: id, db) else { throw IdentityStoreError.notFound(id) }
            let state = invitation.state(at: at)
            guard state == .pending else { throw IdentityStoreError.invitationUnusable(state) }
            if let newUser {
                try Self.insertUser(newUser, db)
            } else if try Self.user(id: userID, db) == nil {
                throw IdentityStoreError.notFound(userID)
            }
            let current = try Self.role(of: userID, in: invitation.workspaceID, db)
            let role = max(current ?? invitation.role, invitation.role)
            try Self.putMember(userID, role, in: invitation.workspaceID, db)
            try db.execute(sql: "UPDATE invitations SET used_at = ?, used_by = ? WHERE id = ?",
                           arguments: [at.storeMillis, userID, id])
            if let user = try Self.user(id: userID, db) {
                let actor = ActivityActor(user)
                try Self.record(.invitation(.invitationAccepted, invitation, user: user, by: actor, at: at), db)
                try Self.record(.membership(of: user, in: invitation.workspaceID, from: current, to: role, by: actor, at: at), db)
            }
            try Self.insertToken(session, db)
            return Membership(workspaceID: invitation.workspaceID, userID: userID, role: role)
        }
    }

    static func invitation(id: String, _ db: Database) throws -> Invitation? {
        try Row.fetchOne(db, sql: "SELECT * FROM invitations WHERE id = ?", arguments: [id]).map(IdentityRows.invitation)
    }
}
