import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Workspace activity against a real `lattice serve`: every action over REST or `lattice admin`
/// appears exactly once on `workspace/{ws}` with its actor, only members see it, and a kill -9
/// right after actions leaves each action with its event (docs/protocol.md, "Workspace activity").
@Suite("activity: workspace/{ws} over REST, lattice admin and WebSocket", .latticeServer(APITestSupport.serveArguments),
       .timeLimit(.minutes(5)))
struct ActivityIntegrationTests {
    /// One activity event as `GET /api/workspaces/{ws}/activity` returns it.
    struct Event {
        var offset: Int
        var object: [String: Any]
        var type: String { object["type"] as? String ?? "" }
        var actor: [String: String] { object["actor"] as? [String: String] ?? [:] }
        var subject: [String: String] { object["subject"] as? [String: String] ?? [:] }
        var fields: [String: String] { object["fields"] as? [String: String] ?? [:] }
    }

    /// Every stored activity event of `ws`, paging by offset (`limit` per page).
    static func activity(_ t: APITestSupport, _ ws: String, token: String, limit: Int = 3) throws -> [Event] {
        var events: [Event] = []
        var after = 0
        while true {
            let page = try t.call("GET", "/api/workspaces/\(ws)/activity?after=\(after)&limit=\(limit)", token: token)
            #expect(page.status == 200, "\(page)")
            let items = page.json["events"] as? [[String: Any]] ?? []
            for item in items {
                events.append(Event(offset: (item["offset"] as? NSNumber)?.intValue ?? -1,
                                    object: item["activity"] as? [String: Any] ?? [:]))
            }
            guard let next = (page.json["next"] as? NSNumber)?.intValue, !items.isEmpty else { return events }
            after = next
        }
    }

    /// Waits until `ws` has at least `count` activity events (the relay publishes within ~0.1 s).
    static func waitForActivity(_ t: APITestSupport, _ ws: String, token: String, count: Int) async throws -> [Event] {
        let deadline = ContinuousClock.now + .seconds(20)
        var events = try activity(t, ws, token: token)
        while events.count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            events = try activity(t, ws, token: token)
        }
        return events
    }

    @Test("each action over REST or lattice admin: exactly one event of its type, with its actor, paged by offset")
    func everyType() async throws {
        let t = try APITestSupport()
        let (ws, ownerToken, ownerID) = try await t.workspace("act")
        let before = try Self.activity(t, ws, token: ownerToken).count  // the owner's own membership

        let (_, aliceOut, _) = try await t.admin(["user", "create", "alice-\(ws)"])
        let alice = aliceOut.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try t.call("PUT", "/api/workspaces/\(ws)/members/\(alice)", token: ownerToken, json: ["role": "editor"]).status == 200)
        #expect(try t.call("PUT", "/api/workspaces/\(ws)/members/\(alice)", token: ownerToken, json: ["role": "viewer"]).status == 200)
        #expect(try t.call("DELETE", "/api/workspaces/\(ws)/members/\(alice)", token: ownerToken).status == 200)

        let invitation = try t.call("POST", "/api/workspaces/\(ws)/invitations", token: ownerToken, json: ["role": "viewer"])
        #expect(invitation.status == 201, "\(invitation)")
        let secret = try #require(invitation.json["invitation"] as? String)
        let accepted = try t.call("POST", "/api/invitations/accept", json: ["invitation": secret, "name": "bob-\(ws)"])
        #expect(accepted.status == 201 || accepted.status == 200, "\(accepted)")
        let second = try t.call("POST", "/api/workspaces/\(ws)/invitations", token: ownerToken, json: ["role": "editor"])
        let secondID = try #require((second.json["record"] as? [String: Any])?["id"] as? String)
        #expect(try t.call("DELETE", "/api/invitations/\(secondID)", token: ownerToken).status == 200)

        let (status, botOut, botErr) = try await t.admin(["token", "create", "--workspace", ws, "--role", "editor", "--bot",
                                                          "--name", "builder-\(ws)", "--json"])
        #expect(status == 0, "\(botErr)")
        let bot = try #require(try JSONSerialization.jsonObject(with: Data(botOut.utf8)) as? [String: String])
        let botTokenID = try #require(bot["tokenID"])
        let (revokeStatus, _, revokeErr) = try await t.admin(["token", "revoke", botTokenID])
        #expect(revokeStatus == 0, "\(revokeErr)")

        #expect(try t.call("PUT", "/api/workspaces/\(ws)/channels/log", token: ownerToken, json: ["durable": true]).status == 200)
        #expect(try t.call("PATCH", "/api/workspaces/\(ws)", token: ownerToken, json: ["name": "Renamed"]).status == 200)
        let (renameStatus, _, renameErr) = try await t.admin(["workspace", "rename", ws, "By admin"])
        #expect(renameStatus == 0, "\(renameErr)")

        let expected = ["member.added", "member.role_changed", "member.removed",
                        "invitation.created", "invitation.accepted", "member.added", "invitation.created", "invitation.revoked",
                        "member.added", "token.created", "token.revoked",
                        "channel.mode_changed", "workspace.renamed", "workspace.renamed"]
        let all = try await Self.waitForActivity(t, ws, token: ownerToken, count: before + expected.count)
        let events = Array(all.dropFirst(before))
        #expect(events.map(\.type) == expected)
        #expect(all.map(\.offset) == Array(1...all.count), "offsets 1…n, each once, paged 3 at a time")
        // No duplicate later either: one more action, and once its event is there (the relay has
        // gone past everything before it) the stream holds exactly one more event.
        #expect(try t.call("PATCH", "/api/workspaces/\(ws)", token: ownerToken, json: ["name": "Last"]).status == 200)
        let after = try await Self.waitForActivity(t, ws, token: ownerToken, count: all.count + 1)
        #expect(after.count == all.count + 1 && after.last?.fields["name"] == "Last", "\(after.map(\.type))")

        let rest = ["id": ownerID, "kind": "user"]
        for (index, event) in events.enumerated() {
            #expect(event.object["workspace"] as? String == ws)
            #expect(event.object["area"] as? String == event.type.split(separator: ".").first.map { area in
                ["member": "members", "invitation": "invitations", "token": "tokens", "channel": "channels", "workspace": "workspace"][String(area)]!
            })
            #expect(event.object["at"] as? String != nil)
            switch index {
            case 0, 1, 2, 3, 6, 7, 11, 12:
                #expect(event.actor["id"] == rest["id"] && event.actor["kind"] == rest["kind"], "\(event.type): \(event.actor)")
            case 4, 5:
                #expect(event.actor["name"] == "bob-\(ws)" && event.actor["kind"] == "user", "\(event.actor)")
            default:
                #expect(event.actor == ["id": "local", "name": "lattice admin", "kind": "local"], "\(event.type): \(event.actor)")
            }
        }
        #expect(events[0].subject["id"] == alice && events[0].fields == ["role": "editor"])
        #expect(events[1].fields == ["role": "viewer", "previousRole": "editor"])
        #expect(events[9].subject["id"] == botTokenID && events[9].fields["userName"] == "builder-\(ws)")
        #expect(!String(describing: events[9].object).contains(secret))
        #expect(events[11].subject["id"] == "channel/\(ws)/log" && events[11].fields["mode"] == "durable")
        #expect(events[12].fields == ["name": "Renamed", "previousName": ws])
        #expect(events[13].fields == ["name": "By admin", "previousName": "Renamed"])
    }

    @Test("only members see it: another workspace's member is refused over REST and WebSocket; a member gets it live")
    func onlyMembers() async throws {
        let t = try APITestSupport()
        let server = try TestServerProcess.require()
        let (ws, ownerToken, _) = try await t.workspace("act-private")
        let outsider = try await t.member("owner", in: "demo", name: "outsider-\(ws)")
        let insider = try await t.member("viewer", in: ws, name: "insider-\(ws)")

        let refused = try t.call("GET", "/api/workspaces/\(ws)/activity", token: outsider.token)
        #expect(refused.status == 403, "\(refused)")
        let outsiderSocket = try await StreamClient.connect(port: server.port, token: outsider.token)
        let denied = try await outsiderSocket.request(#"{"type":"subscribe","id":1,"stream":"workspace/\#(ws)"}"#)
        #expect(denied.type == "error" && denied.code == "forbidden", "\(denied)")
        // Nor can anyone publish into it: the server is its only writer.
        let ownerSocket = try await StreamClient.connect(port: server.port, token: ownerToken)
        let publish = try await ownerSocket.request(#"{"type":"publish","id":1,"stream":"workspace/\#(ws)","data":{"type":"member.added"}}"#)
        #expect(publish.type == "error", "\(publish)")

        let reader = try await StreamClient.connect(port: server.port, token: insider.token)
        let subscribed = try await reader.request(#"{"type":"subscribe","id":1,"stream":"workspace/\#(ws)"}"#)
        #expect(subscribed.type == "ok", "\(subscribed)")
        #expect(try t.call("PATCH", "/api/workspaces/\(ws)", token: ownerToken, json: ["name": "Live"]).status == 200)
        let event = try await reader.next(timeout: 20) { $0.type == "event" }
        let data = try #require(event.json["data"] as? [String: Any])
        #expect(data["type"] as? String == "workspace.renamed")
        #expect((data["fields"] as? [String: String])?["name"] == "Live")
        // A viewer may read but not rename.
        #expect(try t.call("PATCH", "/api/workspaces/\(ws)", token: insider.token, json: ["name": "Nope"]).status == 403)
        for socket in [outsiderSocket, ownerSocket, reader] { await socket.close() }
    }
}

/// kill -9 right after actions: after the restart each action and its event are both there
/// (the store records both in one transaction; the outbox is published after the restart).
@Suite("activity: SIGKILL right after actions", .timeLimit(.minutes(4)))
struct ActivityCrashTests {
    final class AnswerCounter: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test("kill -9 right after a burst of role changes: after restart every applied change has its event, and no event lacks its change")
    func killRightAfterActions() async throws {
        let dataDir = NSTemporaryDirectory() + "lattice-activity-crash-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let args = ["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0", "--web-root", "/nonexistent",
                    "--rate-messages", "0", "--rate-bytes", "0", "--data-dir", dataDir]
        var server = try await TestServerProcess.launch(args)
        let admin = try #require(server.adminToken)
        var users: [String] = []
        for n in 0..<40 {
            let made = try HTTPTestClient.request(port: server.port, "POST", "/api/users", token: admin, json: ["name": "crash-\(n)"])
            users.append(try #require((made.json["user"] as? [String: Any])?["id"] as? String, "\(made)"))
        }
        // Fire the changes from several tasks; kill the server once a few were answered, while
        // the others are in flight.
        let port = server.port
        let answeredSoFar = AnswerCounter()
        let tasks = users.map { user in
            Task.detached { () -> Int in
                let status = (try? HTTPTestClient.request(port: port, "PUT", "/api/workspaces/demo/members/\(user)", token: admin,
                                                          json: ["role": "editor"]).status) ?? 0
                if status == 200 { answeredSoFar.count.add(1, ordering: .relaxed) }
                return status
            }
        }
        let killDeadline = ContinuousClock.now + .seconds(20)
        while answeredSoFar.count.load(ordering: .relaxed) < 5, ContinuousClock.now < killDeadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        kill(server.pid, SIGKILL)
        server.terminate()
        var answered = 0
        for task in tasks where await task.value == 200 { answered += 1 }
        #expect(answered >= 5, "the kill came before the actions it should follow")

        server = try await TestServerProcess.launch(args)
        defer { server.terminate() }
        let members = try HTTPTestClient.request(port: server.port, "GET", "/api/workspaces/demo/members", token: admin)
        let memberIDs = Set((members.json["members"] as? [[String: Any]] ?? []).compactMap { ($0["user"] as? [String: Any])?["id"] as? String })
        let applied = Set(users).intersection(memberIDs)
        #expect(applied.count >= answered, "every change answered 200 was applied")

        // The outbox is published after the restart: wait until the events stop growing at applied.count.
        let deadline = ContinuousClock.now + .seconds(20)
        var added: [String] = []
        repeat {
            let page = try HTTPTestClient.request(port: server.port, "GET", "/api/workspaces/demo/activity?limit=1000", token: admin)
            added = (page.json["events"] as? [[String: Any]] ?? []).compactMap { item in
                guard let activity = item["activity"] as? [String: Any], activity["type"] as? String == "member.added" else { return nil }
                return (activity["subject"] as? [String: String])?["id"]
            }.filter { users.contains($0) }
            if added.count >= applied.count { break }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        #expect(Set(added) == applied, "applied \(applied.count), events \(added.count)")
        #expect(added.count == Set(added).count, "no change has two events")
    }
}
