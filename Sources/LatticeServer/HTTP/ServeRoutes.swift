import LatticeAuth
import NIOHTTP1

extension HTTPRouteTable {
    /// Everything `lattice serve` answers besides the WebSocket upgrade: health and readiness,
    /// browser sign-in, `/ws` without an upgrade (426), the REST API under `/api/` and the web
    /// app's files (docs/api.md).
    static func serve(files: StaticFiles, webSocketPath: String, services: ServerServices, hub: StreamHub?,
                      runs: RunService? = nil, origins: OriginPolicy) -> HTTPRouteTable {
        let getOrHead = HTTPRoute.Methods.only([.GET, .HEAD])
        let routes: [HTTPRoute] = [
            .onLoop(HTTPRoutePattern("/healthz"), getOrHead) { _ in .json(.ok, .object([("status", .string("ok"))])) },
            .task(HTTPRoutePattern("/readyz"), getOrHead, access: .open) { _ in
                do {
                    _ = try await services.access.store.userCount()
                    return .json(.ok, .object([("status", .string("ready"))]))
                } catch {
                    return .json(.serviceUnavailable, .object([("status", .string("unavailable")), ("error", .string("\(error)"))]))
                }
            },
            .task(HTTPRoutePattern("/signin"), .only([.GET]), access: .open) { route in
                await SignIn(services: services, request: route.request).signIn()
            },
            .task(HTTPRoutePattern("/signout"), .only([.POST]), access: .open) { route in
                await SignIn(services: services, request: route.request).signOut()
            },
            .onLoop(HTTPRoutePattern(webSocketPath), .only([.GET])) { _ in
                .text(.upgradeRequired, "this endpoint speaks WebSocket; send an upgrade request",
                      headers: ["Upgrade": "websocket", "Sec-WebSocket-Version": "13"])
            },
        ] + APIRoutes(services: services, hub: hub, runs: runs).routes + [
            .onLoop(.staticFile(in: files), getOrHead) { request in
                guard let file = files.file(for: request.path) else { return .error(.notFound("not found: \(request.path)")) }
                return HTTPResponse(status: .ok, headers: ["Content-Type": file.contentType, "Cache-Control": "no-cache"], body: file.body)
            },
        ]
        return HTTPRouteTable(routes: routes, guard: HTTPRouteGuard(origins: origins, access: services.access)) { path in
            path == "/api" || path.hasPrefix("/api/") ? .error(.notFound("no API endpoint at \(path)")) : .error(.notFound("not found: \(path)"))
        }
    }
}
