import Foundation
import NIOHTTP1

/// Where a request carries its credential, in the order they are looked at: the
/// `Authorization: Bearer` header (CLIs, bots), the `lattice_session` cookie (browsers after
/// sign-in), then the `token` query parameter (browsers that cannot set headers on a WebSocket).
enum Credential {
    static let cookieName = "lattice_session"

    static func find(in head: HTTPRequestHead) -> String? {
        if let header = head.headers.first(name: "Authorization") {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        for header in head.headers["Cookie"] {
            for pair in header.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == cookieName {
                    return String(kv[1]).trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return QueryString(uri: head.uri)["token"]
    }
}

/// The query of a request URI, percent-decoded (`+` is a space, as forms send it).
struct QueryString {
    private(set) var items: [(String, String)] = []

    init(uri: String) {
        guard let mark = uri.firstIndex(of: "?") else { return }
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(kv[0])
            let value = kv.count > 1 ? Self.decode(kv[1]) : ""
            items.append((name, value))
        }
    }

    subscript(name: String) -> String? { items.first { $0.0 == name }?.1 }

    private static func decode(_ part: Substring) -> String {
        let spaced = part.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
