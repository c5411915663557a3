import NIOHTTP1

/// Every route one server answers, and what `HTTPRequestHandler` asks of them. The first route
/// whose pattern matches a path owns it: the routes written with that same pattern share out
/// its methods (405 lists them in `Allow`), so a literal route must come before a `{parameter}`
/// route that would also match it. See docs/api.md.
struct HTTPRouteTable: Sendable {
    let routes: [HTTPRoute]
    let routeGuard: HTTPRouteGuard
    /// Largest request body accepted (413 above it).
    let maxBodyBytes: Int
    /// The answer for a path no route matches.
    let notFound: @Sendable (String) -> HTTPResponse

    init(routes: [HTTPRoute], guard routeGuard: HTTPRouteGuard, maxBodyBytes: Int = 1 << 20,
         notFound: @escaping @Sendable (String) -> HTTPResponse = { .error(.notFound("not found: \($0)")) }) {
        self.routes = routes
        self.routeGuard = routeGuard
        self.maxBodyBytes = maxBodyBytes
        self.notFound = notFound
    }

    enum Resolution {
        case route(HTTPRoute, parameters: [String: String])
        case methodNotAllowed(allow: [HTTPMethod])
        case notFound
    }

    func resolve(_ method: HTTPMethod, path: String) -> Resolution {
        let segments = HTTPRoutePattern.segments(of: path)
        for (index, route) in routes.enumerated() {
            guard let parameters = route.pattern.match(path: path, segments: segments) else { continue }
            let siblings = routes[index...].filter { $0.pattern == route.pattern }
            if let chosen = siblings.first(where: { $0.methods.contains(method) }) {
                return .route(chosen, parameters: parameters)
            }
            return .methodNotAllowed(allow: siblings.flatMap { sibling -> [HTTPMethod] in
                if case .only(let methods) = sibling.methods { return methods }
                return []
            })
        }
        return .notFound
    }

    /// Where a request goes, decided from its head (the body may still be arriving).
    enum Decision: Sendable {
        case now(HTTPResponse)
        case task(@Sendable (HTTPRequest) async -> HTTPResponse)
    }

    func decide(_ head: HTTPRequestHead, remoteAddress: String?) -> Decision {
        let path = HTTPRequest(head: head).path
        switch resolve(head.method, path: path) {
        case .notFound:
            return .now(notFound(path))
        case .methodNotAllowed(let allow):
            return .now(.error(.methodNotAllowed(head.method, allow: allow)))
        case .route(let route, let parameters):
            if let refusal = routeGuard.originRefusal(head, path: path, remoteAddress: remoteAddress) { return .now(refusal) }
            switch route.handler {
            case .onLoop(let answer):
                return .now(answer(HTTPRequest(head: head, remoteAddress: remoteAddress)))
            case .task(let answer):
                let routeGuard = self.routeGuard, access = route.access
                return .task { request in await routeGuard.respond(access: access, parameters: parameters, request: request, answer) }
            }
        }
    }
}
