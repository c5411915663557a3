import LatticeAuth
import NIOHTTP1

/// The REST API's routes (docs/api.md); the handlers are `APICall`'s, in the `APICall+…` files.
struct APIRoutes: Sendable {
    let services: ServerServices
    let hub: StreamHub?
    let runs: RunService?

    var routes: [HTTPRoute] {
        [
            signedIn(.GET, "/api/me") { call, p in try await call.me(p) },
            signedIn(.GET, "/api/users") { call, p in try await call.listUsers(p) },
            signedIn(.POST, "/api/users") { call, p in try await call.createUser(p) },
            signedIn(.DELETE, "/api/users/{user}") { call, p in try await call.deleteUser(call.parameter("user"), p) },
            signedIn(.POST, "/api/users/{user}/disable") { call, p in try await call.disableUser(call.parameter("user"), p) },
            signedIn(.POST, "/api/users/{user}/enable") { call, p in try await call.enableUser(call.parameter("user"), p) },
            signedIn(.POST, "/api/users/{user}/signout") { call, p in try await call.signOutUser(call.parameter("user"), p) },
            signedIn(.GET, "/api/workspaces") { call, p in try await call.listWorkspaces(p) },
            signedIn(.POST, "/api/workspaces") { call, p in try await call.createWorkspace(p) },
            signedIn(.GET, "/api/workspaces/{workspace}") { call, p in try await call.getWorkspace(call.parameter("workspace"), p) },
            signedIn(.PATCH, "/api/workspaces/{workspace}") { call, p in try await call.renameWorkspace(call.parameter("workspace"), p) },
            signedIn(.GET, "/api/workspaces/{workspace}/activity") { call, p in
                try await call.readActivity(call.parameter("workspace"), p)
            },
            signedIn(.GET, "/api/workspaces/{workspace}/members") { call, p in
                try await call.listMembers(call.parameter("workspace"), p)
            },
            signedIn(.PUT, "/api/workspaces/{workspace}/members/{user}") { call, p in
                try await call.setMember(call.parameter("workspace"), call.parameter("user"), p)
            },
            signedIn(.DELETE, "/api/workspaces/{workspace}/members/{user}") { call, p in
                try await call.removeMember(call.parameter("workspace"), call.parameter("user"), p)
            },
            signedIn(.GET, "/api/workspaces/{workspace}/invitations") { call, p in
                try await call.listInvitations(call.parameter("workspace"), p)
            },
            signedIn(.POST, "/api/workspaces/{workspace}/invitations") { call, p in
                try await call.createInvitation(call.parameter("workspace"), p)
            },
            signedIn(.GET, "/api/workspaces/{workspace}/audit") { call, p in
                try await call.readAudit(workspace: call.parameter("workspace"), p)
            },
            signedIn(.PUT, "/api/workspaces/{workspace}/channels/{channel}") { call, p in
                try await call.setChannel(call.parameter("workspace"), call.parameter("channel"), p)
            },
            signedIn(.GET, "/api/workspaces/{workspace}/definitions") { call, p in
                try await call.listDefinitions(call.parameter("workspace"), p)
            },
            signedIn(.POST, "/api/workspaces/{workspace}/definitions") { call, p in
                try await call.createDefinition(call.parameter("workspace"), p)
            },
            signedIn(.POST, "/api/workspaces/{workspace}/definitions/validate") { call, p in
                try await call.validateDefinition(call.parameter("workspace"), p)
            },
            signedIn(.GET, "/api/definitions/{definition}") { call, p in try await call.getDefinition(call.parameter("definition"), p) },
            signedIn(.PUT, "/api/definitions/{definition}") { call, p in try await call.updateDefinition(call.parameter("definition"), p) },
            signedIn(.DELETE, "/api/definitions/{definition}") { call, p in try await call.deleteDefinition(call.parameter("definition"), p) },
            signedIn(.GET, "/api/definitions/{definition}/versions") { call, p in
                try await call.definitionVersions(call.parameter("definition"), p)
            },
            signedIn(.GET, "/api/definitions/{definition}/export") { call, p in
                try await call.exportDefinition(call.parameter("definition"), p)
            },
            signedIn(.GET, "/api/workspaces/{workspace}/runs") { call, p in try await call.listRuns(call.parameter("workspace"), p) },
            signedIn(.POST, "/api/workspaces/{workspace}/runs") { call, p in try await call.startRun(call.parameter("workspace"), p) },
            signedIn(.GET, "/api/runs/{run}") { call, p in try await call.getRun(call.parameter("run"), p) },
            signedIn(.POST, "/api/runs/{run}/cancel") { call, p in try await call.cancelRun(call.parameter("run"), p) },
            signedIn(.POST, "/api/runs/{run}/approve") { call, p in try await call.decideRun(call.parameter("run"), p) },
            signedIn(.GET, "/api/runs/{run}/events") { call, p in try await call.runEvents(call.parameter("run"), p) },
            signedIn(.GET, "/api/tokens") { call, p in try await call.listTokens(p) },
            signedIn(.POST, "/api/tokens") { call, p in try await call.createToken(p) },
            signedIn(.DELETE, "/api/tokens/{token}") { call, p in try await call.revokeToken(call.parameter("token"), p) },
            // Before `/api/invitations/{invitation}`, which would match it too.
            .task(HTTPRoutePattern("/api/invitations/accept"), .only([.POST]), access: .signedInIfPresented) { route in
                try await call(route).acceptInvitation(route.principal)
            },
            signedIn(.DELETE, "/api/invitations/{invitation}") { call, p in
                try await call.revokeInvitation(call.parameter("invitation"), p)
            },
            signedIn(.GET, "/api/audit") { call, p in try await call.readAudit(workspace: nil, p) },
            signedIn(.GET, "/api/streams/{stream...}/events") { call, p in try await call.streamEvents(call.parameter("stream"), p) },
            signedIn(.GET, "/api/stats") { call, p in try await call.stats(p) },
        ]
    }

    private func call(_ route: HTTPRouteRequest) -> APICall {
        APICall(services: services, request: route.request, hub: hub, runs: runs, parameters: route.parameters)
    }

    /// A route for callers with a valid credential (401 otherwise, from `HTTPRouteGuard`).
    private func signedIn(_ method: HTTPMethod, _ pattern: String,
                          _ answer: @escaping @Sendable (APICall, Principal) async throws -> HTTPResponse) -> HTTPRoute {
        let services = self.services, hub = self.hub, runs = self.runs
        return .task(HTTPRoutePattern(pattern), .only([method]), access: .signedIn) { route in
            guard let principal = route.principal else { throw APIError.unauthorized() }
            return try await answer(APICall(services: services, request: route.request, hub: hub, runs: runs, parameters: route.parameters),
                                    principal)
        }
    }
}
