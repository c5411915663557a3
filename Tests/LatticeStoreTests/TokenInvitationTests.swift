import Foundation
import LatticeAuth
import LatticeStore
import Testing

@Suite struct TokenInvitationTests {
    /// A workspace `ws` owned by `u_owner`.
    static func seed(_ store: any IdentityStore) async throws {
        try await store.createUser(sampleUser("u_owner"))
        try await store.createWorkspace(Workspace(id: "ws", name: "W", createdAt: t0), owner: "u_owner")
    }

    @Test(arguments: IdentityStoreKind.allCases) func tokensAreStoredAndRevokedOnce(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await Self.seed(store)
            let api = sampleToken("t_api", user: "u_owner")
            let bot = sampleToken("t_bot", user: "u_owner", workspace: "ws", at: t0.addingTimeInterval(1))
            try await store.insertToken(api, by: .local)
            try await store.insertToken(bot, by: .local)
            #expect(try await store.token(id: "t_api") == api)
            #expect(try await store.token(id: "t_bot") == bot)
            #expect(try await store.tokens(of: "u_owner") == [api, bot])
            #expect(try await store.tokens(of: "u_other").isEmpty)
            await #expect(throws: IdentityStoreError.alreadyExists("t_api")) { try await store.insertToken(api, by: .local) }
            await #expect(throws: IdentityStoreError.notFound("u_ghost")) {
                try await store.insertToken(sampleToken("t_3", user: "u_ghost"), by: .local)
            }

            let revoked = try await store.revokeToken(id: "t_api", at: t0.addingTimeInterval(10), by: .local)
            #expect(revoked?.revokedAt == t0.addingTimeInterval(10) && revoked?.isActive(at: t0) == false)
            let again = try await store.revokeToken(id: "t_api", at: t0.addingTimeInterval(20), by: .local)
            #expect(again?.revokedAt == t0.addingTimeInterval(10))
            #expect(try await store.revokeToken(id: "t_none", at: t0, by: .local) == nil)
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func aOneTimeTokenIsConsumedOnce(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await Self.seed(store)
            try await store.insertToken(sampleToken("t_once", user: "u_owner"), by: .local)
            let head = try await store.identityChangeHead()
            // Of many concurrent uses, exactly one consumes it.
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for n in 0..<8 { group.addTask { try await store.consumeToken(id: "t_once", at: t0.addingTimeInterval(Double(n))) } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await store.token(id: "t_once")?.revokedAt != nil)
            #expect(try await store.consumeToken(id: "t_none", at: t0) == false)
            #expect(try await store.identityChanges(after: head, limit: 10).map(\.subject) == [.token("t_once")])
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func anInvitationIsAcceptedOnce(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await Self.seed(store)
            try await store.insertInvitation(sampleInvitation("i_1", workspace: "ws", by: "u_owner"), by: .local)
            #expect(try await store.invitations(of: "ws").map(\.id) == ["i_1"])
            let at = t0.addingTimeInterval(60)
            let membership = try await store.acceptInvitation(
                id: "i_1", userID: "u_new", newUser: sampleUser("u_new"), session: sampleToken("t_s1", user: "u_new"), at: at)
            #expect(membership == Membership(workspaceID: "ws", userID: "u_new", role: .editor))
            #expect(try await store.memberships(of: "u_new") == ["ws": .editor])
            #expect(try await store.token(id: "t_s1") != nil)
            let used = try #require(try await store.invitation(id: "i_1"))
            #expect(used.usedAt == at && used.usedBy == "u_new" && used.state(at: at) == .used)

            await #expect(throws: IdentityStoreError.invitationUnusable(.used)) {
                _ = try await store.acceptInvitation(id: "i_1", userID: "u_owner", newUser: nil,
                                                     session: sampleToken("t_s2", user: "u_owner"), at: at)
            }
            #expect(try await store.token(id: "t_s2") == nil)
            #expect(try await store.memberships(of: "u_owner") == ["ws": .owner])
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func expiredAndRevokedInvitationsChangeNothing(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await Self.seed(store)
            try await store.insertInvitation(sampleInvitation("i_old", workspace: "ws", by: "u_owner", expiresIn: 60), by: .local)
            try await store.insertInvitation(sampleInvitation("i_rev", workspace: "ws", by: "u_owner"), by: .local)
            let revoked = try await store.revokeInvitation(id: "i_rev", at: t0.addingTimeInterval(1), by: .local)
            #expect(revoked?.revokedAt == t0.addingTimeInterval(1))
            // Not pending any more: a second revoke changes nothing.
            #expect(try await store.revokeInvitation(id: "i_rev", at: t0.addingTimeInterval(2), by: .local)?.revokedAt == t0.addingTimeInterval(1))
            #expect(try await store.revokeInvitation(id: "i_none", at: t0, by: .local) == nil)

            for (id, state) in [("i_old", Invitation.State.expired), ("i_rev", .revoked)] {
                await #expect(throws: IdentityStoreError.invitationUnusable(state)) {
                    _ = try await store.acceptInvitation(id: id, userID: "u_\(id)", newUser: sampleUser("u_\(id)"),
                                                         session: sampleToken("t_\(id)", user: "u_\(id)"),
                                                         at: t0.addingTimeInterval(120))
                }
                #expect(try await store.user(id: "u_\(id)") == nil)
                #expect(try await store.token(id: "t_\(id)") == nil)
                #expect(try await store.invitation(id: id)?.usedAt == nil)
            }
            #expect(try await store.members(of: "ws").count == 1)
            await #expect(throws: IdentityStoreError.notFound("i_none")) {
                _ = try await store.acceptInvitation(id: "i_none", userID: "u_owner", newUser: nil,
                                                     session: sampleToken("t_x", user: "u_owner"), at: t0)
            }
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func aFailingAcceptLeavesTheInvitationPending(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await Self.seed(store)
            try await store.insertInvitation(sampleInvitation("i_1", workspace: "ws", by: "u_owner"), by: .local)
            // newUser's id is taken: the whole accept rolls back.
            await #expect(throws: IdentityStoreError.alreadyExists("u_owner")) {
                _ = try await store.acceptInvitation(id: "i_1", userID: "u_owner", newUser: sampleUser("u_owner"),
                                                     session: sampleToken("t_s", user: "u_owner"), at: t0)
            }
            // The session id is taken (fails last, after the membership and the burn).
            try await store.createUser(sampleUser("u_2"))
            try await store.insertToken(sampleToken("t_taken", user: "u_owner"), by: .local)
            await #expect(throws: IdentityStoreError.alreadyExists("t_taken")) {
                _ = try await store.acceptInvitation(id: "i_1", userID: "u_2", newUser: nil,
                                                     session: sampleToken("t_taken", user: "u_2"), at: t0)
            }
            #expect(try await store.invitation(id: "i_1")?.state(at: t0) == .pending)
            #expect(try await store.memberships(of: "u_2").isEmpty)
            #expect(try await store.tokens(of: "u_owner").map(\.id) == ["t_taken"])
            // And it still works afterwards.
            let membership = try await store.acceptInvitation(id: "i_1", userID: "u_2", newUser: nil,
                                                              session: sampleToken("t_ok", user: "u_2"), at: t0)
            #expect(membership.role == .editor)
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func acceptingNeverLowersARole(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            try await Self.seed(store)
            try await store.insertInvitation(sampleInvitation("i_1", workspace: "ws", role: .viewer, by: "u_owner"), by: .local)
            let membership = try await store.acceptInvitation(id: "i_1", userID: "u_owner", newUser: nil,
                                                              session: sampleToken("t_s", user: "u_owner"), at: t0)
            #expect(membership.role == .owner)
            #expect(try await store.memberships(of: "u_owner") == ["ws": .owner])
        }
    }

    @Test(arguments: IdentityStoreKind.allCases) func auditIsNewestFirstAndPagesPerWorkspace(kind: IdentityStoreKind) async throws {
        try await withIdentityStore(kind) { store in
            for i in 1...7 {
                try await store.appendAudit(AuditEntry(at: t0.addingTimeInterval(Double(i)), actorID: "u_\(i)",
                                                       action: "member.add", workspaceID: i % 2 == 0 ? "even" : "odd",
                                                       target: "t\(i)", detail: "entry \(i)", address: i == 1 ? "10.0.0.1" : nil))
            }
            let all = try await store.audit(workspaceID: nil, limit: 100, beforeID: nil)
            #expect(all.map(\.detail) == (1...7).reversed().map { "entry \($0)" })
            #expect(all.last?.address == "10.0.0.1" && all.last?.at == t0.addingTimeInterval(1) && all.last?.actorID == "u_1")

            let firstPage = try await store.audit(workspaceID: "odd", limit: 2, beforeID: nil)
            #expect(firstPage.map(\.target) == ["t7", "t5"])
            let secondPage = try await store.audit(workspaceID: "odd", limit: 2, beforeID: firstPage.last?.id)
            #expect(secondPage.map(\.target) == ["t3", "t1"])
            #expect(try await store.audit(workspaceID: "odd", limit: 2, beforeID: secondPage.last?.id).isEmpty)
            #expect(try await store.audit(workspaceID: "even", limit: 10, beforeID: nil).map(\.target) == ["t6", "t4", "t2"])
        }
    }
}
