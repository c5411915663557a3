import NIOHTTP1
import Foundation
import LatticeAuth

/// `/api/me`, `/api/users`, `/api/workspaces` and members.
extension APICall {
    func me(_ p: Principal) async throws -> HTTPResponse {
        guard let token = try await store.token(id: p.tokenID) else { throw APIError.unauthorized() }
        let memberships = p.roles.sorted { $0.key < $1.key }
            .filter { p.tokenWorkspace == nil || $0.key == p.tokenWorkspace }
            .map { JSONValue.object([("workspace", .string($0.key)), ("role", .string($0.value.rawValue))]) }
        return .json(.ok, .object([
            ("user", RecordJSON.user(p.user)),
            ("token", .object([("id", .string(token.id)), ("kind", .string(token.kind.rawValue)),
                               ("scopes", RecordJSON.scopes(token.scopes)), ("workspace", .optional(token.workspaceID)),
                               ("expiresAt", .date(token.expiresAt))])),
            ("memberships", .array(memberships)),
        ]))
    }

    func createUser(_ p: Principal) async throws -> HTTPResponse {
        try require(Policy.can(p, .manageUsers), p, "create users")
        let body = try body()
        let name = try body.requiredString("name")
        if let problem = Validation.displayName(name) { throw APIError.badRequest(problem) }
        let kindName = try body.string("kind") ?? "user"
        guard let kind = User.Kind(rawValue: kindName) else { throw APIError.badRequest("kind must be user or bot") }
        let user = IdentityFactory.user(name: name, kind: kind, isAdmin: try body.bool("admin") ?? false, now: now)
        try await store.createUser(user)
        access.audit("user.create", actor: p.user.id, target: user.id,
                     detail: "\(user.name) (\(user.kind.rawValue)\(user.isAdmin ? ", admin" : ""))", address: request.remoteAddress)
        return .json(.created, .object([("user", RecordJSON.user(user))]))
    }

    func listUsers(_ p: Principal) async throws -> HTTPResponse {
        try require(Policy.can(p, .manageUsers), p, "list users")
        let users = try await store.users()
        return .json(.ok, .object([("users", .array(users.map(RecordJSON.user)))]))
    }

    func listWorkspaces(_ p: Principal) async throws -> HTTPResponse {
        try require(p.scopes.contains(.read), p, "list workspaces without the read scope")
        let all = try await store.workspaces()
        let visible = all.filter { p.role(in: $0.id) != nil }
        return .json(.ok, .object([("workspaces", .array(visible.map { RecordJSON.workspace($0, role: p.role(in: $0.id)) }))]))
    }

    func createWorkspace(_ p: Principal) async throws -> HTTPResponse {
        try require(Policy.can(p, .createWorkspace), p, "create workspaces")
        let body = try body()
        let id = try body.requiredString("id")
        if let problem = Validation.segment(id, what: "a workspace id") { throw APIError.badRequest(problem) }
        let name = try body.string("name") ?? id
        if let problem = Validation.displayName(name) { throw APIError.badRequest(problem) }
        let workspace = Workspace(id: id, name: name, createdAt: now)
        try await store.createWorkspace(workspace, owner: p.user.id)
        access.audit("workspace.create", actor: p.user.id, workspace: id, target: id, detail: name, address: request.remoteAddress)
        await access.membershipsChanged(of: p.user.id)
        return .json(.created, .object([("workspace", RecordJSON.workspace(workspace, role: .owner))]))
    }

    func getWorkspace(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .read, in: ws, "read workspace \(ws)")
        let workspace = try await existingWorkspace(ws)
        return .json(.ok, .object([("workspace", RecordJSON.workspace(workspace, role: p.role(in: ws)))]))
    }

    func listMembers(_ ws: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .read, in: ws, "read the members of \(ws)")
        _ = try await existingWorkspace(ws)
        let members = try await store.members(of: ws).sorted { $0.0.name < $1.0.name }
        return .json(.ok, .object([("members", .array(members.map { RecordJSON.member($0.0, $0.1) }))]))
    }

    /// Adds a member or changes its role; `member.add` or `member.role` in the audit log.
    func setMember(_ ws: String, _ userID: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .manageMembers, in: ws, "manage the members of \(ws)", target: userID)
        _ = try await existingWorkspace(ws)
        let role = try Self.parseRole(try body().requiredString("role"))
        guard try await store.user(id: userID) != nil else { throw APIError.notFound("no user \(userID)") }
        let previous = try await store.memberships(of: userID)[ws]
        try await store.setRole(role, of: userID, in: ws, by: p.actor)
        access.audit(previous == nil ? "member.add" : "member.role", actor: p.user.id, workspace: ws, target: userID,
                     detail: previous.map { "\($0.rawValue) → \(role.rawValue)" } ?? role.rawValue, address: request.remoteAddress)
        await access.membershipsChanged(of: userID)
        return .json(.ok, .object([("membership", RecordJSON.membership(Membership(workspaceID: ws, userID: userID, role: role)))]))
    }

    func removeMember(_ ws: String, _ userID: String, _ p: Principal) async throws -> HTTPResponse {
        try require(p, .manageMembers, in: ws, "manage the members of \(ws)", target: userID)
        guard try await store.removeMember(userID, from: ws, by: p.actor) else { throw APIError.notFound("\(userID) is not a member of \(ws)") }
        access.audit("member.remove", actor: p.user.id, workspace: ws, target: userID, address: request.remoteAddress)
        await access.membershipsChanged(of: userID)
        return .json(.ok, .object([("removed", .bool(true))]))
    }
}
