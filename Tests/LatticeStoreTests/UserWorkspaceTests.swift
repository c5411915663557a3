import Foundation
import LatticeAuth
import LatticeStore
import Testing

@Suite struct UserWorkspaceTests {
    @Test(arguments: IdentityStoreKind.allCases) func usersAreStoredAndRead(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            let ada = User(id: "u_ada", name: "Ada", kind: .user, isAdmin: true, createdAt: t0)
            let bot = User(id: "u_bot", name: "Bot", kind: .bot, isAdmin: false, createdAt: t0.addingTimeInterval(1.5))
            try await store.createUser(ada)
            try await store.createUser(bot)
            #expect(try await store.user(id: "u_ada") == ada)
            #expect(try await store.user(id: "u_none") == nil)
            #expect(try await store.users() == [ada, bot])
            #expect(try await store.userCount() == 2)
            await #expect(throws: IdentityStoreError.alreadyExists("u_ada")) {
                try await store.createUser(User(id: "u_ada", name: "Other", kind: .user, isAdmin: false, createdAt: t0))
            }
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func creatingAWorkspaceMakesItsOwner(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await store.createUser(sampleUser("u_1"))
            let workspace = Workspace(id: "ws", name: "Work", createdAt: t0)
            try await store.createWorkspace(workspace, owner: "u_1")
            #expect(try await store.workspace(id: "ws") == workspace)
            #expect(try await store.workspaces() == [workspace])
            #expect(try await store.memberships(of: "u_1") == ["ws": .owner])
            let members = try await store.members(of: "ws")
            #expect(members.map(\.0.id) == ["u_1"] && members.map(\.1) == [.owner])

            await #expect(throws: IdentityStoreError.alreadyExists("ws")) {
                try await store.createWorkspace(Workspace(id: "ws", name: "Again", createdAt: t0), owner: "u_1")
            }
            #expect(try await store.workspace(id: "ws")?.name == "Work")
            // An unknown owner creates nothing (one transaction).
            await #expect(throws: IdentityStoreError.notFound("u_ghost")) {
                try await store.createWorkspace(Workspace(id: "ws2", name: "Ghost", createdAt: t0), owner: "u_ghost")
            }
            #expect(try await store.workspace(id: "ws2") == nil)
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func rolesChangeButTheLastOwnerStays(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            for id in ["u_1", "u_2", "u_3"] { try await store.createUser(sampleUser(id)) }
            try await store.createWorkspace(Workspace(id: "ws", name: "W", createdAt: t0), owner: "u_1")
            try await store.setRole(.editor, of: "u_2", in: "ws", by: .local)
            try await store.setRole(.viewer, of: "u_3", in: "ws", by: .local)
            #expect(try await store.memberships(of: "u_2") == ["ws": .editor])

            await #expect(throws: IdentityStoreError.lastOwner("ws")) {
                try await store.setRole(.editor, of: "u_1", in: "ws", by: .local)
            }
            await #expect(throws: IdentityStoreError.lastOwner("ws")) {
                _ = try await store.removeMember("u_1", from: "ws", by: .local)
            }
            #expect(try await store.memberships(of: "u_1") == ["ws": .owner])

            // With a second owner, the first may step down, then leave.
            try await store.setRole(.owner, of: "u_2", in: "ws", by: .local)
            try await store.setRole(.viewer, of: "u_1", in: "ws", by: .local)
            #expect(try await store.removeMember("u_1", from: "ws", by: .local))
            #expect(try await !store.removeMember("u_1", from: "ws", by: .local))
            #expect(try await store.removeMember("u_3", from: "ws", by: .local))
            await #expect(throws: IdentityStoreError.lastOwner("ws")) {
                _ = try await store.removeMember("u_2", from: "ws", by: .local)
            }
            let members = try await store.members(of: "ws")
            #expect(members.map(\.0.id) == ["u_2"] && members.map(\.1) == [.owner])

            await #expect(throws: IdentityStoreError.notFound("u_ghost")) {
                try await store.setRole(.viewer, of: "u_ghost", in: "ws", by: .local)
            }
            await #expect(throws: IdentityStoreError.notFound("nowhere")) {
                try await store.setRole(.viewer, of: "u_1", in: "nowhere", by: .local)
            }
        }
    }

    @Test func durableChannelsAreMarkedAndCached() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore.open(directory: directory)
            try await store.createUser(sampleUser("u_1"))
            try await store.createWorkspace(Workspace(id: "ws", name: "W", createdAt: t0), owner: "u_1")
            try await store.setChannelDurable(workspaceID: "ws", channel: "general", true, by: .local)
            try await store.setChannelDurable(workspaceID: "ws", channel: "general", true, by: .local)
            try await store.setChannelDurable(workspaceID: "ws", channel: "random", true, by: .local)
            try await store.setChannelDurable(workspaceID: "ws", channel: "random", false, by: .local)
            #expect(try store.durableChannels() == ["channel/ws/general"])
            #expect(store.isDurableChannel("channel/ws/general") && !store.isDurableChannel("channel/ws/random"))
            await #expect(throws: IdentityStoreError.notFound("nowhere")) {
                try await store.setChannelDurable(workspaceID: "nowhere", channel: "x", true, by: .local)
            }
            #expect(!store.isDurableChannel("channel/nowhere/x"))
            store.close()

            let reopened = try SQLiteStore.open(directory: directory)
            defer { reopened.close() }
            #expect(reopened.isDurableChannel("channel/ws/general"))
        }
    }

    @Test func coalescingChannelsAreMarkedCachedAndExcludeDurable() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore.open(directory: directory)
            try await store.createUser(sampleUser("u_1"))
            try await store.createWorkspace(Workspace(id: "ws", name: "W", createdAt: t0), owner: "u_1")
            try await store.setChannelCoalescing(workspaceID: "ws", channel: "cursors", true, by: .local)
            try await store.setChannelDurable(workspaceID: "ws", channel: "log", true, by: .local)
            try await store.setChannelCoalescing(workspaceID: "ws", channel: "log", true, by: .local)
            #expect(try store.coalescingChannels() == ["channel/ws/cursors", "channel/ws/log"])
            #expect(try store.durableChannels() == [], "coalescing replaces the durable mark")
            #expect(!store.isDurableChannel("channel/ws/log") && store.isCoalescingChannel("channel/ws/log"))
            try await store.setChannelDurable(workspaceID: "ws", channel: "log", true, by: .local)
            #expect(try store.coalescingChannels() == ["channel/ws/cursors"], "durable replaces the coalescing mark")
            #expect(store.isDurableChannel("channel/ws/log") && !store.isCoalescingChannel("channel/ws/log"))
            try await store.setChannelCoalescing(workspaceID: "ws", channel: "log", false, by: .local)
            #expect(store.isDurableChannel("channel/ws/log"), "clearing coalescing leaves durable alone")
            await #expect(throws: IdentityStoreError.notFound("nowhere")) {
                try await store.setChannelCoalescing(workspaceID: "nowhere", channel: "x", true, by: .local)
            }
            store.close()

            let reopened = try SQLiteStore.open(directory: directory)
            defer { reopened.close() }
            #expect(reopened.isCoalescingChannel("channel/ws/cursors") && !reopened.isCoalescingChannel("channel/ws/log"))
        }
    }
}
