import Foundation
import LatticeAuth
import Testing

@Suite("policy: roles, scopes, workspaces")
struct PolicyTests {
    static func principal(role: Role?, in workspace: String = "acme", admin: Bool = false, kind: User.Kind = .user,
                          scopes: Set<TokenScope> = Set(TokenScope.allCases), tokenWorkspace: String? = nil) -> Principal {
        let user = User(id: "u_1", name: "Ada", kind: kind, isAdmin: admin, createdAt: Date())
        return Principal(user: user, tokenID: "t_1", scopes: scopes, tokenWorkspace: tokenWorkspace,
                         roles: role.map { [workspace: $0] } ?? [:])
    }

    /// The documented matrix (docs/security.md): what each role may do in its own workspace.
    static let matrix: [(Role, Permission, Bool)] = [
        (.viewer, .read, true), (.viewer, .presence, true), (.viewer, .write, false),
        (.viewer, .manageMembers, false), (.viewer, .readAudit, false),
        (.editor, .read, true), (.editor, .presence, true), (.editor, .write, true),
        (.editor, .manageMembers, false), (.editor, .readAudit, false),
        (.owner, .read, true), (.owner, .presence, true), (.owner, .write, true),
        (.owner, .manageMembers, true), (.owner, .readAudit, true),
    ]

    @Test("each role in its own workspace, with a full-scope token")
    func roleMatrix() {
        for (role, permission, allowed) in Self.matrix {
            #expect(Policy.can(Self.principal(role: role), permission, in: "acme") == allowed, "\(role) \(permission)")
        }
    }

    @Test("no role in another workspace: everything refused, whatever the role at home")
    func crossWorkspace() {
        for role in Role.allCases {
            for permission in Permission.allCases {
                #expect(!Policy.can(Self.principal(role: role), permission, in: "other"))
            }
        }
    }

    @Test("a token's scopes cap its user's role")
    func scopes() {
        let readOnly = Self.principal(role: .owner, scopes: [.read])
        #expect(Policy.can(readOnly, .read, in: "acme"))
        #expect(Policy.can(readOnly, .presence, in: "acme"))
        #expect(!Policy.can(readOnly, .write, in: "acme"))
        #expect(!Policy.can(readOnly, .manageMembers, in: "acme"))
        let writer = Self.principal(role: .owner, scopes: [.read, .write])
        #expect(Policy.can(writer, .write, in: "acme"))
        #expect(!Policy.can(writer, .readAudit, in: "acme"))
    }

    @Test("a workspace-bound (bot) token works only in its workspace")
    func boundToken() {
        var bot = Self.principal(role: .editor, kind: .bot, tokenWorkspace: "acme")
        bot.roles["other"] = .owner
        #expect(Policy.can(bot, .write, in: "acme"))
        #expect(!Policy.can(bot, .read, in: "other"))
        #expect(!Policy.can(bot, .createWorkspace))
    }

    @Test("server admins act as owners everywhere; server actions need admin and the manage scope")
    func admin() {
        let admin = Self.principal(role: nil, admin: true)
        #expect(Policy.can(admin, .manageMembers, in: "anything"))
        #expect(Policy.can(admin, .manageUsers))
        #expect(Policy.can(admin, .readAllAudit))
        #expect(!Policy.can(Self.principal(role: nil, admin: true, scopes: [.read, .write]), .manageUsers))
        #expect(!Policy.can(Self.principal(role: .owner), .manageUsers))
        #expect(Policy.can(Self.principal(role: nil), .createWorkspace))
    }

    @Test("roles are ordered viewer < editor < owner")
    func order() {
        #expect(Role.viewer < .editor && Role.editor < .owner)
        #expect(Role.allCases.sorted() == [.viewer, .editor, .owner])
    }
}

@Suite("token bucket")
struct TokenBucketTests {
    /// `#expect` cannot call a mutating method on its argument; this does it outside.
    func take(_ bucket: inout TokenBucket, _ cost: Double = 1, now: Double) -> Bool {
        bucket.take(cost, now: now)
    }

    @Test("a burst, then the rate")
    func refill() {
        var bucket = TokenBucket(rate: 10, burst: 5, now: 0)
        for _ in 0..<5 { #expect(take(&bucket, now: 0)) }
        #expect(!take(&bucket, now: 0))
        #expect(!take(&bucket, now: 0.05))  // half a unit back
        #expect(take(&bucket, now: 0.1))
        #expect(!take(&bucket, now: 0.1))
        // Never above the burst, however long it rests.
        for _ in 0..<5 { #expect(take(&bucket, now: 100)) }
        #expect(!take(&bucket, now: 100))
    }

    @Test("costs above one (bytes)")
    func cost() {
        var bucket = TokenBucket(rate: 1000, burst: 1000, now: 0)
        #expect(take(&bucket, 600, now: 0))
        #expect(!take(&bucket, 600, now: 0))
        #expect(take(&bucket, 600, now: 0.2))
    }

    @Test("a clock that goes backwards refills nothing")
    func backwards() {
        var bucket = TokenBucket(rate: 1, burst: 1, now: 10)
        #expect(take(&bucket, now: 10))
        #expect(!take(&bucket, now: 5))
        #expect(!take(&bucket, now: 10.5))
        #expect(take(&bucket, now: 11))
    }

    @Test("a bot token made for capabilities serves only those; a token without capabilities serves any; serving needs write")
    func workerCapabilities() {
        var bot = PolicyTests.principal(role: .editor, kind: .bot, tokenWorkspace: "acme")
        #expect(Policy.canServe(bot, ["wc", "shell"], in: "acme"), "no capabilities on the token: any")
        bot.tokenCapabilities = ["wc", "shell"]
        #expect(Policy.canServe(bot, ["wc"], in: "acme") && Policy.canServe(bot, ["shell", "wc"], in: "acme"))
        #expect(!Policy.canServe(bot, ["wc", "deploy"], in: "acme"))
        #expect(!Policy.canServe(bot, ["wc"], in: "other"), "a bound token works only in its workspace")
        #expect(!Policy.canServe(PolicyTests.principal(role: .viewer), ["wc"], in: "acme"), "a viewer does not serve")
        #expect(!Policy.canServe(PolicyTests.principal(role: .editor, scopes: [.read]), ["wc"], in: "acme"), "a read-only token does not serve")
    }
}
