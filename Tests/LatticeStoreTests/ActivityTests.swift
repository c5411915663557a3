import Foundation
import GRDB
import LatticeAuth
import LatticeStore
import LatticeStreams
import Testing

/// Workspace activity recorded by the store, on both adapters: each action records exactly one
/// activity of its type (none when nothing changed, none when the action fails), attributed to
/// its actor, in the workspace it happened in.
@Suite struct ActivityTests {
    let owner = ActivityActor(id: "u_owner", name: "Owner", kind: .user)

    /// The activities recorded since `seen` (decoded), and the new position.
    func recorded(_ store: any IdentityStore, after seen: inout Int64) async throws -> [WorkspaceActivity] {
        let pending = try await store.pendingActivity(limit: 1000).filter { $0.seq > seen }
        seen = pending.last?.seq ?? seen
        return try pending.map { entry in
            let activity = try #require(WorkspaceActivity.decode(entry.data), "\(String(decoding: entry.data, as: UTF8.self))")
            #expect(entry.stream == activity.streamName)
            return activity
        }
    }

    func setUp(_ store: any IdentityStore) async throws {
        try await store.createUser(User(id: "u_owner", name: "Owner", kind: .user, isAdmin: false, createdAt: t0))
        try await store.createUser(User(id: "u_ada", name: "Ada", kind: .user, isAdmin: false, createdAt: t0))
        try await store.createUser(User(id: "u_bot", name: "Builder", kind: .bot, isAdmin: false, createdAt: t0))
        try await store.createWorkspace(Workspace(id: "ws", name: "Work", createdAt: t0), owner: "u_owner")
        try await store.createWorkspace(Workspace(id: "other", name: "Other", createdAt: t0), owner: "u_owner")
    }

    @Test(arguments: IdentityStoreKind.allCases) func membershipChanges(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await setUp(store)
            var seen: Int64 = 0
            #expect(try await recorded(store, after: &seen).isEmpty, "creating users and workspaces is not activity")

            try await store.setRole(.editor, of: "u_ada", in: "ws", by: owner)
            var events = try await recorded(store, after: &seen)
            #expect(events.map(\.kind) == [.memberAdded])
            #expect(events.first?.actor == owner)
            #expect(events.first?.workspaceID == "ws")
            #expect(events.first?.subject == .init(kind: "user", id: "u_ada", name: "Ada"))
            #expect(events.first?.fields == ["role": "editor"])

            try await store.setRole(.editor, of: "u_ada", in: "ws", by: owner)
            #expect(try await recorded(store, after: &seen).isEmpty, "the same role again changes nothing")

            try await store.setRole(.viewer, of: "u_ada", in: "ws", by: .local)
            events = try await recorded(store, after: &seen)
            #expect(events.map(\.kind) == [.memberRoleChanged])
            #expect(events.first?.actor == .local)
            #expect(events.first?.fields == ["role": "viewer", "previousRole": "editor"])

            // Refused (the last owner): no change, no activity.
            await #expect(throws: IdentityStoreError.lastOwner("ws")) {
                try await store.removeMember("u_owner", from: "ws", by: owner)
            }
            #expect(try await recorded(store, after: &seen).isEmpty)

            #expect(try await store.removeMember("u_ada", from: "ws", by: owner))
            events = try await recorded(store, after: &seen)
            #expect(events.map(\.kind) == [.memberRemoved])
            #expect(events.first?.fields == ["previousRole": "viewer"])
            #expect(try await store.removeMember("u_ada", from: "ws", by: owner) == false)
            #expect(try await recorded(store, after: &seen).isEmpty)

            // Deleting a user removes it from each of its workspaces: one event in each.
            try await store.setRole(.editor, of: "u_ada", in: "ws", by: owner)
            try await store.setRole(.viewer, of: "u_ada", in: "other", by: owner)
            _ = try await recorded(store, after: &seen)
            #expect(try await store.deleteUser(id: "u_ada", by: .local))
            events = try await recorded(store, after: &seen)
            #expect(events.map(\.kind) == [.memberRemoved, .memberRemoved])
            #expect(Set(events.map(\.workspaceID)) == ["ws", "other"])
            #expect(events.allSatisfy { $0.fields["reason"] == "user deleted" })
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func invitations(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await setUp(store)
            var seen: Int64 = 0
            try await store.insertInvitation(sampleInvitation("i_1", workspace: "ws", by: "u_owner"), by: owner)
            var events = try await recorded(store, after: &seen)
            #expect(events.map(\.kind) == [.invitationCreated])
            #expect(events.first?.subject == .init(kind: "invitation", id: "i_1"))
            #expect(events.first?.fields["role"] == "editor")
            #expect(events.first?.fields["expiresAt"] != nil)

            let session = sampleToken("t_s", user: "u_ada")
            _ = try await store.acceptInvitation(id: "i_1", userID: "u_ada", newUser: nil, session: session, at: t0)
            events = try await recorded(store, after: &seen)
            #expect(events.map(\.kind) == [.invitationAccepted, .memberAdded])
            #expect(events.allSatisfy { $0.actor == ActivityActor(id: "u_ada", name: "Ada", kind: .user) })
            #expect(events.first?.fields["userID"] == "u_ada")

            try await store.insertInvitation(sampleInvitation("i_2", workspace: "ws", by: "u_owner"), by: owner)
            _ = try await recorded(store, after: &seen)
            _ = try await store.revokeInvitation(id: "i_2", at: t0, by: owner)
            events = try await recorded(store, after: &seen)
            #expect(events.map(\.kind) == [.invitationRevoked])
            _ = try await store.revokeInvitation(id: "i_2", at: t0, by: owner)
            #expect(try await recorded(store, after: &seen).isEmpty, "revoked already: nothing changes")

            // A refused acceptance (already used) records nothing.
            await #expect(throws: IdentityStoreError.invitationUnusable(.used)) {
                _ = try await store.acceptInvitation(id: "i_1", userID: "u_owner", newUser: nil, session: sampleToken("t_s2", user: "u_owner"), at: t0)
            }
            #expect(try await recorded(store, after: &seen).isEmpty)
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func botTokensButNotPersonalOnes(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await setUp(store)
            try await store.setRole(.editor, of: "u_bot", in: "ws", by: owner)
            var seen: Int64 = 0
            _ = try await recorded(store, after: &seen)

            // A bot token bound to ws: one event in ws, never the secret.
            let bound = sampleToken("t_bound", user: "u_bot", workspace: "ws")
            try await store.insertToken(bound, by: owner)
            var events = try await recorded(store, after: &seen)
            #expect(events.map(\.kind) == [.tokenCreated])
            #expect(events.first?.workspaceID == "ws")
            #expect(events.first?.subject == .init(kind: "token", id: "t_bound", name: "label t_bound"))
            #expect(events.first?.fields["userName"] == "Builder")
            #expect(events.first?.fields["capabilities"] == "build,test")
            let json = try #require(try await store.pendingActivity(limit: 1000).last).data
            #expect(!String(decoding: json, as: UTF8.self).contains("secret"))

            // A person's api token: not activity.
            try await store.insertToken(sampleToken("t_ada", user: "u_owner"), by: owner)
            #expect(try await recorded(store, after: &seen).isEmpty)

            _ = try await store.revokeToken(id: "t_bound", at: t0, by: .local)
            events = try await recorded(store, after: &seen)
            #expect(events.map(\.kind) == [.tokenRevoked])
            #expect(events.first?.actor == .local)
            _ = try await store.revokeToken(id: "t_bound", at: t0, by: .local)
            #expect(try await recorded(store, after: &seen).isEmpty, "revoked already")

            // Sign out everywhere revokes the bot's remaining tokens: one event each.
            try await store.insertToken(sampleToken("t_b2", user: "u_bot", workspace: "ws"), by: owner)
            _ = try await recorded(store, after: &seen)
            _ = try await store.revokeTokens(of: "u_bot", at: t0, by: owner)
            events = try await recorded(store, after: &seen)
            #expect(events.map(\.subject.id) == ["t_b2"])
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func renames(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await setUp(store)
            var seen: Int64 = 0
            #expect(try await store.renameWorkspace(id: "ws", name: "Studio", by: owner)?.name == "Studio")
            let events = try await recorded(store, after: &seen)
            #expect(events.map(\.kind) == [.workspaceRenamed])
            #expect(events.first?.fields == ["name": "Studio", "previousName": "Work"])
            #expect(try await store.workspace(id: "ws")?.name == "Studio")
            _ = try await store.renameWorkspace(id: "ws", name: "Studio", by: owner)
            #expect(try await recorded(store, after: &seen).isEmpty)
            #expect(try await store.renameWorkspace(id: "nowhere", name: "X", by: owner) == nil)
        }
    }

    @Test func channelClassChanges() async throws {
        try await withStore { store, _ in
            try await setUp(store)
            var seen: Int64 = 0
            try await store.setChannelDurable(workspaceID: "ws", channel: "log", true, by: owner)
            try await store.setChannelDurable(workspaceID: "ws", channel: "log", true, by: owner)
            try await store.setChannelCoalescing(workspaceID: "ws", channel: "log", true, by: owner)
            try await store.setChannelCoalescing(workspaceID: "ws", channel: "log", false, by: owner)
            try await store.setChannelDurable(workspaceID: "ws", channel: "log", false, by: owner)
            let events = try await recorded(store, after: &seen)
            #expect(events.map { $0.fields["mode"] } == ["durable", "coalescing", "ephemeral"])
            #expect(events.map { $0.fields["previousMode"] } == ["ephemeral", "durable", "coalescing"])
            #expect(events.allSatisfy { $0.kind == .channelModeChanged && $0.subject.id == "channel/ws/log" })
        }
    }

    @Test func anAppendThatRelaysAnEntryRemovesItInItsOwnTransaction() async throws {
        try await withStore { store, directory in
            try await setUp(store)
            try await store.setRole(.editor, of: "u_ada", in: "ws", by: owner)
            _ = try await store.renameWorkspace(id: "ws", name: "Studio", by: owner)
            let pending = try await store.pendingActivity(limit: 10)
            #expect(pending.map(\.stream) == ["workspace/ws", "workspace/ws"])

            let first = await append(store, pending[0].stream, String(decoding: pending[0].data, as: UTF8.self), attachment: OutboxRelay(seq: pending[0].seq))
            #expect(try first.get() == 1)
            #expect(try await store.pendingActivity(limit: 10) == [pending[1]], "relayed: gone from the outbox")
            let stored = try await store.read(stream: "workspace/ws", after: 0, limit: 10)
            #expect(stored.map { Data($0.string.utf8) } == [pending[0].data])

            // A transaction that fails stores neither the event nor the removal: another
            // connection takes offset 2 behind the store's back, so the next append fails.
            let other = try DatabaseQueue(path: databasePath(directory))
            try await other.write { db in
                try db.execute(sql: "INSERT INTO stream_events VALUES ('workspace/ws', 2, CAST('0' AS BLOB), NULL, 0)")
            }
            try other.close()
            let failed = await append(store, pending[1].stream, String(decoding: pending[1].data, as: UTF8.self),
                                      attachment: OutboxRelay(seq: pending[1].seq))
            #expect((try? failed.get()) == nil)
            #expect(try await store.pendingActivity(limit: 10) == [pending[1]])
        }
    }

    @Test func activityJSONRoundTrips() throws {
        let activity = WorkspaceActivity(workspaceID: "ws", kind: .memberAdded, actor: owner,
                                         subject: .init(kind: "user", id: "u_1", name: "Ünïcode \"quoted\""),
                                         at: Date(timeIntervalSince1970: 1_800_000_000.125), fields: ["role": "editor"])
        let decoded = try #require(WorkspaceActivity.decode(activity.json()))
        #expect(decoded == activity)
        let object = try #require(try JSONSerialization.jsonObject(with: activity.json()) as? [String: Any])
        #expect(object["area"] as? String == "members")
        #expect(object["type"] as? String == "member.added")
        #expect(object["at"] as? String == "2027-01-15T08:00:00.125Z")
    }
}
