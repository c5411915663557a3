import Foundation
import Testing

/// `POST /api/users/{id}/disable|enable|signout` and `DELETE /api/users/{id}`: applied to live
/// sessions before the API answers, audited, admin-only, never leaving the server without an
/// enabled admin (docs/api.md, docs/security.md).
@Suite("access: REST user disable, enable, delete and sign out everywhere",
       .latticeServer(["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent"]))
struct AccessUserLifecycleTests {
    @Test("disable: 4003 'user disabled' at once, 401 over REST and the upgrade (as for any bad token), audited; enable restores")
    func disableThenEnable() async throws {
        let t = try APITestSupport()
        let admin = try t.admin
        let (token, user) = try await t.member("editor", name: "rest-disabled")
        let socket = try await UserLifecycle.liveSession(t, name: "rest-disabled", token: token)

        let disabled = try t.call("POST", "/api/users/\(user)/disable", token: admin)
        #expect(disabled.status == 200, "\(disabled)")
        let record = disabled.json["user"] as? [String: Any]
        #expect(record?["disabled"] as? Bool == true)
        #expect(record?["disabledAt"] is String)
        let (code, reason) = try AdminChangeTests.closeFrame(socket)
        #expect(code == 4003)
        #expect(reason == "user disabled")
        try UserLifecycle.expectRefused(t, token)
        let listed = try t.call("GET", "/api/users", token: admin).json["users"] as? [[String: Any]]
        #expect(listed?.first { $0["id"] as? String == user }?["disabled"] as? Bool == true)

        // The reason is in the audit log only.
        let action = try await UserLifecycle.auditEntry(t) { $0["action"] as? String == "user.disable" && $0["target"] as? String == user }
        #expect(action != nil)
        let refusal = try await UserLifecycle.auditEntry(t) {
            $0["action"] as? String == "signin.failed" && ($0["detail"] as? String)?.hasPrefix("disabled user") == true
        }
        #expect(refusal != nil)

        let enabled = try t.call("POST", "/api/users/\(user)/enable", token: admin)
        #expect(enabled.status == 200, "\(enabled)")
        #expect((enabled.json["user"] as? [String: Any])?["disabled"] as? Bool == false)
        try UserLifecycle.expectAccepted(t, token)
        #expect(try await UserLifecycle.auditEntry(t) { $0["action"] as? String == "user.enable" && $0["target"] as? String == user } != nil)
    }

    @Test("delete: 4003 'user deleted' at once, its tokens get 401, the user and its memberships are gone, audited")
    func delete() async throws {
        let t = try APITestSupport()
        let admin = try t.admin
        let (token, user) = try await t.member("editor", name: "rest-deleted")
        let socket = try await UserLifecycle.liveSession(t, name: "rest-deleted", token: token)

        let deleted = try t.call("DELETE", "/api/users/\(user)", token: admin)
        #expect(deleted.status == 200, "\(deleted)")
        #expect(deleted.json["deleted"] as? Bool == true)
        let (code, reason) = try AdminChangeTests.closeFrame(socket)
        #expect(code == 4003)
        #expect(reason == "user deleted")
        try UserLifecycle.expectRefused(t, token)
        let users = try t.call("GET", "/api/users", token: admin).json["users"] as? [[String: Any]] ?? []
        #expect(!users.contains { $0["id"] as? String == user })
        let members = try t.call("GET", "/api/workspaces/demo/members", token: admin).text
        #expect(!members.contains(user))
        #expect(try t.call("DELETE", "/api/users/\(user)", token: admin).status == 404)
        #expect(try await UserLifecycle.auditEntry(t) { $0["action"] as? String == "user.delete" && $0["target"] as? String == user } != nil)
    }

    @Test("sign out everywhere: every token revoked, each live session closes with 4003 'token revoked'; a user may sign itself out")
    func signOut() async throws {
        let t = try APITestSupport()
        let admin = try t.admin
        let (first, user) = try await t.member("editor", name: "rest-signout")
        let made = try t.call("POST", "/api/tokens", token: admin, json: ["userID": user, "label": "second"])
        #expect(made.status == 201, "\(made)")
        let second = try #require(made.json["token"] as? String)
        let one = try await UserLifecycle.liveSession(t, name: "rest-signout", token: first)
        let two = try await UserLifecycle.liveSession(t, name: "rest-signout", token: second)

        let answer = try t.call("POST", "/api/users/\(user)/signout", token: admin)
        #expect(answer.status == 200, "\(answer)")
        let revoked = (answer.json["revoked"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(Set(revoked) == [UserLifecycle.tokenID(first), UserLifecycle.tokenID(second)])
        for socket in [one, two] {
            let (code, reason) = try AdminChangeTests.closeFrame(socket)
            #expect(code == 4003)
            #expect(reason == "token revoked")
        }
        try UserLifecycle.expectRefused(t, first)
        try UserLifecycle.expectRefused(t, second)
        #expect(try await UserLifecycle.auditEntry(t) { $0["action"] as? String == "user.signout" && $0["target"] as? String == user } != nil)

        // Themselves: their own token signs out with the rest.
        let (own, ownUser) = try await t.member("viewer", name: "rest-self-signout")
        let session = try await UserLifecycle.liveSession(t, name: "rest-self-signout", token: own)
        #expect(try t.call("POST", "/api/users/\(ownUser)/signout", token: own).status == 200)
        let (code, reason) = try AdminChangeTests.closeFrame(session)
        #expect(code == 4003)
        #expect(reason == "token revoked")
        try UserLifecycle.expectRefused(t, own)
    }

    @Test("admin only (403, audited), 404 for an unknown user, and the last enabled admin cannot be disabled or deleted (409)")
    func refusals() async throws {
        let t = try APITestSupport()
        let admin = try t.admin
        let (editor, editorID) = try await t.member("owner", name: "rest-not-admin")
        let (_, other) = try await t.member("viewer", name: "rest-target")
        for (method, path) in [("POST", "/api/users/\(other)/disable"), ("POST", "/api/users/\(other)/enable"),
                               ("DELETE", "/api/users/\(other)"), ("POST", "/api/users/\(other)/signout")] {
            let answer = try t.call(method, path, token: editor)
            #expect(answer.status == 403, "\(method) \(path): \(answer)")
        }
        try UserLifecycle.expectAccepted(t, editor)
        #expect(try await UserLifecycle.auditEntry(t) { $0["action"] as? String == "access.refused" && $0["actor"] as? String == editorID } != nil)
        #expect(try t.call("POST", "/api/users/u_0000000000000000/disable", token: admin).status == 404)
        #expect(try t.call("DELETE", "/api/users/u_0000000000000000", token: admin).status == 404)

        let me = try t.call("GET", "/api/me", token: admin)
        let adminID = try #require((me.json["user"] as? [String: Any])?["id"] as? String)
        for (method, path) in [("POST", "/api/users/\(adminID)/disable"), ("DELETE", "/api/users/\(adminID)")] {
            let answer = try t.call(method, path, token: admin)
            #expect(answer.status == 409, "\(method) \(path): \(answer)")
            #expect(answer.text.contains("last enabled server admin"), "\(answer)")
        }
        try UserLifecycle.expectAccepted(t, admin)
    }
}
