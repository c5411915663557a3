public import GRDB

/// The schema, as migrations in code. A migration, once shipped, never changes: add a new one.
///
/// Dates are stored as INTEGER milliseconds since 1970 (`*_at`, `time_ms`).
extension SQLiteStore {
    /// The migration names, oldest first.
    public static var schemaVersions: [String] { migrator.migrations }

    /// Every migration; `migrate(_:upTo:)` runs a prefix of them (tests migrate old schemas).
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1", migrate: migrateV1)
        migrator.registerMigration("v2", migrate: migrateV2)
        migrator.registerMigration("v3", migrate: migrateV3)
        migrator.registerMigration("v4", migrate: migrateV4)
        migrator.registerMigration("v5", migrate: migrateV5)
        migrator.registerMigration("v6", migrate: migrateV6)
        migrator.registerMigration("v7", migrate: migrateV7)
        return migrator
    }

    private static func migrateV1(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE users (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                kind TEXT NOT NULL,
                is_admin INTEGER NOT NULL,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE workspaces (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE members (
                workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                PRIMARY KEY (workspace_id, user_id)
            ) WITHOUT ROWID;
            CREATE INDEX members_by_user ON members(user_id);
            CREATE TABLE tokens (
                id TEXT PRIMARY KEY NOT NULL,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                secret_hash BLOB NOT NULL,
                scopes TEXT NOT NULL,
                workspace_id TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
                capabilities TEXT NOT NULL,
                label TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER,
                revoked_at INTEGER
            );
            CREATE TABLE invitations (
                id TEXT PRIMARY KEY NOT NULL,
                workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                secret_hash BLOB NOT NULL,
                created_by TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                used_at INTEGER,
                used_by TEXT,
                revoked_at INTEGER
            );
            CREATE INDEX invitations_by_workspace ON invitations(workspace_id);
            -- No foreign keys: entries outlive users and name workspaces that may not exist
            -- (refused accesses).
            CREATE TABLE audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at INTEGER NOT NULL,
                actor_id TEXT,
                action TEXT NOT NULL,
                workspace_id TEXT,
                target TEXT,
                detail TEXT NOT NULL,
                address TEXT
            );
            CREATE INDEX audit_by_workspace ON audit(workspace_id, id);
            CREATE TABLE streams (
                name TEXT PRIMARY KEY NOT NULL,
                epoch TEXT NOT NULL,
                newest_offset INTEGER NOT NULL,
                oldest_offset INTEGER NOT NULL
            );
            CREATE TABLE stream_events (
                stream TEXT NOT NULL,
                offset INTEGER NOT NULL,
                data BLOB NOT NULL,
                key TEXT,
                time_ms INTEGER NOT NULL,
                PRIMARY KEY (stream, offset)
            ) WITHOUT ROWID;
            """)
    }

    private static func migrateV2(_ db: Database) throws {
        try db.execute(sql: """
            -- Channels (`channel/{workspace}/{name}`) their owners made durable.
            CREATE TABLE durable_channels (
                workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                channel TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (workspace_id, channel)
            ) WITHOUT ROWID;
            CREATE INDEX tokens_by_user ON tokens(user_id);
            """)
    }

    /// Changes live sessions depend on, recorded by triggers so that every writer is covered:
    /// this server, `lattice admin` beside it, cascades (a deleted user deletes its tokens and
    /// memberships), another server on the same database. Servers poll the table
    /// (`IdentityStore.identityChanges`).
    private static func migrateV3(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE identity_changes (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                kind TEXT NOT NULL,   -- 'user' or 'token'
                subject TEXT NOT NULL,
                at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
            );
            CREATE INDEX identity_changes_by_time ON identity_changes(at);
            CREATE TRIGGER members_inserted AFTER INSERT ON members BEGIN
                INSERT INTO identity_changes (kind, subject) VALUES ('user', NEW.user_id);
            END;
            CREATE TRIGGER members_updated AFTER UPDATE ON members BEGIN
                INSERT INTO identity_changes (kind, subject) VALUES ('user', NEW.user_id);
            END;
            CREATE TRIGGER members_deleted AFTER DELETE ON members BEGIN
                INSERT INTO identity_changes (kind, subject) VALUES ('user', OLD.user_id);
            END;
            CREATE TRIGGER users_updated AFTER UPDATE OF is_admin, name, kind ON users BEGIN
                INSERT INTO identity_changes (kind, subject) VALUES ('user', NEW.id);
            END;
            CREATE TRIGGER users_deleted AFTER DELETE ON users BEGIN
                INSERT INTO identity_changes (kind, subject) VALUES ('user', OLD.id);
            END;
            CREATE TRIGGER tokens_updated AFTER UPDATE OF revoked_at, expires_at, scopes, workspace_id, user_id ON tokens BEGIN
                INSERT INTO identity_changes (kind, subject) VALUES ('token', NEW.id);
            END;
            CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens BEGIN
                INSERT INTO identity_changes (kind, subject) VALUES ('token', OLD.id);
            END;
            """)
    }

    /// Users can be disabled (`disabled_at`, NULL: enabled): the change is recorded like the
    /// other user changes, so live sessions of a user disabled anywhere end.
    private static func migrateV4(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE users ADD COLUMN disabled_at INTEGER;
            DROP TRIGGER users_updated;
            CREATE TRIGGER users_updated AFTER UPDATE OF is_admin, name, kind, disabled_at ON users BEGIN
                INSERT INTO identity_changes (kind, subject) VALUES ('user', NEW.id);
            END;
            """)
    }

    /// Workspace activity waiting to be published: written in the transaction of the action it
    /// describes, deleted in the transaction that stores it as an event of its stream.
    private static func migrateV6(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE activity_outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                stream TEXT NOT NULL,
                data BLOB NOT NULL
            );
            """)
    }

    /// Runs (docs/runs.md): every version of every workflow definition, kept after a delete for
    /// the runs that pinned it, and one row per run — its `RunRecord` JSON, written in the
    /// transaction of the run event it follows from (`RunRowWrite`), with the columns lists filter on.
    private static func migrateV7(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE run_definitions (
                id TEXT NOT NULL,
                workspace TEXT NOT NULL,
                version INTEGER NOT NULL,
                body TEXT NOT NULL,
                author TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                deleted_at INTEGER,
                PRIMARY KEY (id, version)
            ) WITHOUT ROWID;
            CREATE INDEX run_definitions_workspace ON run_definitions (workspace);
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                workspace TEXT NOT NULL,
                definition_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                status TEXT NOT NULL,
                key TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                body TEXT NOT NULL
            );
            -- A client's idempotency key names one run per workspace.
            CREATE UNIQUE INDEX runs_workspace_key ON runs (workspace, key) WHERE key IS NOT NULL;
            CREATE INDEX runs_workspace_created ON runs (workspace, created_at);
            CREATE INDEX runs_status ON runs (status);
            """)
    }

    /// Channels can be made coalescing (docs/streams.md).
    private static func migrateV5(_ db: Database) throws {
        try db.execute(sql: """
            -- Channels their owners made coalescing (a channel is durable or coalescing, not both).
            CREATE TABLE coalescing_channels (
                workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                channel TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (workspace_id, channel)
            ) WITHOUT ROWID;
            """)
    }
}
