import Foundation
import LatticeAuth
import NIOHTTP1

/// What runs around every route's handler: the Origin rule, authentication as the route's
/// access asks, the audit of their refusals, and the mapping of thrown errors to answers.
struct HTTPRouteGuard: Sendable {
    let origins: OriginPolicy
    /// Where credentials are checked and refusals audited; nil on a server without identities
    /// (`lattice echo`), whose routes are all `.open`.
    let access: AccessControl?

    /// The Origin rule for what a browser may send with its cookie on its own: a `POST`, `PUT`,
    /// `DELETE` or `PATCH` with an `Origin` and no `Authorization` header (bearer tokens are
    /// never sent by a browser unasked). nil: the request may go on.
    func originRefusal(_ head: HTTPRequestHead, path: String, remoteAddress: String?) -> HTTPResponse? {
        let unsafe: [HTTPMethod] = [.POST, .PUT, .DELETE, .PATCH]
        guard unsafe.contains(head.method), head.headers.first(name: "Authorization") == nil,
              let origin = head.headers.first(name: "Origin"),
              !origins.allows(origin, host: head.headers.first(name: "Host")) else { return nil }
        let reason = OriginPolicy.refusal(origin)
        access?.audit("access.refused", actor: nil, target: path, detail: "\(reason): \(head.method) \(path)", address: remoteAddress)
        return .error(.forbidden("cross-origin request refused: \(reason)"))
    }

    /// Authenticates as the route's `access` asks, then runs its handler. Never throws: every
    /// failure is an answer.
    func respond(access: HTTPRouteAccess, parameters: [String: String], request: HTTPRequest,
                 _ answer: @Sendable (HTTPRouteRequest) async throws -> HTTPResponse) async -> HTTPResponse {
        do {
            let principal = try await principal(for: access, request)
            return try await answer(HTTPRouteRequest(request: request, parameters: parameters, principal: principal))
        } catch let error as APIError {
            return .error(error)
        } catch let error as IdentityStoreError {
            return .error(APICall.apiError(error))
        } catch {
            return .error(.internalError("\(error)"))
        }
    }

    private func principal(for requirement: HTTPRouteAccess, _ request: HTTPRequest) async throws -> Principal? {
        switch requirement {
        case .open:
            return nil
        case .signedInIfPresented where Credential.find(in: request.head) == nil:
            return nil
        case .signedIn, .signedInIfPresented:
            return try await authenticate(request)
        }
    }

    /// The caller, or 401. A presented credential that is refused is audited
    /// (`signin.failed`, with the reason and the peer address); a request without any
    /// credential is not (the web app asks `/api/me` before anyone signed in).
    private func authenticate(_ request: HTTPRequest) async throws -> Principal {
        guard let access else { throw APIError.internalError("this server has no identities") }
        let credential = Credential.find(in: request.head)
        switch await access.authenticate(credential, now: Date()) {
        case .success(let principal):
            return principal
        case .failure(.missing):
            throw APIError.unauthorized()
        case .failure(.storeFailed):
            throw APIError.internalError("the identity store is unavailable")
        case .failure(let refusal):
            access.audit("signin.failed", actor: nil, target: credential.flatMap { TokenString(parsing: $0)?.id },
                         detail: "\(refusal.rawValue): \(request.method) \(request.path)", address: request.remoteAddress)
            throw APIError.unauthorized()
        }
    }
}
