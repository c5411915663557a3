public import Foundation
public import LatticeRuns
public import LatticeAuth

/// The first start on an empty data directory: an admin user, the `demo` workspace with the
/// demo workflow definitions, and a token to sign in with.
public enum Bootstrap {
    public static let demoWorkspace = "demo"
    /// The first admin token's lifetime: long enough to sign in and make proper tokens.
    public static let adminTokenLifetime: TimeInterval = 86_400

    /// On an empty store, creates them and returns the lines to print (sign-in link, token);
    /// nil on any later start, so nothing secret is printed twice.
    public static func bootstrapIfEmpty(store: any IdentityStore, runs: (any RunStore)? = nil, baseURL: String,
                                        now: Date = Date()) async throws -> String? {
        guard try await store.userCount() == 0 else { return nil }
        let admin = IdentityFactory.user(name: "admin", isAdmin: true, now: now)
        try await store.createUser(admin)
        try await store.createWorkspace(Workspace(id: demoWorkspace, name: "Demo workspace", createdAt: now), owner: admin.id)
        let (token, record) = IdentityFactory.token(for: admin.id, kind: .api, scopes: Set(TokenScope.allCases),
                                                    label: "first start", expiresIn: adminTokenLifetime, now: now)
        try await store.insertToken(record, by: ActivityActor(admin))
        try await store.appendAudit(AuditEntry(at: now, actorID: admin.id, action: "user.create", workspaceID: nil,
                                               target: admin.id, detail: "first start: admin"))
        try await store.appendAudit(AuditEntry(at: now, actorID: admin.id, action: "workspace.create",
                                               workspaceID: demoWorkspace, target: demoWorkspace, detail: "first start"))
        if let runs {
            try await DemoDefinitions.seed(runs, workspace: demoWorkspace, author: admin.id,
                                           at: Int64((now.timeIntervalSince1970 * 1000).rounded()))
        }
        // The credential is printed once, inside the link (scripts may also use it as a token
        // until it expires); a new link later comes from `lattice admin signin-link`.
        return """
            lattice: first start: created the admin user 'admin' (\(admin.id)) and the workspace '\(demoWorkspace)'
            lattice: sign in at \(baseURL)/signin?token=\(token) (valid 24 hours, shown once; the token in it is an admin API token until then)
            lattice: a new sign-in link later: lattice admin signin-link
            """
    }
}
