import Foundation
import GRDB
import LatticeProtocol
import LatticeAuth
@testable import LatticeStore
import LatticeStreams
import Testing

@Suite struct MigrationTests {
    @Test func emptyDatabaseMigratesToLatest() async throws {
        try await withTemporaryDirectory { directory in
            try SQLiteStore.open(directory: directory).close()
            let queue = try DatabaseQueue(path: databasePath(directory))
            let tables = ["users", "workspaces", "members", "tokens", "invitations", "audit", "streams",
                          "stream_events", "durable_channels", "identity_changes", "coalescing_channels",
                          "activity_outbox"]
            let (applied, existing, tokenIndexes) = try queue.read { db in
                (try SQLiteStore.migrator.appliedMigrations(db),
                 try tables.filter { try db.tableExists($0) },
                 try db.indexes(on: "tokens").map(\.name))
            }
            try queue.close()
            #expect(applied == SQLiteStore.schemaVersions)
            #expect(existing == tables)
            #expect(tokenIndexes.contains("tokens_by_user"))
            #expect(SQLiteStore.schemaVersions == ["v1", "v2", "v3", "v4", "v5", "v6", "v7"])
        }
    }

    @Test func v1DataSurvivesMigrationToLatest() async throws {
        try await withTemporaryDirectory { directory in
            let queue = try DatabaseQueue(path: databasePath(directory))
            try SQLiteStore.migrator.migrate(queue, upTo: "v1")
            #expect(try await queue.read { db in try db.tableExists("durable_channels") } == false)
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO users VALUES ('u_1', 'Ada', 'user', 1, 1700000000000);
                    INSERT INTO workspaces VALUES ('ws', 'Workspace', 1700000000000);
                    INSERT INTO members VALUES ('ws', 'u_1', 'owner');
                    INSERT INTO tokens VALUES ('t_1', 'u_1', 'api', x'0102', 'read,write', NULL, '[]', 'ci',
                                               1700000000000, NULL, NULL);
                    INSERT INTO streams VALUES ('doc/ws/a', '00000000000000ab', 2, 1);
                    INSERT INTO stream_events VALUES ('doc/ws/a', 1, CAST('{"n":1}' AS BLOB), NULL, 1700000000000);
                    INSERT INTO stream_events VALUES ('doc/ws/a', 2, CAST('{"n":2}' AS BLOB), 'k', 1700000000001);
                    """)
            }
            try queue.close()

            let store = try SQLiteStore.open(directory: directory)
            defer { store.close() }
            #expect(try await store.user(id: "u_1") == User(id: "u_1", name: "Ada", kind: .user, isAdmin: true, createdAt: t0))
            #expect(try await store.memberships(of: "u_1") == ["ws": .owner])
            let token = try #require(try await store.token(id: "t_1"))
            #expect(token.scopes == [.read, .write] && token.secretHash == Data([1, 2]) && token.label == "ci")
            #expect(store.head(of: "doc/ws/a") == DurableStreamHead(epoch: StreamEpoch("00000000000000ab"),
                                                                    newestOffset: 2, oldestOffset: 1))
            let events = try await store.read(stream: "doc/ws/a", after: 0, limit: 10)
            #expect(events.map(\.string) == [#"{"n":1}"#, #"{"n":2}"#] && events[1].key == "k")
            // v2 works on the migrated file, and appends continue the old stream.
            try await store.setChannelDurable(workspaceID: "ws", channel: "general", true, by: .local)
            #expect(try store.durableChannels() == ["channel/ws/general"])
            #expect(await append(store, "doc/ws/a", "3") == .success(3))
        }
    }

    /// The previous schema version: v2 rows are kept, and the v3 triggers record changes to them.
    @Test func v2DataSurvivesMigrationToV3() async throws {
        try await withTemporaryDirectory { directory in
            let queue = try DatabaseQueue(path: databasePath(directory))
            try SQLiteStore.migrator.migrate(queue, upTo: "v2")
            #expect(try await queue.read { db in try db.tableExists("identity_changes") } == false)
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO users VALUES ('u_1', 'Ada', 'user', 0, 1700000000000);
                    INSERT INTO users VALUES ('u_2', 'Bob', 'user', 0, 1700000000000);
                    INSERT INTO workspaces VALUES ('ws', 'Workspace', 1700000000000);
                    INSERT INTO members VALUES ('ws', 'u_1', 'owner');
                    INSERT INTO members VALUES ('ws', 'u_2', 'editor');
                    INSERT INTO tokens VALUES ('t_2', 'u_2', 'api', x'0102', 'read,write', NULL, '[]', 'ci',
                                               1700000000000, NULL, NULL);
                    INSERT INTO durable_channels VALUES ('ws', 'general', 1700000000000);
                    """)
            }
            try queue.close()

            let store = try SQLiteStore.open(directory: directory)
            defer { store.close() }
            #expect(try await store.memberships(of: "u_2") == ["ws": .editor])
            #expect(try store.durableChannels() == ["channel/ws/general"])
            #expect(try await store.identityChangeHead() == 0)
            #expect(try await store.removeMember("u_2", from: "ws", by: .local))
            _ = try await store.revokeToken(id: "t_2", at: t0, by: .local)
            #expect(try await store.identityChanges(after: 0, limit: 10).map(\.subject) == [.user("u_2"), .token("t_2")])
        }
    }

    /// The previous schema version: v3 users come out enabled, can be disabled, and the
    /// replaced `users_updated` trigger records that (and still the v3 columns).
    @Test func v3DataSurvivesMigrationToV4() async throws {
        try await withTemporaryDirectory { directory in
            let queue = try DatabaseQueue(path: databasePath(directory))
            try SQLiteStore.migrator.migrate(queue, upTo: "v3")
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO users VALUES ('u_1', 'Ada', 'user', 1, 1700000000000);
                    INSERT INTO users VALUES ('u_2', 'Bob', 'user', 0, 1700000000000);
                    INSERT INTO tokens VALUES ('t_2', 'u_2', 'api', x'0102', 'read,write', NULL, '[]', 'ci',
                                               1700000000000, NULL, NULL);
                    """)
            }
            try queue.close()

            let store = try SQLiteStore.open(directory: directory)
            defer { store.close() }
            #expect(try await store.user(id: "u_2") == User(id: "u_2", name: "Bob", kind: .user, isAdmin: false, createdAt: t0))
            let head = try await store.identityChangeHead()
            let disabled = try #require(try await store.setUserDisabled(id: "u_2", at: t0))
            #expect(disabled.disabledAt == t0)
            #expect(try await store.identityChanges(after: head, limit: 10).map(\.subject) == [.user("u_2")])
            let other = try DatabaseQueue(path: databasePath(directory))
            try await other.write { db in try db.execute(sql: "UPDATE users SET is_admin = 1 WHERE id = 'u_2'") }
            try other.close()
            #expect(try await store.identityChanges(after: head, limit: 10).map(\.subject) == [.user("u_2"), .user("u_2")])
            #expect(try await store.token(id: "t_2")?.revokedAt == nil)
        }
    }

    /// The previous schema version: v4 rows are kept, and channels can be made coalescing.
    @Test func v4DataSurvivesMigrationToV5() async throws {
        try await withTemporaryDirectory { directory in
            let queue = try DatabaseQueue(path: databasePath(directory))
            try SQLiteStore.migrator.migrate(queue, upTo: "v4")
            #expect(try await queue.read { db in try db.tableExists("coalescing_channels") } == false)
            try await queue.write { db in
                try db.execute(sql: """
                    INSERT INTO users (id, name, kind, is_admin, created_at) VALUES ('u_1', 'Ada', 'user', 0, 1700000000000);
                    INSERT INTO workspaces VALUES ('ws', 'Workspace', 1700000000000);
                    INSERT INTO members VALUES ('ws', 'u_1', 'owner');
                    INSERT INTO durable_channels VALUES ('ws', 'general', 1700000000000);
                    """)
            }
            try queue.close()

            let store = try SQLiteStore.open(directory: directory)
            defer { store.close() }
            #expect(try store.durableChannels() == ["channel/ws/general"])
            #expect(try store.coalescingChannels() == [])
            try await store.setChannelCoalescing(workspaceID: "ws", channel: "cursors", true, by: .local)
            #expect(store.isCoalescingChannel("channel/ws/cursors"))
            // v6: the change is activity, waiting in the outbox for the server to publish it.
            let pending = try await store.pendingActivity(limit: 10)
            #expect(pending.map(\.stream) == ["workspace/ws"])
        }
    }
}
