import LatticeAuth
import NIOHTTP1

/// One entry of an `HTTPRouteTable`: the paths, the methods, who may call it and what answers.
struct HTTPRoute: Sendable {
    enum Methods: Sendable {
        case any
        case only([HTTPMethod])

        func contains(_ method: HTTPMethod) -> Bool {
            switch self {
            case .any: true
            case .only(let methods): methods.contains(method)
            }
        }
    }

    enum Handler: Sendable {
        /// Answered on the event loop from the head alone (no I/O); a body is ignored.
        case onLoop(@Sendable (HTTPRequest) -> HTTPResponse)
        /// Answered in a task once the whole body arrived. A thrown `APIError` or store error
        /// becomes its JSON answer.
        case task(@Sendable (HTTPRouteRequest) async throws -> HTTPResponse)
    }

    let pattern: HTTPRoutePattern
    let methods: Methods
    let access: HTTPRouteAccess
    let handler: Handler

    /// A route that needs no credential and no I/O.
    static func onLoop(_ pattern: HTTPRoutePattern, _ methods: Methods,
                       _ answer: @escaping @Sendable (HTTPRequest) -> HTTPResponse) -> HTTPRoute {
        HTTPRoute(pattern: pattern, methods: methods, access: .open, handler: .onLoop(answer))
    }

    static func task(_ pattern: HTTPRoutePattern, _ methods: Methods, access: HTTPRouteAccess,
                     _ answer: @escaping @Sendable (HTTPRouteRequest) async throws -> HTTPResponse) -> HTTPRoute {
        HTTPRoute(pattern: pattern, methods: methods, access: access, handler: .task(answer))
    }
}

/// Which credential a route needs; `HTTPRouteGuard` checks it before the handler runs.
enum HTTPRouteAccess: Sendable, Equatable {
    /// The handler reads no credential from the guard (it may look at one itself: sign-in).
    case open
    /// A valid credential; 401 without one.
    case signedIn
    /// No credential is fine; a presented one must be valid (401 otherwise).
    case signedInIfPresented
}

/// What a task route's handler gets: the request, the path's parameters and the caller.
struct HTTPRouteRequest: Sendable {
    var request: HTTPRequest
    var parameters: [String: String]
    /// Set for `.signedIn` routes, and for `.signedInIfPresented` ones when a credential came.
    var principal: Principal?
}
