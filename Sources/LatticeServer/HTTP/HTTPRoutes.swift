import Foundation
import LatticeAuth
import NIOCore
import NIOHTTP1

/// Everything `HTTPRequestHandler` answers for `lattice serve`: health and readiness, the web
/// app, `/ws` without an upgrade (426), the REST API under `/api/`, and browser sign-in
/// (`/signin`, `/signout`). See docs/api.md.
public struct HTTPRoutes: Sendable {
    public var files: StaticFiles
    public var webSocketPath: String
    public var services: ServerServices
    /// Largest request body accepted (413 above it).
    public var maxBodyBytes: Int
    /// The stream hub behind `/ws` (channel class changes, stats); nil without one.
    public var hub: StreamHub?

    public init(files: StaticFiles, webSocketPath: String, services: ServerServices, maxBodyBytes: Int = 1 << 20,
                hub: StreamHub? = nil) {
        self.files = files
        self.webSocketPath = webSocketPath
        self.services = services
        self.maxBodyBytes = maxBodyBytes
        self.hub = hub
    }

    /// Where a request goes. Answers that need no I/O are made on the event loop right away;
    /// the others run in a task.
    enum Decision: Sendable {
        case now(HTTPResponse)
        case async
    }

    /// Decides from the head alone (the body may still be arriving).
    func decide(_ head: HTTPRequestHead) -> Decision {
        let path = String(head.uri.prefix { $0 != "?" && $0 != "#" })
        let getOrHead: [HTTPMethod] = [.GET, .HEAD]
        func only(_ methods: [HTTPMethod], _ answer: @autoclosure () -> Decision) -> Decision {
            methods.contains(head.method) ? answer() : .now(.error(.methodNotAllowed(head.method, allow: methods)))
        }
        switch path {
        case "/healthz":
            return only(getOrHead, .now(.json(.ok, .object([("status", .string("ok"))]))))
        case "/readyz":
            return only(getOrHead, .async)
        case "/signin":
            return only([.GET], .async)
        case "/signout":
            return only([.POST], .async)
        case webSocketPath:
            return only([.GET], .now(.text(.upgradeRequired, "this endpoint speaks WebSocket; send an upgrade request",
                                            headers: ["Upgrade": "websocket", "Sec-WebSocket-Version": "13"])))
        default:
            break
        }
        if path == "/api" || path.hasPrefix("/api/") {
            guard let endpoint = APIEndpoint.match(path: path) else {
                return .now(.error(.notFound("no API endpoint at \(path)")))
            }
            return only(endpoint.methods, .async)
        }
        if let file = files.file(for: path) {
            return only(getOrHead, .now(HTTPResponse(status: .ok, headers: ["Content-Type": file.contentType, "Cache-Control": "no-cache"],
                                                      body: file.body)))
        }
        return .now(.error(.notFound("not found: \(path)")))
    }

    /// Answers a request `decide` sent to `.async`. Never throws: every failure is a response.
    func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch request.path {
        case "/readyz":
            do {
                _ = try await services.access.store.userCount()
                return .json(.ok, .object([("status", .string("ready"))]))
            } catch {
                return .json(.serviceUnavailable, .object([("status", .string("unavailable")), ("error", .string("\(error)"))]))
            }
        case "/signin":
            return await SignIn(services: services, request: request).signIn()
        case "/signout":
            return await SignIn(services: services, request: request).signOut()
        default:
            guard let endpoint = APIEndpoint.match(path: request.path) else { return .error(.notFound("no API endpoint at \(request.path)")) }
            return await APICall(services: services, request: request, hub: hub).respond(endpoint)
        }
    }
}
