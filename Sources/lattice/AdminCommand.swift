import ArgumentParser
import Foundation
import LatticeAuth
import LatticeServer
import LatticeStore

/// `lattice admin`: identity administration on the local database, without the server (or
/// next to it: SQLite in WAL mode lets both use the file). Changes made here reach live
/// sessions within the server's identity poll (`IdentityChangeWatcher`); the REST API applies
/// them before it answers.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Manage users, workspaces, members, tokens and invitations in the local database.",
        discussion: """
            Every subcommand works on DATA_DIR/lattice.sqlite (--data-dir, env LATTICE_DATA_DIR, \
            default ./lattice-data) and may run while `lattice serve` does. Only `init` creates a \
            missing database; the others refuse it (exit 1, naming the path they looked at). Changes made here \
            reach live WebSocket sessions within about a second (the server polls the changes the \
            database records); the REST API (docs/api.md) applies them before it answers. What changes             a workspace (members, invitations, bot tokens, its name) is also published on its stream             workspace/{ws} as activity by "lattice admin" (docs/protocol.md): within about 0.1 s by a             running server, or by the next one to start.
            """,
        subcommands: [AdminInitCommand.self, AdminUserCommand.self, AdminWorkspaceCommand.self, AdminMemberCommand.self,
                      AdminTokenCommand.self, AdminInviteCommand.self, AdminSignInLinkCommand.self, AdminAuditCommand.self]
    )
}

extension StoreOptions {
    /// The database file this command uses, as an absolute path (for messages).
    var databasePath: String {
        let directory = URL(fileURLWithPath: self.directory, isDirectory: true).standardizedFileURL
        return directory.appendingPathComponent("lattice.sqlite").path
    }

    /// Opens the store, runs `body`, closes the store; any failure is one clear line on
    /// standard error and exit status 1. Only `creating` commands (`lattice admin init`) make a
    /// new database: every other one refuses a missing one, naming the path it looked at,
    /// instead of answering from an empty database it just made.
    func withStore<T>(_ command: String, creating: Bool = false, _ body: (SQLiteStore) async throws -> T) async throws -> T {
        if !creating, !FileManager.default.fileExists(atPath: databasePath) {
            printError("lattice admin \(command): no database at \(databasePath) (give --data-dir or set LATTICE_DATA_DIR; `lattice admin init` creates one)")
            throw ExitCode(1)
        }
        let store: SQLiteStore
        do {
            store = try open()
        } catch {
            printError("lattice admin \(command): \(error)")
            throw ExitCode(1)
        }
        defer { store.close() }
        do {
            return try await body(store)
        } catch let error as AdminError {
            printError("lattice admin \(command): \(error.message)")
            throw ExitCode(1)
        } catch let error as IdentityStoreError {
            printError("lattice admin \(command): \(AdminError.describe(error))")
            throw ExitCode(1)
        } catch let error as ExitCode {
            throw error
        } catch {
            printError("lattice admin \(command): \(error)")
            throw ExitCode(1)
        }
    }
}

struct AdminError: Error {
    var message: String
    init(_ message: String) { self.message = message }

    static func describe(_ error: IdentityStoreError) -> String {
        switch error {
        case .alreadyExists(let what): "\(what) already exists"
        case .notFound(let what): "\(what) not found"
        case .invitationUnusable(let state): "the invitation is \(state.rawValue)"
        case .lastOwner(let ws): "workspace \(ws) must keep at least one owner"
        case .lastAdmin(let id): "\(id) is the last enabled server admin: the server must keep one (make another admin first)"
        case .storeFailed(let why): "the store failed: \(why)"
        }
    }
}

/// What `lattice admin` writes to the audit log: no acting user, the detail says it was the CLI.
func adminAudit(_ store: SQLiteStore, _ action: String, workspace: String? = nil, target: String?, detail: String) async {
    let entry = AuditEntry(at: Date(), actorID: nil, action: action, workspaceID: workspace, target: target,
                           detail: "lattice admin: " + detail)
    do { try await store.appendAudit(entry) } catch { printError("warning: audit write failed (\(action)): \(error)") }
}

func parseRole(_ name: String) throws -> Role {
    guard let role = Role(rawValue: name) else { throw ValidationError("--role must be viewer, editor or owner") }
    return role
}

func parseScopes(_ list: String) throws -> Set<TokenScope> {
    var scopes: Set<TokenScope> = []
    for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
        guard let scope = TokenScope(rawValue: name) else { throw ValidationError("unknown scope '\(name)'; use read, write, manage") }
        scopes.insert(scope)
    }
    guard !scopes.isEmpty else { throw ValidationError("--scopes must name at least one of read, write, manage") }
    return scopes
}

func requireUser(_ store: SQLiteStore, _ id: String) async throws -> User {
    guard let user = try await store.user(id: id) else { throw AdminError("no user \(id) (see `lattice admin user list`)") }
    return user
}

func requireWorkspace(_ store: SQLiteStore, _ id: String) async throws -> Workspace {
    guard let workspace = try await store.workspace(id: id) else { throw AdminError("no workspace \(id) (see `lattice admin workspace list`)") }
    return workspace
}

// MARK: init

struct AdminInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "On an empty database: create user admin, workspace demo and a sign-in token (prints them).")

    @OptionGroup var store: StoreOptions
    @Option(help: "Base URL printed in the sign-in link.") var baseURL = "http://127.0.0.1:8080"

    func run() async throws {
        let lines = try await store.withStore("init", creating: true) { store in
            try await Bootstrap.bootstrapIfEmpty(store: store, baseURL: baseURL)
        }
        guard let lines else {
            printError("lattice admin init: the database in \(store.directory) already has users; nothing done")
            throw ExitCode(1)
        }
        printLine(lines)
    }
}

// MARK: users

struct AdminUserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Create, list, disable, enable and delete users; sign a user out everywhere.",
        discussion: """
            disable, delete and signout end the user's live WebSocket sessions within about a second \
            (close 4003 with reason `user disabled`, `user deleted` or `token revoked`). Neither \
            disable nor delete may leave the server without an enabled admin.
            """,
        subcommands: [Create.self, List.self, Disable.self, Enable.self, Delete.self, SignOut.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user; prints its id.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Display name.") var name: String
        @Flag(help: "A bot rather than a person.") var bot = false
        @Flag(help: "A server administrator.") var admin = false

        func run() async throws {
            if let problem = Validation.displayName(name) { throw ValidationError(problem) }
            let user = IdentityFactory.user(name: name, kind: bot ? .bot : .user, isAdmin: admin)
            try await store.withStore("user create") { store in
                try await store.createUser(user)
                await adminAudit(store, "user.create", target: user.id, detail: "\(name) (\(user.kind.rawValue)\(admin ? ", admin" : ""))")
            }
            printLine(user.id)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users: ID KIND ADMIN NAME (disabled users: ` (disabled)` after the name).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let users = try await store.withStore("user list") { try await $0.users() }
            for user in users.sorted(by: { $0.createdAt < $1.createdAt }) {
                printLine("\(user.id)  \(user.kind.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0))  \(user.isAdmin ? "admin" : "-    ")  \(user.name)\(user.isDisabled ? " (disabled)" : "")")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user: none of its tokens authenticates until `user enable`; its memberships and tokens stay.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "User id (u_…).") var id: String

        func run() async throws {
            try await store.withStore("user disable") { store in
                let user = try await requireUser(store, id)
                _ = try await store.setUserDisabled(id: id, at: Date())
                await adminAudit(store, "user.disable", target: id, detail: user.name)
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled user again.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "User id (u_…).") var id: String

        func run() async throws {
            try await store.withStore("user enable") { store in
                let user = try await requireUser(store, id)
                _ = try await store.setUserDisabled(id: id, at: nil)
                await adminAudit(store, "user.enable", target: id, detail: user.name)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a user with its tokens and memberships (not a workspace's last owner).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "User id (u_…).") var id: String

        func run() async throws {
            try await store.withStore("user delete") { store in
                let user = try await requireUser(store, id)
                guard try await store.deleteUser(id: id, by: .local) else { throw AdminError("no user \(id) (see `lattice admin user list`)") }
                await adminAudit(store, "user.delete", target: id, detail: "\(user.name) (\(user.kind.rawValue))")
            }
        }
    }

    struct SignOut: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "signout",
            abstract: "Sign a user out everywhere: revoke every token it has; prints the revoked token ids.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "User id (u_…).") var id: String

        func run() async throws {
            let revoked = try await store.withStore("user signout") { store in
                _ = try await requireUser(store, id)
                let revoked = try await store.revokeTokens(of: id, at: Date(), by: .local)
                await adminAudit(store, "user.signout", target: id,
                                 detail: revoked.isEmpty ? "no tokens to revoke" : "revoked " + revoked.map(\.id).joined(separator: ", "))
                return revoked
            }
            for token in revoked { printLine(token.id) }
        }
    }
}

// MARK: workspaces

struct AdminWorkspaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "workspace", abstract: "Create, list and rename workspaces.",
                                                    subcommands: [Create.self, List.self, Rename.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a workspace owned by a user.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Workspace id (1–64 of A-Z a-z 0-9 . _ ~ -).") var id: String
        @Option(help: "Display name (default: the id).") var name: String?
        @Option(help: "User id of its first owner.") var owner: String

        func run() async throws {
            if let problem = Validation.segment(id, what: "a workspace id") { throw ValidationError(problem) }
            let name = self.name ?? id
            if let problem = Validation.displayName(name) { throw ValidationError(problem) }
            try await store.withStore("workspace create") { store in
                _ = try await requireUser(store, owner)
                try await store.createWorkspace(Workspace(id: id, name: name, createdAt: Date()), owner: owner)
                await adminAudit(store, "workspace.create", workspace: id, target: id, detail: "\(name), owner \(owner)")
            }
            printLine(id)
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a workspace a new display name (its members see workspace.renamed on workspace/{id}).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Workspace id.") var id: String
        @Argument(help: "The new display name (1–64 bytes, no control characters).") var name: String

        func run() async throws {
            if let problem = Validation.displayName(name) { throw ValidationError(problem) }
            try await store.withStore("workspace rename") { store in
                guard try await store.renameWorkspace(id: id, name: name, by: .local) != nil else {
                    throw AdminError("no workspace \(id) (see `lattice admin workspace list`)")
                }
                await adminAudit(store, "workspace.rename", workspace: id, target: id, detail: name)
            }
            printLine(id)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List workspaces: ID MEMBERS NAME.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let rows = try await store.withStore("workspace list") { store in
                var rows: [(Workspace, Int)] = []
                for workspace in try await store.workspaces() {
                    rows.append((workspace, try await store.members(of: workspace.id).count))
                }
                return rows
            }
            for (workspace, members) in rows {
                printLine("\(workspace.id)  \(members)  \(workspace.name)")
            }
        }
    }
}

// MARK: members

struct AdminMemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "member", abstract: "Set or remove a member's role.",
                                                    subcommands: [Set_.self, Remove.self])

    struct Set_: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Add a member or change its role.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Workspace id.") var workspace: String
        @Option(help: "User id.") var user: String
        @Option(help: "viewer, editor or owner.") var role: String

        func run() async throws {
            let role = try parseRole(self.role)
            try await store.withStore("member set") { store in
                _ = try await requireWorkspace(store, workspace)
                _ = try await requireUser(store, user)
                let previous = try await store.memberships(of: user)[workspace]
                try await store.setRole(role, of: user, in: workspace, by: .local)
                await adminAudit(store, previous == nil ? "member.add" : "member.role", workspace: workspace, target: user,
                                 detail: previous.map { "\($0.rawValue) → \(role.rawValue)" } ?? role.rawValue)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a member.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Workspace id.") var workspace: String
        @Option(help: "User id.") var user: String

        func run() async throws {
            try await store.withStore("member remove") { store in
                guard try await store.removeMember(user, from: workspace, by: .local) else {
                    throw AdminError("\(user) is not a member of \(workspace)")
                }
                await adminAudit(store, "member.remove", workspace: workspace, target: user, detail: "removed")
            }
        }
    }
}
