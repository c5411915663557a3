import Foundation
import Testing

/// The REST API, browser sign-in and `lattice admin` against a real `lattice serve` on a fresh
/// data directory (its first start prints the admin token).
@Suite("API: REST, sign-in and lattice admin", .latticeServer(APITestSupport.serveArguments))
struct APITests {
    /// Routing, status codes, the Origin rule and pipelining are tested in process
    /// (Tests/LatticeServerTests/HTTP); this suite keeps what needs the real server.
    @Test("401 with a forged and an expired token; failures are audited with the peer address")
    func unauthorized() async throws {
        let t = try APITestSupport()
        let admin = try t.admin
        let forged = String(admin.dropLast(4)) + "AAAA"
        let forgedAnswer = try t.call("GET", "/api/me", token: forged)
        #expect(forgedAnswer.status == 401)
        #expect(forgedAnswer.errorCode == "unauthorized")

        // An expiring token is accepted before its expiry and refused after it. Two tokens, so
        // that no step depends on how fast this machine is: one whose expiry is an hour away
        // (accepted however slow the child process that made it was), one that expires in 1 s.
        // The exact boundary is tested in process (TokenRecordTests).
        let lasting = try await t.member("viewer", extra: ["--expires-in", "3600"])
        #expect(try t.call("GET", "/api/me", token: lasting.token).status == 200)
        let created = ContinuousClock.now
        let expiring = try await t.member("viewer", extra: ["--expires-in", "1"])
        var afterExpiry = try t.call("GET", "/api/me", token: expiring.token).status
        while afterExpiry == 200, ContinuousClock.now < created + .seconds(60) {
            try await Task.sleep(for: .milliseconds(200))
            afterExpiry = try t.call("GET", "/api/me", token: expiring.token).status
        }
        #expect(afterExpiry == 401)

        // Both refusals are in the server's audit log with the peer address (audit writes do not
        // hold up the answer, so look again briefly).
        var entries: [[String: Any]] = []
        func has(_ reason: String) -> Bool {
            entries.contains { $0["action"] as? String == "signin.failed" && ($0["detail"] as? String ?? "").contains(reason)
                && $0["address"] as? String == "127.0.0.1" }
        }
        for _ in 0..<20 {
            let log = try t.call("GET", "/api/audit?limit=1000", token: admin)
            #expect(log.status == 200)
            entries = log.json["entries"] as? [[String: Any]] ?? []
            if has("wrong secret") && has("expired") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(has("wrong secret"))
        #expect(has("expired"))
    }

    @Test("/api/me shows the user, the token and the memberships")
    func me() async throws {
        let t = try APITestSupport()
        let answer = try t.call("GET", "/api/me", token: try t.admin)
        #expect(answer.status == 200)
        let user = answer.json["user"] as? [String: Any]
        #expect(user?["name"] as? String == "admin")
        #expect(user?["admin"] as? Bool == true)
        let token = answer.json["token"] as? [String: Any]
        #expect(token?["kind"] as? String == "api")
        #expect(token?["scopes"] as? [String] == ["read", "write", "manage"])
        let memberships = answer.json["memberships"] as? [[String: Any]] ?? []
        #expect(memberships.contains { $0["workspace"] as? String == "demo" && $0["role"] as? String == "owner" })
    }

    @Test("member management: viewers and editors are refused (and audited), owners manage, the last owner stays")
    func roleMatrix() async throws {
        let t = try APITestSupport()
        let ws = try await t.workspace("roles")
        let viewer = try await t.member("viewer", in: ws.id)
        let editor = try await t.member("editor", in: ws.id)
        let outsider = try await t.member("owner", in: "demo")
        let target = try await t.member("viewer", in: ws.id)

        for (who, token) in [("viewer", viewer.token), ("editor", editor.token), ("outsider", outsider.token)] {
            let put = try t.call("PUT", "/api/workspaces/\(ws.id)/members/\(target.userID)", token: token, json: ["role": "owner"])
            #expect(put.status == 403, "\(who) changed a role: \(put)")
            #expect(put.errorCode == "forbidden")
            let delete = try t.call("DELETE", "/api/workspaces/\(ws.id)/members/\(target.userID)", token: token)
            #expect(delete.status == 403, "\(who) removed a member: \(delete)")
        }
        // Members read the member list; outsiders do not.
        #expect(try t.call("GET", "/api/workspaces/\(ws.id)/members", token: viewer.token).status == 200)
        #expect(try t.call("GET", "/api/workspaces/\(ws.id)/members", token: outsider.token).status == 403)
        #expect(try t.call("GET", "/api/workspaces/\(ws.id)", token: outsider.token).status == 403)

        // The owner promotes, demotes and removes.
        let promote = try t.call("PUT", "/api/workspaces/\(ws.id)/members/\(target.userID)", token: ws.token, json: ["role": "editor"])
        #expect(promote.status == 200)
        #expect((promote.json["membership"] as? [String: Any])?["role"] as? String == "editor")
        #expect(try t.call("PUT", "/api/workspaces/\(ws.id)/members/\(target.userID)", token: ws.token, json: ["role": "chief"]).status == 400)
        #expect(try t.call("PUT", "/api/workspaces/\(ws.id)/members/u_0000000000000000", token: ws.token, json: ["role": "viewer"]).status == 404)
        #expect(try t.call("DELETE", "/api/workspaces/\(ws.id)/members/\(target.userID)", token: ws.token).status == 200)
        #expect(try t.call("DELETE", "/api/workspaces/\(ws.id)/members/\(target.userID)", token: ws.token).status == 404)

        // The last owner cannot demote or remove itself.
        let demote = try t.call("PUT", "/api/workspaces/\(ws.id)/members/\(ws.userID)", token: ws.token, json: ["role": "viewer"])
        #expect(demote.status == 409)
        #expect(demote.errorCode == "conflict")
        #expect(try t.call("DELETE", "/api/workspaces/\(ws.id)/members/\(ws.userID)", token: ws.token).status == 409)

        // The refusals and the changes are in the workspace's audit log, which only owners read.
        let log = try t.call("GET", "/api/workspaces/\(ws.id)/audit?limit=100", token: ws.token)
        #expect(log.status == 200)
        let actions = (log.json["entries"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
        #expect(actions.contains("access.refused"))
        #expect(actions.contains("member.role"))
        #expect(actions.contains("member.remove"))
        #expect(try t.call("GET", "/api/workspaces/\(ws.id)/audit", token: editor.token).status == 403)
        #expect(try t.call("GET", "/api/workspaces/\(ws.id)/audit", token: viewer.token).status == 403)
        #expect(try t.call("GET", "/api/audit", token: ws.token).status == 403)
    }

    @Test("tokens: the secret is shown once, never listed; scopes cannot grow; revoked tokens stop working")
    func tokens() async throws {
        let t = try APITestSupport()
        let user = try await t.member("editor")
        let created = try t.call("POST", "/api/tokens", token: user.token, json: ["label": "ci", "scopes": ["read"], "expiresInSeconds": 3600])
        #expect(created.status == 201, "\(created)")
        let secret = try #require(created.json["token"] as? String)
        #expect(secret.hasPrefix("lat_t_"))
        let record = try #require(created.json["record"] as? [String: Any])
        let id = try #require(record["id"] as? String)
        #expect(record["scopes"] as? [String] == ["read"])
        #expect(record["secretHash"] == nil)

        let list = try t.call("GET", "/api/tokens", token: user.token)
        #expect(list.status == 200)
        // The secret half follows `lat_t_` and the 16 hex digits of the id (it may itself hold `_`).
        let secretHalf = String(secret.dropFirst("lat_t_".count + 17))
        #expect(secretHalf.count == 43)
        #expect(!list.text.contains(secretHalf))
        #expect((list.json["tokens"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == id })
        #expect(!list.text.contains("secretHash"))

        // The read-only token reads but cannot make a broader token or a bot token.
        #expect(try t.call("GET", "/api/me", token: secret).status == 200)
        #expect(try t.call("POST", "/api/tokens", token: secret, json: ["scopes": ["read", "write"]]).status == 403)
        #expect(try t.call("POST", "/api/tokens", token: user.token, json: ["kind": "bot", "workspace": "demo"]).status == 403)
        #expect(try t.call("POST", "/api/tokens", token: user.token, json: ["kind": "bot"]).status == 400)
        // Tokens for another user need a server admin.
        #expect(try t.call("POST", "/api/tokens", token: user.token, json: ["userID": "u_0000000000000000"]).status == 403)

        // Someone else cannot revoke it; the owner can, and then it fails.
        let other = try await t.member("viewer")
        #expect(try t.call("DELETE", "/api/tokens/\(id)", token: other.token).status == 403)
        let revoked = try t.call("DELETE", "/api/tokens/\(id)", token: user.token)
        #expect(revoked.status == 200)
        #expect((revoked.json["record"] as? [String: Any])?["active"] as? Bool == false)
        #expect(try t.call("GET", "/api/me", token: secret).status == 401)
        #expect(try t.call("DELETE", "/api/tokens/t_0000000000000000", token: user.token).status == 404)
    }

    @Test("admin creates users and bot tokens; non-admins cannot")
    func adminUsers() async throws {
        let t = try APITestSupport()
        let admin = try t.admin
        let made = try t.call("POST", "/api/users", token: admin, json: ["name": "Robot", "kind": "bot"])
        #expect(made.status == 201)
        let botID = try #require((made.json["user"] as? [String: Any])?["id"] as? String)
        #expect(try t.call("GET", "/api/users", token: admin).status == 200)
        let plain = try await t.member("owner")
        #expect(try t.call("POST", "/api/users", token: plain.token, json: ["name": "x"]).status == 403)
        #expect(try t.call("GET", "/api/users", token: plain.token).status == 403)
        #expect(try t.call("POST", "/api/users", token: admin, json: ["name": ""]).status == 400)
        #expect(try t.call("POST", "/api/users", token: admin, json: ["name": 5]).status == 400)
        #expect(try t.call("POST", "/api/users", token: admin, body: Array("{not json".utf8)).status == 400)

        #expect(try t.call("PUT", "/api/workspaces/demo/members/\(botID)", token: admin, json: ["role": "editor"]).status == 200)
        let bot = try t.call("POST", "/api/tokens", token: admin,
                             json: ["userID": botID, "kind": "bot", "workspace": "demo", "capabilities": ["summarize"]])
        #expect(bot.status == 201, "\(bot)")
        let botToken = try #require(bot.json["token"] as? String)
        let me = try t.call("GET", "/api/me", token: botToken)
        #expect((me.json["token"] as? [String: Any])?["workspace"] as? String == "demo")
        // A bot token cannot make an unbound token.
        #expect(try t.call("POST", "/api/tokens", token: botToken, json: ["workspace": "elsewhere"]).status == 403)
    }

    @Test("workspaces: create (creator owns it), list own, bad ids refused, duplicates conflict")
    func workspaces() async throws {
        let t = try APITestSupport()
        let user = try await t.member("viewer")
        let id = "ws-\(UInt32.random(in: 0...UInt32.max))"
        let created = try t.call("POST", "/api/workspaces", token: user.token, json: ["id": id, "name": "Mine"])
        #expect(created.status == 201, "\(created)")
        #expect(try t.call("POST", "/api/workspaces", token: user.token, json: ["id": id]).status == 409)
        #expect(try t.call("POST", "/api/workspaces", token: user.token, json: ["id": "bad/id"]).status == 400)
        let list = try t.call("GET", "/api/workspaces", token: user.token)
        let ids = (list.json["workspaces"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(Set(ids) == [id, "demo"])
        let members = try t.call("GET", "/api/workspaces/\(id)/members", token: user.token)
        #expect((members.json["members"] as? [[String: Any]])?.first?["role"] as? String == "owner")
    }

    @Test("invitations: accepted once; used, expired and revoked ones refused; a failed accept does not burn it")
    func invitations() async throws {
        let t = try APITestSupport()
        let ws = try await t.workspace("inv")
        let editor = try await t.member("editor", in: ws.id)
        #expect(try t.call("POST", "/api/workspaces/\(ws.id)/invitations", token: editor.token, json: ["role": "viewer"]).status == 403)
        #expect(try t.call("POST", "/api/workspaces/\(ws.id)/invitations", token: ws.token,
                           json: ["role": "viewer", "expiresInSeconds": 31 * 86_400]).status == 400)

        let made = try t.call("POST", "/api/workspaces/\(ws.id)/invitations", token: ws.token, json: ["role": "editor"])
        #expect(made.status == 201, "\(made)")
        let secret = try #require(made.json["invitation"] as? String)
        #expect(secret.hasPrefix("lat_i_"))
        #expect(made.json["link"] as? String == "/signin?invite=" + secret)

        // Failures that must not burn it: no name, a wrong secret.
        #expect(try t.call("POST", "/api/invitations/accept", json: ["invitation": secret]).status == 400)
        let wrong = String(secret.dropLast(4)) + "AAAA"
        #expect(try t.call("POST", "/api/invitations/accept", json: ["invitation": wrong, "name": "Eve"]).status == 401)
        #expect(try t.call("POST", "/api/invitations/accept", json: ["invitation": "lat_i_0123456789abcdef_x", "name": "Eve"]).status == 404)

        let accepted = try t.call("POST", "/api/invitations/accept", json: ["invitation": secret, "name": "Carol"])
        #expect(accepted.status == 200, "\(accepted)")
        #expect((accepted.json["membership"] as? [String: Any])?["role"] as? String == "editor")
        #expect(accepted.headers["set-cookie"]?.hasPrefix("lattice_session=lat_t_") == true)
        let session = try #require(accepted.json["token"] as? String)
        let me = try t.call("GET", "/api/me", cookie: "lattice_session=\(session)")
        #expect((me.json["user"] as? [String: Any])?["name"] as? String == "Carol")

        let again = try t.call("POST", "/api/invitations/accept", json: ["invitation": secret, "name": "Dave"])
        #expect(again.status == 409)
        #expect((again.json["error"] as? [String: Any])?["message"] as? String == "the invitation is used")

        // Revoked.
        let second = try t.call("POST", "/api/workspaces/\(ws.id)/invitations", token: ws.token, json: ["role": "viewer"])
        let secondSecret = try #require(second.json["invitation"] as? String)
        let secondID = try #require((second.json["record"] as? [String: Any])?["id"] as? String)
        #expect(try t.call("DELETE", "/api/invitations/\(secondID)", token: editor.token).status == 403)
        #expect(try t.call("DELETE", "/api/invitations/\(secondID)", token: ws.token).status == 200)
        let revokedAgain = try t.call("DELETE", "/api/invitations/\(secondID)", token: ws.token)
        #expect(revokedAgain.status == 409 && revokedAgain.text.contains("revoked"), "revoking it again: \(revokedAgain)")
        let revoked = try t.call("POST", "/api/invitations/accept", json: ["invitation": secondSecret, "name": "Dave"])
        #expect(revoked.status == 409)
        #expect(revoked.text.contains("revoked"))

        // Expired.
        let third = try t.call("POST", "/api/workspaces/\(ws.id)/invitations", token: ws.token, json: ["role": "viewer", "expiresInSeconds": 1])
        let thirdSecret = try #require(third.json["invitation"] as? String)
        try await Task.sleep(for: .milliseconds(1300))
        let expired = try t.call("POST", "/api/invitations/accept", json: ["invitation": thirdSecret, "name": "Dave"])
        #expect(expired.status == 409)
        #expect(expired.text.contains("expired"))

        // An existing user accepts with its token: it joins, no new user.
        let fourth = try t.call("POST", "/api/workspaces/\(ws.id)/invitations", token: ws.token, json: ["role": "viewer"])
        let fourthSecret = try #require(fourth.json["invitation"] as? String)
        let outsider = try await t.member("viewer")
        let joined = try t.call("POST", "/api/invitations/accept", token: outsider.token, json: ["invitation": fourthSecret])
        #expect(joined.status == 200, "\(joined)")
        #expect((joined.json["user"] as? [String: Any])?["id"] as? String == outsider.userID)
        #expect(try t.call("GET", "/api/workspaces/\(ws.id)", token: outsider.token).status == 200)

        let list = try t.call("GET", "/api/workspaces/\(ws.id)/invitations", token: ws.token)
        let states = (list.json["invitations"] as? [[String: Any]] ?? []).compactMap { $0["state"] as? String }
        #expect(states.sorted() == ["expired", "revoked", "used", "used"])
        // The secret half follows `lat_t_` and the 16 hex digits of the id (it may itself hold `_`).
        let secretHalf = String(secret.dropFirst("lat_t_".count + 17))
        #expect(secretHalf.count == 43)
        #expect(!list.text.contains(secretHalf))
    }

    @Test("sign-in: a token link sets the session cookie and redirects; a bad one is 401; sign-out revokes the session")
    func signIn() async throws {
        let t = try APITestSupport()
        let user = try await t.member("editor")
        let answer = try t.call("GET", "/signin?token=\(user.token)")
        #expect(answer.status == 303)
        #expect(answer.headers["location"] == "/")
        let cookie = try #require(answer.headers["set-cookie"])
        #expect(cookie.contains("HttpOnly"))
        #expect(cookie.contains("SameSite=Lax"))
        #expect(cookie.contains("Path=/"))
        let pair = try #require(cookie.split(separator: ";").first.map(String.init))
        #expect(pair.hasPrefix("lattice_session=lat_t_"))
        #expect(!pair.contains(user.token))  // a new session token, not the link's token
        let me = try t.call("GET", "/api/me", cookie: pair)
        #expect(me.status == 200)
        #expect((me.json["token"] as? [String: Any])?["kind"] as? String == "session")

        let bad = try t.call("GET", "/signin?token=lat_t_0123456789abcdef_forged")
        #expect(bad.status == 401)
        #expect(bad.headers["set-cookie"] == nil)

        // A cross-origin cookie request that changes something is refused.
        let crossOrigin = try t.call("POST", "/api/workspaces", cookie: pair, json: ["id": "evil"],
                                     headers: ["Origin": "http://evil.example"])
        #expect(crossOrigin.status == 403)

        let out = try t.call("POST", "/signout", cookie: pair)
        #expect(out.status == 303)
        #expect(out.headers["set-cookie"]?.contains("Max-Age=0") == true)
        #expect(try t.call("GET", "/api/me", cookie: pair).status == 401)
        // The link's own token still works: sign-out ends only the session.
        #expect(try t.call("GET", "/api/me", token: user.token).status == 200)
    }

    @Test("lattice admin signin-link: a one-time link that signs in through /signin, once, and is no token anywhere else")
    func signInLink() async throws {
        let t = try APITestSupport()
        let (status, out, err) = try await t.admin(["signin-link", "--base-url", "http://127.0.0.1:\(t.server.port)"])
        #expect(status == 0, "\(err)")
        let link = out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(link.hasPrefix("http://127.0.0.1:\(t.server.port)/signin?token=lat_t_"), "\(link)")
        let token = String(try #require(link.split(separator: "=", maxSplits: 1).last))
        // Not a credential for the API or the WebSocket.
        #expect(try t.call("GET", "/api/me", token: token).status == 401)
        let socket = try RawWebSocket(port: t.server.port, timeout: 5)
        try socket.write(RawWebSocket.handshakeRequest(path: "/ws", headers: [
            ("Sec-WebSocket-Protocol", "lattice.v1"), ("Authorization", "Bearer \(token)")]))
        #expect(try socket.readHTTPResponse().status == 401)
        // Signs the administrator in, once.
        let first = try t.call("GET", "/signin?token=\(token)")
        #expect(first.status == 303)
        let pair = try #require(first.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
        let me = try t.call("GET", "/api/me", cookie: pair)
        #expect(me.status == 200)
        #expect((me.json["user"] as? [String: Any])?["name"] as? String == "admin", "\(me.text)")
        let again = try t.call("GET", "/signin?token=\(token)")
        #expect(again.status == 401)
        #expect(again.headers["set-cookie"] == nil)
        // For another person; a bot is refused.
        let editor = try await t.member("editor", name: "link-person")
        let (otherStatus, otherOut, _) = try await t.admin(["signin-link", "--user", editor.userID])
        #expect(otherStatus == 0)
        let other = String(otherOut.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "?").last ?? "")
        #expect(try t.call("GET", "/signin?\(other)").status == 303)
        let bot = try await t.member("editor", name: "link-bot", extra: ["--bot"])
        let (botStatus, _, botErr) = try await t.admin(["signin-link", "--user", bot.userID])
        #expect(botStatus != 0)
        #expect(botErr.contains("is a bot"), "\(botErr)")
        // A sign-in link cannot be made through the API.
        let viaAPI = try t.call("POST", "/api/tokens", token: t.admin, json: ["kind": "signin"])
        #expect(viaAPI.status == 400)
    }

    @Test("sign-in with an invitation link creates the user and the session")
    func signInInvitation() async throws {
        let t = try APITestSupport()
        let ws = try await t.workspace("signin")
        let made = try t.call("POST", "/api/workspaces/\(ws.id)/invitations", token: ws.token, json: ["role": "viewer"])
        let link = try #require(made.json["link"] as? String)
        let form = try t.call("GET", link)
        #expect(form.status == 200)
        #expect(form.text.contains("<form"))
        let joined = try t.call("GET", link + "&name=Frank")
        #expect(joined.status == 303, "\(joined)")
        let pair = try #require(joined.headers["set-cookie"]?.split(separator: ";").first.map(String.init))
        let me = try t.call("GET", "/api/me", cookie: pair)
        #expect((me.json["memberships"] as? [[String: Any]] ?? []).contains { $0["workspace"] as? String == ws.id })
        #expect(try t.call("GET", link + "&name=Grace").status == 409)
    }

    @Test("stream history: members of the workspace read durable streams, others are refused; ephemeral channels have none")
    func streamHistory() async throws {
        let t = try APITestSupport()
        let ws = try await t.workspace("hist")
        let viewer = try await t.member("viewer", in: ws.id)
        let outsider = try await t.member("editor")
        let read = try t.call("GET", "/api/streams/workspace/\(ws.id)/events?after=0&limit=10", token: viewer.token)
        #expect(read.status == 200, "\(read)")
        #expect(read.json["stream"] as? String == "workspace/\(ws.id)")
        #expect(read.json["events"] is [Any])
        #expect(read.json["epoch"] is String)
        let refused = try t.call("GET", "/api/streams/workspace/\(ws.id)/events", token: outsider.token)
        #expect(refused.status == 403)
        #expect(try t.call("GET", "/api/streams/workspace/\(ws.id)/events?limit=5000", token: viewer.token).status == 400)
        #expect(try t.call("GET", "/api/streams/nonsense/events", token: viewer.token).status == 400)
        #expect(try t.call("GET", "/api/streams/channel/\(ws.id)/general/events", token: viewer.token).status == 404)

        // Only owners mark channels durable; then the channel has history to read.
        #expect(try t.call("PUT", "/api/workspaces/\(ws.id)/channels/general", token: viewer.token, json: ["durable": true]).status == 403)
        #expect(try t.call("PUT", "/api/workspaces/\(ws.id)/channels/general", token: ws.token, json: ["durable": true]).status == 200)
        #expect(try t.call("GET", "/api/streams/channel/\(ws.id)/general/events", token: viewer.token).status == 200)
    }

    @Test("request bodies over 1 MiB are refused with 413")
    func bodyLimit() async throws {
        let t = try APITestSupport()
        let big = [UInt8](repeating: 0x20, count: (1 << 20) + 10)
        let answer = try HTTPTestClient.request(port: t.server.port, "POST", "/api/users", token: try t.admin, body: big)
        #expect(answer.status == 413)
        #expect(answer.errorCode == "payload_too_large")
    }

    @Test("lattice admin: token create prints only the token; errors exit non-zero with a message")
    func adminCLI() async throws {
        let t = try APITestSupport()
        let (status, out, _) = try await t.admin(["token", "create", "--workspace", "demo", "--role", "viewer"])
        #expect(status == 0)
        let token = out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("lat_t_") && !token.contains(" ") && !token.contains("\n"))
        let me = try t.call("GET", "/api/me", token: token)
        #expect((me.json["memberships"] as? [[String: Any]])?.first?["role"] as? String == "viewer")

        let (bad, _, err) = try await t.admin(["member", "set", "--workspace", "nope", "--user", "u_0000000000000000", "--role", "viewer"])
        #expect(bad != 0)
        #expect(err.contains("no workspace nope"))
        let (again, _, againErr) = try await t.admin(["init"])
        #expect(again != 0)
        #expect(againErr.contains("already has users"))

        let (inviteStatus, inviteOut, _) = try await t.admin(["invite", "create", "--workspace", "demo", "--role", "viewer"])
        #expect(inviteStatus == 0)
        #expect(inviteOut.hasPrefix("lat_i_"))
        let tokenID = try #require((me.json["token"] as? [String: Any])?["id"] as? String)
        #expect(try await t.admin(["token", "revoke", tokenID]).0 == 0)
        #expect(try t.call("GET", "/api/me", token: token).status == 401)
        let (auditStatus, auditOut, _) = try await t.admin(["audit", "--limit", "1000"])
        #expect(auditStatus == 0)
        #expect(auditOut.split(separator: "\n").contains { $0.contains("token.revoke") && $0.contains(tokenID) })
        let (wsStatus, wsOut, _) = try await t.admin(["audit", "--workspace", "demo", "--limit", "1000"])
        #expect(wsStatus == 0)
        #expect(wsOut.contains("member.add"))
    }
}
