import Foundation
import GRDB
import LatticeAuth
@testable import LatticeStore
import Testing

/// The change log the v3 triggers fill, which servers poll to apply changes made elsewhere.
@Suite struct IdentityChangeTests {
    static func subjects(_ store: any IdentityStore, after: Int64 = 0) async throws -> [IdentityChange.Subject] {
        try await store.identityChanges(after: after, limit: 1000).map(\.subject)
    }

    @Test(arguments: IdentityStoreKind.allCases) func membershipChangesAreRecordedForTheUser(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await store.createUser(sampleUser("u_owner"))
            try await store.createUser(sampleUser("u_ada"))
            #expect(try await store.identityChangeHead() == 0, "creating users changes no live session")
            try await store.createWorkspace(Workspace(id: "ws", name: "W", createdAt: t0), owner: "u_owner")
            try await store.setRole(.editor, of: "u_ada", in: "ws", by: .local)
            try await store.setRole(.viewer, of: "u_ada", in: "ws", by: .local)
            #expect(try await store.removeMember("u_ada", from: "ws", by: .local))
            #expect(try await Self.subjects(store) == [.user("u_owner"), .user("u_ada"), .user("u_ada"), .user("u_ada")])
            let changes = try await store.identityChanges(after: 0, limit: 1000)
            #expect(changes.map(\.seq) == changes.map(\.seq).sorted() && Set(changes.map(\.seq)).count == changes.count)
            #expect(try await store.identityChangeHead() == changes.last?.seq)
            // Reading on from a position, and in pages.
            #expect(try await Self.subjects(store, after: changes[1].seq) == [.user("u_ada"), .user("u_ada")])
            #expect(try await store.identityChanges(after: 0, limit: 2).map(\.seq) == Array(changes.prefix(2).map(\.seq)))
        }
    }

    @Test func tokenRevocationAndDeletionAreRecorded() async throws {
        try await withStore { store, directory in
            try await store.createUser(sampleUser("u_ada"))
            try await store.insertToken(sampleToken("t_a", user: "u_ada"), by: .local)
            try await store.insertToken(sampleToken("t_b", user: "u_ada"), by: .local)
            #expect(try await Self.subjects(store).isEmpty, "a new token changes no live session")
            _ = try await store.revokeToken(id: "t_a", at: t0, by: .local)
            _ = try await store.revokeToken(id: "t_a", at: t0, by: .local)  // already revoked: no row changes
            #expect(try await Self.subjects(store) == [.token("t_a")])
            // Another connection (as `lattice admin` would be) deleting the user: the cascade
            // deletes its tokens, and every one of them is recorded.
            let other = try DatabaseQueue(path: databasePath(directory))
            try await other.write { db in
                try db.execute(sql: "PRAGMA foreign_keys = ON")
                try db.execute(sql: "DELETE FROM users WHERE id = 'u_ada'")
            }
            try other.close()
            let all = Set(try await Self.subjects(store))
            #expect(all == [.token("t_a"), .token("t_b"), .user("u_ada")])
        }
    }

    @Test func durableAppendsRecordNothing() async throws {
        try await withStore { store, _ in
            try await store.createUser(sampleUser("u_owner"))
            try await store.createWorkspace(Workspace(id: "ws", name: "W", createdAt: t0), owner: "u_owner")
            let head = try await store.identityChangeHead()
            for n in 0..<20 { _ = await append(store, "workspace/ws", "\(n)") }
            try await store.setChannelDurable(workspaceID: "ws", channel: "c", true, by: .local)
            try await store.appendAudit(AuditEntry(at: t0, actorID: "u_owner", action: "test", workspaceID: "ws",
                                                   target: nil, detail: "", address: nil))
            #expect(try await store.identityChangeHead() == head)
        }
    }

    @Test func pruningDropsOnlyOldChanges() async throws {
        try await withStore { store, directory in
            try await store.createUser(sampleUser("u_owner"))
            try await store.createWorkspace(Workspace(id: "ws", name: "W", createdAt: t0), owner: "u_owner")
            let queue = try DatabaseQueue(path: databasePath(directory))
            try await queue.write { db in try db.execute(sql: "UPDATE identity_changes SET at = 1000") }
            try queue.close()
            try await store.createUser(sampleUser("u_ada"))
            try await store.setRole(.editor, of: "u_ada", in: "ws", by: .local)
            #expect(try await store.pruneIdentityChanges(before: Date(timeIntervalSince1970: 3600)) == 1)
            #expect(try await Self.subjects(store) == [.user("u_ada")])
            #expect(try await store.pruneIdentityChanges(before: Date(timeIntervalSince1970: 3600)) == 0)
        }
    }
}
