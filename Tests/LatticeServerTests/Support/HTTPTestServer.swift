import Foundation
import LatticeAuth
@testable import LatticeServer
import LatticeStore

/// What the HTTP tests run `lattice serve`'s route table against: a fresh SQLite store in a
/// temporary directory with an admin, the `demo` workspace and a viewer of it, each with a token.
final class HTTPTestServer: Sendable {
    let store: SQLiteStore
    let services: ServerServices
    let directory: String
    /// A server admin's token (all scopes).
    let adminToken: String
    /// A viewer of `demo` (all scopes, but the role only reads).
    let viewerToken: String
    /// A browser session of the admin, for cookie requests.
    let adminSession: String

    private init(store: SQLiteStore, directory: String, adminToken: String, viewerToken: String, adminSession: String) {
        self.store = store
        self.directory = directory
        self.adminToken = adminToken
        self.viewerToken = viewerToken
        self.adminSession = adminSession
        services = ServerServices(access: AccessControl(store: store), streams: store,
                                  isDurableChannel: { store.isDurableChannel($0) },
                                  setChannelDurable: { try await store.setChannelDurable(workspaceID: $0, channel: $1, $2, by: $3) },
                                  isCoalescingChannel: { store.isCoalescingChannel($0) },
                                  setChannelCoalescing: { try await store.setChannelCoalescing(workspaceID: $0, channel: $1, $2, by: $3) })
    }

    static func make() async throws -> HTTPTestServer {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent("lattice-http-\(UUID().uuidString)")
        let store = try SQLiteStore.open(directory: directory)
        let admin = IdentityFactory.user(name: "admin", isAdmin: true)
        let viewer = IdentityFactory.user(name: "viewer")
        try await store.createUser(admin)
        try await store.createUser(viewer)
        try await store.createWorkspace(Workspace(id: "demo", name: "Demo", createdAt: Date()), owner: admin.id)
        try await store.setRole(.viewer, of: viewer.id, in: "demo", by: .local)
        let all = Set(TokenScope.allCases)
        let (adminToken, adminRecord) = IdentityFactory.token(for: admin.id, kind: .api, scopes: all, expiresIn: 3600)
        let (viewerToken, viewerRecord) = IdentityFactory.token(for: viewer.id, kind: .api, scopes: all, expiresIn: 3600)
        let (session, sessionRecord) = IdentityFactory.session(for: admin.id)
        for record in [adminRecord, viewerRecord, sessionRecord] { try await store.insertToken(record, by: .local) }
        return HTTPTestServer(store: store, directory: directory, adminToken: adminToken.description,
                              viewerToken: viewerToken.description, adminSession: session.description)
    }

    /// `lattice serve`'s table, with `origins` as its Origin rule.
    func routes(origins: OriginPolicy = OriginPolicy(), files: StaticFiles = StaticFiles()) -> HTTPRouteTable {
        .serve(files: files, webSocketPath: "/ws", services: services, hub: nil, origins: origins)
    }

    /// Closes the store and removes its directory.
    func close() {
        store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
