import Foundation
import NIOCore
import NIOHTTP1

/// One complete HTTP request as the routes see it: head, collected body and the peer address.
struct HTTPRequest: Sendable {
    var head: HTTPRequestHead
    var body: [UInt8]
    /// The peer's IP address, for the audit log.
    var remoteAddress: String?

    var method: HTTPMethod { head.method }
    /// The path without the query, not decoded.
    var path: String { String(head.uri.prefix { $0 != "?" && $0 != "#" }) }
    var query: QueryString { QueryString(uri: head.uri) }

    init(head: HTTPRequestHead, body: [UInt8] = [], remoteAddress: String? = nil) {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
    }
}

/// One complete HTTP response.
struct HTTPResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer

    init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ status: HTTPResponseStatus = .ok, _ value: JSONValue, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        return HTTPResponse(status: status, headers: headers, body: ByteBuffer(string: value.encoded() + "\n"))
    }

    static func text(_ status: HTTPResponseStatus, _ text: String, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=utf-8")
        return HTTPResponse(status: status, headers: headers, body: ByteBuffer(string: text + "\n"))
    }

    static func html(_ status: HTTPResponseStatus, _ html: String, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Content-Type", value: "text/html; charset=utf-8")
        headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        return HTTPResponse(status: status, headers: headers, body: ByteBuffer(string: html))
    }

    /// 303 See Other to `location` (after a sign-in, the browser GETs it).
    static func redirect(to location: String, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var headers = headers
        headers.replaceOrAdd(name: "Location", value: location)
        headers.replaceOrAdd(name: "Cache-Control", value: "no-store")
        return HTTPResponse(status: .seeOther, headers: headers)
    }

    static func error(_ error: APIError) -> HTTPResponse {
        var headers: HTTPHeaders = [:]
        if let allow = error.allow { headers.add(name: "Allow", value: allow) }
        if error.status == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer realm=\"lattice\"") }
        var fields: [(String, JSONValue)] = [("code", .string(error.code)), ("message", .string(error.message))]
        if let details = error.details { fields.append(("errors", details)) }
        return .json(error.status, .object([("error", .object(fields))]), headers: headers)
    }
}

/// An API refusal: its HTTP status, a stable code and a message for humans
/// (`{"error":{"code":…,"message":…}}`).
struct APIError: Error, Sendable, Equatable {
    var status: HTTPResponseStatus
    var code: String
    var message: String
    /// For 405: the methods the path takes.
    var allow: String?
    /// Every problem, when there are several (an invalid definition's errors, each with its
    /// code, node and path): `error.errors`.
    var details: JSONValue? = nil

    static func unauthorized(_ m: String = "a valid token is required") -> APIError { .init(status: .unauthorized, code: "unauthorized", message: m) }
    static func forbidden(_ m: String) -> APIError { .init(status: .forbidden, code: "forbidden", message: m) }
    static func notFound(_ m: String) -> APIError { .init(status: .notFound, code: "not_found", message: m) }
    static func badRequest(_ m: String) -> APIError { .init(status: .badRequest, code: "bad_request", message: m) }
    static func conflict(_ m: String) -> APIError { .init(status: .conflict, code: "conflict", message: m) }
    static func payloadTooLarge(_ m: String) -> APIError { .init(status: .payloadTooLarge, code: "payload_too_large", message: m) }
    static func unprocessable(_ m: String, details: JSONValue? = nil) -> APIError {
        .init(status: .unprocessableEntity, code: "invalid", message: m, details: details)
    }
    static func internalError(_ m: String) -> APIError { .init(status: .internalServerError, code: "internal", message: m) }
    static func methodNotAllowed(_ method: HTTPMethod, allow: [HTTPMethod]) -> APIError {
        .init(status: .methodNotAllowed, code: "method_not_allowed", message: "method \(method) is not allowed here",
              allow: allow.map(\.rawValue).joined(separator: ", "))
    }
}
