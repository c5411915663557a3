import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP/1.1 answer as the tests see it.
struct HTTPAnswer: CustomStringConvertible {
    var status: Int
    /// Header names lowercased; repeated headers joined with ", ".
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    /// `error.code` of an error answer.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    var description: String { "HTTP \(status) \(text)" }
}

/// A minimal blocking HTTP/1.1 client over a POSIX socket (one request per connection), so the
/// API tests need no HTTP library and see exactly what the server sends.
enum HTTPTestClient {
    static func request(port: Int, _ method: String, _ path: String, token: String? = nil, cookie: String? = nil,
                        json: Any? = nil, body: [UInt8]? = nil, headers: [String: String] = [:]) throws -> HTTPAnswer {
        var payload = body ?? []
        if let json { payload = Array(try JSONSerialization.data(withJSONObject: json)) }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if let cookie { head += "Cookie: \(cookie)\r\n" }
        if json != nil { head += "Content-Type: application/json\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !payload.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(payload.count)\r\n" }
        head += "\r\n"
        let raw = try exchange(port: port, Array(head.utf8) + payload)
        return try parse(raw)
    }

    /// Sends `bytes` and reads until the server closes (or 10 s pass).
    static func exchange(port: Int, _ bytes: [UInt8]) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestServerError(description: "socket failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestServerError(description: "connect to port \(port) failed") }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may close early (413): read what it said
            sent += n
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return out
    }

    static func parse(_ raw: [UInt8]) throws -> HTTPAnswer {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, raw.count - 3)).first(where: { Array(raw[$0..<$0 + 4]) == separator }) else {
            throw TestServerError(description: "no HTTP head in \(String(decoding: raw, as: UTF8.self))")
        }
        let lines = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw TestServerError(description: "bad status line \(lines[0])")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        var body = Array(raw[(end + 4)...])
        if let length = headers["content-length"].flatMap(Int.init), body.count > length { body = Array(body.prefix(length)) }
        return HTTPAnswer(status: status, headers: headers, body: body)
    }
}

/// Helpers for the API suites: requests to the suite's server, identities made with
/// `lattice admin` on its data directory.
struct APITestSupport {
    static let serveArguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--ping-interval", "0"]

    let server: TestServerProcess

    init() throws {
        server = try TestServerProcess.require()
    }

    var admin: String {
        get throws { try #require(server.adminToken, "the first start printed no admin token: \(server.startupOutput)") }
    }

    func call(_ method: String, _ path: String, token: String? = nil, cookie: String? = nil, json: Any? = nil,
              body: [UInt8]? = nil, headers: [String: String] = [:]) throws -> HTTPAnswer {
        try HTTPTestClient.request(port: server.port, method, path, token: token, cookie: cookie, json: json, body: body, headers: headers)
    }

    /// `lattice admin ARGS --data-dir DIR`: (status, stdout, stderr).
    func admin(_ args: [String]) async throws -> (Int32, String, String) {
        let dataDir = try #require(server.dataDir)
        return try await TestServerProcess.runToCompletion(try TestServerProcess.locateBinary(), ["admin"] + args + ["--data-dir", dataDir])
    }

    /// A new user with `role` in `workspace` and its token: (token, userID).
    func member(_ role: String, in workspace: String = "demo", name: String? = nil, extra: [String] = []) async throws -> (token: String, userID: String) {
        var args = ["token", "create", "--workspace", workspace, "--role", role, "--json"] + extra
        if let name { args += ["--name", name] }
        let (status, out, err) = try await admin(args)
        guard status == 0, let object = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: String],
              let token = object["token"], let user = object["userID"] else {
            throw TestServerError(description: "lattice admin \(args.joined(separator: " ")) failed (\(status)): \(out) \(err)")
        }
        return (token, user)
    }

    /// A new workspace owned by a new user: (workspace id, owner token, owner id).
    func workspace(_ prefix: String) async throws -> (id: String, token: String, userID: String) {
        let id = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
        let (status, out, err) = try await admin(["user", "create", "owner-of-\(id)"])
        guard status == 0 else { throw TestServerError(description: "user create failed: \(out) \(err)") }
        let owner = out.trimmingCharacters(in: .whitespacesAndNewlines)
        let (s2, o2, e2) = try await admin(["workspace", "create", id, "--owner", owner])
        guard s2 == 0 else { throw TestServerError(description: "workspace create failed: \(o2) \(e2)") }
        let made = try await member("owner", in: id, extra: ["--user", owner])
        return (id, made.token, owner)
    }
}
