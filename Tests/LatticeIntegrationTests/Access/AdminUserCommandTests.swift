import Foundation
import Testing

/// `lattice admin user disable|enable|delete|signout` beside the running server: the store
/// records the change and the server ends the user's live sessions within its identity poll.
@Suite("access: lattice admin user disable, enable, delete, signout",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent"]))
struct AccessAdminUserCommandTests {
    static func expectSuccess(_ t: APITestSupport, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let (status, out, err) = try await t.admin(arguments)
        #expect(status == 0, "lattice admin \(arguments): \(out) \(err)", sourceLocation: sourceLocation)
        return out
    }

    @Test("user disable: live sessions close with 4003 'user disabled', its tokens get 401; user enable: they work again")
    func disableThenEnable() async throws {
        let t = try APITestSupport()
        let (token, user) = try await t.member("editor", name: "cli-disabled")
        let socket = try await UserLifecycle.liveSession(t, name: "cli-disabled", token: token)
        _ = try await Self.expectSuccess(t, ["user", "disable", user])
        let (code, reason) = try AdminChangeTests.closeFrame(socket)
        #expect(code == 4003)
        #expect(reason == "user disabled")
        try UserLifecycle.expectRefused(t, token)
        let listed = try await Self.expectSuccess(t, ["user", "list"])
        #expect(listed.split(separator: "\n").contains { $0.hasPrefix(user) && $0.hasSuffix("(disabled)") }, "\(listed)")

        _ = try await Self.expectSuccess(t, ["user", "enable", user])
        try UserLifecycle.expectAccepted(t, token)
        #expect(try t.call("GET", "/api/workspaces/demo/members", token: token).status == 200, "memberships were kept")
        let audit = try await Self.expectSuccess(t, ["audit", "--limit", "1000"])
        #expect(audit.contains("user.disable  -  -  \(user)"), "\(audit)")
        #expect(audit.contains("user.enable  -  -  \(user)"), "\(audit)")
    }

    @Test("user delete: live sessions close with 4003 'user deleted', its tokens get 401, the user is gone")
    func delete() async throws {
        let t = try APITestSupport()
        let (token, user) = try await t.member("editor", name: "cli-deleted")
        let socket = try await UserLifecycle.liveSession(t, name: "cli-deleted", token: token)
        _ = try await Self.expectSuccess(t, ["user", "delete", user])
        let (code, reason) = try AdminChangeTests.closeFrame(socket)
        #expect(code == 4003)
        #expect(reason == "user deleted")
        try UserLifecycle.expectRefused(t, token)
        #expect(!(try await Self.expectSuccess(t, ["user", "list"])).contains(user))
        let (again, _, err) = try await t.admin(["user", "delete", user])
        #expect(again == 1)
        #expect(err.contains("no user \(user)"), "\(err)")
    }

    @Test("user signout: every token of the user is revoked (printed), each live session closes with 4003 'token revoked'")
    func signOut() async throws {
        let t = try APITestSupport()
        let (first, user) = try await t.member("editor", name: "cli-signout")
        let (second, _) = try await t.member("editor", extra: ["--user", user])
        let one = try await UserLifecycle.liveSession(t, name: "cli-signout", token: first)
        let two = try await UserLifecycle.liveSession(t, name: "cli-signout", token: second)
        let out = try await Self.expectSuccess(t, ["user", "signout", user])
        #expect(Set(out.split(separator: "\n").map(String.init)) == [UserLifecycle.tokenID(first), UserLifecycle.tokenID(second)])
        for socket in [one, two] {
            let (code, reason) = try AdminChangeTests.closeFrame(socket)
            #expect(code == 4003)
            #expect(reason == "token revoked")
        }
        try UserLifecycle.expectRefused(t, first)
        try UserLifecycle.expectRefused(t, second)
    }

    @Test("the last enabled admin cannot be disabled or deleted: exit 1 with one line saying why")
    func lastAdmin() async throws {
        let t = try APITestSupport()
        let admin = try t.admin
        let me = try t.call("GET", "/api/me", token: admin)
        let adminID = try #require((me.json["user"] as? [String: Any])?["id"] as? String)
        for command in ["disable", "delete"] {
            let (status, out, err) = try await t.admin(["user", command, adminID])
            #expect(status == 1, "\(out) \(err)")
            #expect(err.split(separator: "\n").count == 1, "\(err)")
            #expect(err.contains("last enabled server admin"), "\(err)")
        }
        try UserLifecycle.expectAccepted(t, admin)
    }
}
