import Foundation
import LatticeAuth
import NIOHTTP1

/// Invitations: create (the secret is in this answer only), list, revoke, accept.
extension APICall {
    func createInvitation(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .manageMembers, in: ws, "invite members to \(ws)")
        _ = try await existingWorkspace(ws)
        let body = try body()
        let role = try Self.parseRole(try body.requiredString("role"))
        let seconds = try body.int("expiresInSeconds").map(TimeInterval.init) ?? IdentityFactory.defaultInvitationLifetime
        guard seconds >= 1, seconds <= IdentityFactory.maxInvitationLifetime else {
            throw APIError.badRequest("expiresInSeconds must be from 1 to \(Int(IdentityFactory.maxInvitationLifetime)) (30 days)")
        }
        let (secret, record) = IdentityFactory.invitation(workspaceID: ws, role: role, createdBy: p.user.id, expiresIn: seconds, now: now)
        try await store.insertInvitation(record, by: p.actor)
        access.audit("invitation.create", actor: p.user.id, workspace: ws, target: record.id, detail: role.rawValue,
                     address: request.remoteAddress)
        return .json(.created, .object([("invitation", .string(secret.description)),
                                        ("link", .string(IdentityFactory.invitationLink(secret))),
                                        ("record", RecordJSON.invitation(record, now: now))]))
    }

    func listInvitations(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .manageMembers, in: ws, "list the invitations of \(ws)")
        let invitations = try await store.invitations(of: ws).sorted { $0.createdAt > $1.createdAt }
        return .json(.ok, .object([("invitations", .array(invitations.map { RecordJSON.invitation($0, now: now) }))]))
    }

    func revokeInvitation(_ id: String, _ p: Principal) async throws -> HTTPResponse {
        guard let invitation = try await store.invitation(id: id) else { throw APIError.notFound("no invitation \(id)") }
        try require(p, .manageMembers, in: invitation.workspaceID, "revoke invitations of \(invitation.workspaceID)", target: id)
        // Only a pending one is revoked: a used, expired or already revoked invitation is 409.
        let state = invitation.state(at: now)
        guard state == .pending else { throw APIError.conflict("the invitation is \(state.rawValue)") }
        guard let now = try await store.revokeInvitation(id: id, at: now, by: p.actor) else { throw APIError.notFound("no invitation \(id)") }
        guard now.revokedAt != nil else { throw APIError.conflict("the invitation is \(now.state(at: self.now).rawValue)") }
        access.audit("invitation.revoke", actor: p.user.id, workspace: invitation.workspaceID, target: id, address: request.remoteAddress)
        return .json(.ok, .object([("record", RecordJSON.invitation(now, now: self.now))]))
    }

    /// `principal`: the caller when it presented a credential (it joins), else nil (a new user).
    func acceptInvitation(_ principal: Principal?) async throws -> HTTPResponse {
        let body = try body()
        let invitation = try body.requiredString("invitation")
        let accepted = try await accept(invitation: invitation, as: principal, name: try body.string("name"))
        return .json(.ok, .object([("user", RecordJSON.user(accepted.user)),
                                   ("membership", RecordJSON.membership(accepted.membership)),
                                   ("token", .string(accepted.session.description))]),
                     headers: ["Set-Cookie": SignIn.sessionCookie(accepted.session)])
    }

    struct Accepted: Sendable {
        var user: User
        var membership: Membership
        /// The new session token (for the cookie).
        var session: TokenString
    }

    /// Accepts `secret` for `principal`'s user, or for a new user called `name`; one store
    /// transaction, so a refusal leaves the invitation unused. Shared by the API and `/signin`.
    func accept(invitation secretString: String, as principal: Principal?, name: String?) async throws -> Accepted {
        guard let secret = TokenString(parsing: secretString), secret.id.hasPrefix("i_") else {
            throw APIError.badRequest("invitation must be an invitation string (lat_i_…)")
        }
        guard let invitation = try await store.invitation(id: secret.id) else { throw APIError.notFound("no invitation \(secret.id)") }
        guard secret.matches(invitation.secretHash) else {
            access.audit("signin.failed", actor: principal?.user.id, workspace: invitation.workspaceID, target: invitation.id,
                         detail: "invitation: wrong secret", address: request.remoteAddress)
            throw APIError.unauthorized("wrong invitation secret")
        }
        let state = invitation.state(at: now)
        guard state == .pending else { throw APIError.conflict("the invitation is \(state.rawValue)") }

        var user: User
        var newUser: User?
        if let principal {
            if let bound = principal.tokenWorkspace, bound != invitation.workspaceID {
                try require(false, principal, "accept invitations outside workspace \(bound)", target: invitation.id)
            }
            user = principal.user
        } else {
            guard let name, !name.isEmpty else { throw APIError.badRequest("name is required to join as a new user") }
            if let problem = Validation.displayName(name) { throw APIError.badRequest(problem) }
            user = IdentityFactory.user(name: name, now: now)
            newUser = user
        }
        // An existing user's new session never carries more than the credential it came with.
        let (session, record) = IdentityFactory.session(for: user.id, scopes: principal?.scopes ?? Set(TokenScope.allCases),
                                                        workspaceID: principal?.tokenWorkspace, label: "invitation", now: now)
        let membership = try await store.acceptInvitation(id: invitation.id, userID: user.id, newUser: newUser, session: record, at: now)
        if let newUser {
            access.audit("user.create", actor: newUser.id, workspace: invitation.workspaceID, target: newUser.id,
                         detail: "\(newUser.name) (by invitation \(invitation.id))", address: request.remoteAddress)
        }
        access.audit("invitation.accept", actor: user.id, workspace: invitation.workspaceID, target: invitation.id,
                     detail: membership.role.rawValue, address: request.remoteAddress)
        access.audit("signin", actor: user.id, workspace: invitation.workspaceID, target: record.id,
                     detail: "session by invitation", address: request.remoteAddress)
        await access.membershipsChanged(of: user.id)
        user = newUser ?? user
        return Accepted(user: user, membership: membership, session: session)
    }
}
