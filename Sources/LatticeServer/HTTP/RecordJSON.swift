import Foundation
import LatticeAuth

/// How records appear in API answers. Secrets and their hashes never do.
enum RecordJSON {
    static func user(_ u: User) -> JSONValue {
        .object([("id", .string(u.id)), ("name", .string(u.name)), ("kind", .string(u.kind.rawValue)),
                 ("admin", .bool(u.isAdmin)), ("createdAt", .date(u.createdAt)),
                 ("disabled", .bool(u.isDisabled)), ("disabledAt", .date(u.disabledAt))])
    }

    static func workspace(_ w: Workspace, role: Role? = nil) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("id", .string(w.id)), ("name", .string(w.name)), ("createdAt", .date(w.createdAt))]
        if let role { pairs.append(("role", .string(role.rawValue))) }
        return .object(pairs)
    }

    static func membership(_ m: Membership) -> JSONValue {
        .object([("workspace", .string(m.workspaceID)), ("user", .string(m.userID)), ("role", .string(m.role.rawValue))])
    }

    static func member(_ u: User, _ role: Role) -> JSONValue {
        .object([("user", user(u)), ("role", .string(role.rawValue))])
    }

    static func scopes(_ s: Set<TokenScope>) -> JSONValue {
        .array(TokenScope.allCases.filter(s.contains).map { .string($0.rawValue) })
    }

    static func token(_ t: TokenRecord, now: Date = Date()) -> JSONValue {
        .object([("id", .string(t.id)), ("user", .string(t.userID)), ("kind", .string(t.kind.rawValue)),
                 ("scopes", scopes(t.scopes)), ("workspace", .optional(t.workspaceID)),
                 ("capabilities", .array(t.capabilities.map { .string($0) })), ("label", .string(t.label)),
                 ("createdAt", .date(t.createdAt)), ("expiresAt", .date(t.expiresAt)), ("revokedAt", .date(t.revokedAt)),
                 ("active", .bool(t.isActive(at: now)))])
    }

    static func invitation(_ i: Invitation, now: Date = Date()) -> JSONValue {
        .object([("id", .string(i.id)), ("workspace", .string(i.workspaceID)), ("role", .string(i.role.rawValue)),
                 ("state", .string(i.state(at: now).rawValue)), ("createdBy", .string(i.createdBy)),
                 ("createdAt", .date(i.createdAt)), ("expiresAt", .date(i.expiresAt)),
                 ("usedAt", .date(i.usedAt)), ("usedBy", .optional(i.usedBy)), ("revokedAt", .date(i.revokedAt))])
    }

    static func audit(_ e: AuditEntry) -> JSONValue {
        .object([("id", .int(e.id)), ("at", .date(e.at)), ("actor", .optional(e.actorID)), ("action", .string(e.action)),
                 ("workspace", .optional(e.workspaceID)), ("target", .optional(e.target)), ("detail", .string(e.detail)),
                 ("address", .optional(e.address))])
    }
}
