import Foundation
import GRDB
import LatticeAuth
@testable import LatticeStore
import Testing

/// Disabling, enabling and deleting users, and revoking all of a user's tokens: what the store
/// changes, what it refuses, and what it records for live sessions.
@Suite struct UserLifecycleTests {
    static func admin(_ id: String) -> User {
        User(id: id, name: id, kind: .user, isAdmin: true, createdAt: t0)
    }

    static func changes(_ store: any IdentityStore, after: Int64) async throws -> Set<IdentityChange.Subject> {
        Set(try await store.identityChanges(after: after, limit: 1000).map(\.subject))
    }

    @Test(arguments: IdentityStoreKind.allCases) func disableKeepsDataAndEnableRestores(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await store.createUser(Self.admin("u_root"))
            try await store.createUser(sampleUser("u_ada"))
            try await store.createWorkspace(Workspace(id: "ws", name: "W", createdAt: t0), owner: "u_root")
            try await store.setRole(.editor, of: "u_ada", in: "ws", by: .local)
            try await store.insertToken(sampleToken("t_a", user: "u_ada"), by: .local)
            let head = try await store.identityChangeHead()

            let later = t0.addingTimeInterval(60)
            #expect(try await store.setUserDisabled(id: "u_ada", at: t0)?.disabledAt == t0)
            #expect(try await store.setUserDisabled(id: "u_ada", at: later)?.disabledAt == t0, "keeps the first date")
            #expect(try await store.user(id: "u_ada")?.isDisabled == true)
            #expect(try await store.users().first { $0.id == "u_ada" }?.disabledAt == t0)
            #expect(try await store.memberships(of: "u_ada") == ["ws": .editor])
            #expect(try await store.token(id: "t_a")?.revokedAt == nil)
            #expect(try await store.identityChanges(after: head, limit: 10).map(\.subject) == [.user("u_ada")],
                    "recorded once: the second disable changed nothing")

            #expect(try await store.setUserDisabled(id: "u_ada", at: nil)?.isDisabled == false)
            #expect(try await store.user(id: "u_ada")?.disabledAt == nil)
            #expect(try await store.setUserDisabled(id: "u_ghost", at: t0) == nil)
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func theLastEnabledAdminCannotBeDisabledOrDeleted(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await store.createUser(Self.admin("u_root"))
            await #expect(throws: IdentityStoreError.lastAdmin("u_root")) { _ = try await store.setUserDisabled(id: "u_root", at: t0) }
            await #expect(throws: IdentityStoreError.lastAdmin("u_root")) { _ = try await store.deleteUser(id: "u_root", by: .local) }
            #expect(try await store.user(id: "u_root")?.isDisabled == false)

            try await store.createUser(Self.admin("u_second"))
            #expect(try await store.setUserDisabled(id: "u_second", at: t0)?.isDisabled == true)
            // A disabled admin does not count.
            await #expect(throws: IdentityStoreError.lastAdmin("u_root")) { _ = try await store.setUserDisabled(id: "u_root", at: t0) }
            await #expect(throws: IdentityStoreError.lastAdmin("u_root")) { _ = try await store.deleteUser(id: "u_root", by: .local) }
            // A disabled admin may go; then another may be disabled once one is enabled.
            #expect(try await store.deleteUser(id: "u_second", by: .local))
            try await store.createUser(Self.admin("u_third"))
            #expect(try await store.setUserDisabled(id: "u_root", at: t0)?.isDisabled == true)
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func deleteRemovesTokensAndMembershipsAndIsRecorded(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await store.createUser(Self.admin("u_root"))
            try await store.createUser(sampleUser("u_ada"))
            try await store.createWorkspace(Workspace(id: "ws", name: "W", createdAt: t0), owner: "u_root")
            try await store.setRole(.editor, of: "u_ada", in: "ws", by: .local)
            try await store.insertToken(sampleToken("t_a", user: "u_ada"), by: .local)
            try await store.insertToken(sampleToken("t_b", user: "u_ada", workspace: "ws"), by: .local)
            try await store.insertToken(sampleToken("t_root", user: "u_root"), by: .local)
            let head = try await store.identityChangeHead()

            #expect(try await store.deleteUser(id: "u_ada", by: .local))
            #expect(try await store.user(id: "u_ada") == nil)
            #expect(try await store.token(id: "t_a") == nil)
            #expect(try await store.token(id: "t_b") == nil)
            #expect(try await store.tokens(of: "u_ada").isEmpty)
            #expect(try await store.memberships(of: "u_ada").isEmpty)
            #expect(try await store.members(of: "ws").map(\.0.id) == ["u_root"])
            #expect(try await store.token(id: "t_root") != nil)
            #expect(try await Self.changes(store, after: head) == [.user("u_ada"), .token("t_a"), .token("t_b")])
            #expect(try await store.deleteUser(id: "u_ada", by: .local) == false)
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func aWorkspacesLastOwnerIsNotDeleted(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await store.createUser(Self.admin("u_root"))
            try await store.createUser(sampleUser("u_owner"))
            try await store.createWorkspace(Workspace(id: "ws", name: "W", createdAt: t0), owner: "u_owner")
            try await store.insertToken(sampleToken("t_o", user: "u_owner"), by: .local)
            let head = try await store.identityChangeHead()
            await #expect(throws: IdentityStoreError.lastOwner("ws")) { _ = try await store.deleteUser(id: "u_owner", by: .local) }
            #expect(try await store.user(id: "u_owner") != nil)
            #expect(try await store.token(id: "t_o") != nil)
            #expect(try await store.identityChangeHead() == head, "nothing changed")
            try await store.setRole(.owner, of: "u_root", in: "ws", by: .local)
            #expect(try await store.deleteUser(id: "u_owner", by: .local))
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func revokeTokensRevokesEveryActiveTokenOfTheUserOnly(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await store.createUser(sampleUser("u_ada"))
            try await store.createUser(sampleUser("u_bob"))
            try await store.insertToken(sampleToken("t_a1", user: "u_ada"), by: .local)
            try await store.insertToken(sampleToken("t_a2", user: "u_ada", at: t0.addingTimeInterval(1)), by: .local)
            try await store.insertToken(sampleToken("t_a3", user: "u_ada", at: t0.addingTimeInterval(2)), by: .local)
            try await store.insertToken(sampleToken("t_b", user: "u_bob"), by: .local)
            _ = try await store.revokeToken(id: "t_a3", at: t0, by: .local)
            let head = try await store.identityChangeHead()

            let later = t0.addingTimeInterval(100)
            let revoked = try await store.revokeTokens(of: "u_ada", at: later, by: .local)
            #expect(revoked.map(\.id) == ["t_a1", "t_a2"])
            #expect(revoked.allSatisfy { $0.revokedAt == later })
            #expect(try await store.token(id: "t_a3")?.revokedAt == t0, "an earlier revocation keeps its date")
            #expect(try await store.token(id: "t_b")?.revokedAt == nil)
            #expect(try await Self.changes(store, after: head) == [.token("t_a1"), .token("t_a2")])
            #expect(try await store.revokeTokens(of: "u_ada", at: later, by: .local).isEmpty)
            await #expect(throws: IdentityStoreError.notFound("u_ghost")) { _ = try await store.revokeTokens(of: "u_ghost", at: later, by: .local) }
        }
    }
}
