/// A `ws://host:port/path` address, parsed.
public struct WebSocketURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Path and query, starting with "/".
    public var path: String

    public init(host: String, port: Int, path: String = "/") {
        self.host = host
        self.port = port
        self.path = path.hasPrefix("/") ? path : "/" + path
    }

    /// Parses `ws://host[:port][/path]`. `wss://` needs TLS, which this build does not include.
    public init?(_ string: String) {
        guard string.hasPrefix("ws://") else { return nil }
        let rest = string.dropFirst(5)
        let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<slash]
        var path = String(rest[slash...])
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        var port = 80
        if authority.hasPrefix("[") {
            // IPv6 literal: [::1]:port
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
            authority = authority[authority.index(after: authority.startIndex)..<close]
        } else if let colon = authority.lastIndex(of: ":") {
            guard let p = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = p
            authority = authority[..<colon]
        }
        guard !authority.isEmpty, (1...65535).contains(port) else { return nil }
        self.init(host: String(authority), port: port, path: path)
    }

    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "ws://\(h):\(port)\(path)"
    }
}
