import ArgumentParser
import Foundation
import LatticeAuth
import LatticeServer
import LatticeStore

// MARK: tokens

struct AdminTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Create and revoke tokens.",
                                                    subcommands: [Create.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a member of a workspace and a token for it; prints only the token.",
            discussion: """
                Without --user, creates a new user (named --name, default cli-<hex>). The user gets \
                --role in --workspace (an existing membership is changed to it). Standard output is \
                the token alone, so scripts can do TOKEN=$(lattice admin token create --workspace demo \
                --role editor); with --json one object {"token","userID","tokenID"}. --bot makes a \
                bot user and a bot token usable only in that workspace.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "Workspace id.") var workspace: String
        @Option(help: "viewer, editor or owner.") var role: String
        @Option(help: "Existing user id (default: create a user).") var user: String?
        @Option(help: "Name of the user to create (default cli-<hex>).") var name: String?
        @Flag(help: "A bot user and a bot token bound to the workspace.") var bot = false
        @Option(help: "Comma-separated scopes: read, write, manage (default all; the role still limits).") var scopes: String?
        @Option(help: "Lifetime in seconds (default: no expiry).") var expiresIn: Int?
        @Option(help: "A label for the token.") var label = "cli"
        @Flag(help: "Print {\"token\",\"userID\",\"tokenID\"} as JSON.") var json = false

        func run() async throws {
            let role = try parseRole(self.role)
            let scopes = try self.scopes.map(parseScopes) ?? Set(TokenScope.allCases)
            if let expiresIn, expiresIn <= 0 { throw ValidationError("--expires-in must be positive") }
            if user != nil && name != nil { throw ValidationError("give --user or --name, not both") }
            let name = self.name ?? "cli-" + String(Crypto.makeID(prefix: "").prefix(8))
            if let problem = Validation.displayName(name) { throw ValidationError(problem) }
            let (token, record) = try await store.withStore("token create") { store in
                _ = try await requireWorkspace(store, workspace)
                let userID: String
                if let existing = user {
                    userID = try await requireUser(store, existing).id
                } else {
                    let created = IdentityFactory.user(name: name, kind: bot ? .bot : .user)
                    try await store.createUser(created)
                    await adminAudit(store, "user.create", target: created.id, detail: "\(name) (\(created.kind.rawValue))")
                    userID = created.id
                }
                let previous = try await store.memberships(of: userID)[workspace]
                if previous != role {
                    try await store.setRole(role, of: userID, in: workspace, by: .local)
                    await adminAudit(store, previous == nil ? "member.add" : "member.role", workspace: workspace, target: userID,
                                     detail: previous.map { "\($0.rawValue) → \(role.rawValue)" } ?? role.rawValue)
                }
                let made = IdentityFactory.token(for: userID, kind: bot ? .bot : .api, scopes: scopes,
                                                 workspaceID: bot ? workspace : nil, label: label,
                                                 expiresIn: expiresIn.map(TimeInterval.init))
                try await store.insertToken(made.record, by: .local)
                await adminAudit(store, "token.create", workspace: workspace, target: made.record.id,
                                 detail: "\(made.record.kind.rawValue) for \(userID), scopes \(scopes.map(\.rawValue).sorted().joined(separator: ","))")
                return made
            }
            if json {
                let object = ["token": token.description, "userID": record.userID, "tokenID": record.id]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                printLine(String(decoding: data, as: UTF8.self))
            } else {
                printLine(token.description)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token (t_…). Live sessions using it end when the server next checks it; use the REST API to end them at once.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Token id (t_…), or the whole token string.") var id: String

        func run() async throws {
            let id = TokenString(parsing: self.id)?.id ?? self.id
            try await store.withStore("token revoke") { store in
                guard let record = try await store.revokeToken(id: id, at: Date(), by: .local) else { throw AdminError("no token \(id)") }
                await adminAudit(store, "token.revoke", workspace: record.workspaceID, target: id, detail: "\(record.kind.rawValue) of \(record.userID)")
            }
        }
    }
}

// MARK: invitations

struct AdminInviteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "invite", abstract: "Create invitations.",
                                                    subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an invitation; prints the invitation (lat_i_…) and its sign-in link.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Workspace id.") var workspace: String
        @Option(help: "viewer, editor or owner.") var role: String
        @Option(help: "Lifetime in seconds (default 7 days, at most 30 days).") var expiresIn: Int?
        @Option(help: "Base URL of the server, for the link.") var baseURL = "http://127.0.0.1:8080"

        func run() async throws {
            let role = try parseRole(self.role)
            let seconds = expiresIn.map(TimeInterval.init) ?? IdentityFactory.defaultInvitationLifetime
            guard seconds >= 1, seconds <= IdentityFactory.maxInvitationLifetime else {
                throw ValidationError("--expires-in must be from 1 to \(Int(IdentityFactory.maxInvitationLifetime)) seconds")
            }
            let secret = try await store.withStore("invite create") { store in
                _ = try await requireWorkspace(store, workspace)
                // The invitation needs a creator: the workspace's first owner.
                let owners = try await store.members(of: workspace).filter { $0.1 == .owner }.map(\.0.id).sorted()
                guard let creator = owners.first else { throw AdminError("workspace \(workspace) has no owner") }
                let (secret, record) = IdentityFactory.invitation(workspaceID: workspace, role: role, createdBy: creator, expiresIn: seconds)
                try await store.insertInvitation(record, by: .local)
                await adminAudit(store, "invitation.create", workspace: workspace, target: record.id, detail: role.rawValue)
                return secret
            }
            let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            printLine(secret.description)
            printLine(base + IdentityFactory.invitationLink(secret))
        }
    }
}

// MARK: audit

struct AdminAuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Print the audit log, newest first: ID TIME ACTION ACTOR WORKSPACE TARGET DETAIL [ADDRESS].")
    @OptionGroup var store: StoreOptions
    @Option(help: "Only this workspace's entries.") var workspace: String?
    @Option(help: "At most this many entries (1–10000).") var limit = 50

    func run() async throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
        let entries = try await store.withStore("audit") { try await $0.audit(workspaceID: workspace, limit: limit, beforeID: nil) }
        let format = Date.ISO8601FormatStyle()
        for e in entries {
            let fields = [String(e.id), e.at.formatted(format), e.action, e.actorID ?? "-", e.workspaceID ?? "-", e.target ?? "-",
                          e.detail + (e.address.map { " [\($0)]" } ?? "")]
            printLine(fields.joined(separator: "  "))
        }
    }
}
