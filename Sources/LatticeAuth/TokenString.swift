public import Foundation

/// A secret credential as users hold it: `lat_{id}_{secret}` — a token (`t_…`) or an
/// invitation (`i_…`). The id half finds the record; only the SHA-256 of the secret half is
/// stored, and it is compared in constant time.
public struct TokenString: Sendable, Hashable, CustomStringConvertible {
    public static let prefix = "lat_"
    /// 32 random bytes: 43 base64url characters.
    static let secretBytes = 32

    public let id: String
    public let secret: String

    /// A new credential for record `id` with a fresh random secret.
    public static func generate(id: String) -> TokenString {
        TokenString(id: id, secret: Crypto.base64URL(Crypto.randomBytes(secretBytes)))
    }

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Parses `lat_{id}_{secret}`; nil for anything else (no detail: a malformed credential is
    /// refused exactly like a wrong one).
    public init?(parsing string: String) {
        guard string.hasPrefix(Self.prefix), string.utf8.count <= 128 else { return nil }
        let rest = string.dropFirst(Self.prefix.count)
        // The id is `x_` + 16 hex digits, so the separator is the third underscore-free run's end.
        guard rest.count > 19, rest[rest.index(rest.startIndex, offsetBy: 1)] == "_" else { return nil }
        let idEnd = rest.index(rest.startIndex, offsetBy: 18)
        guard rest[idEnd] == "_" else { return nil }
        let id = String(rest[..<idEnd])
        let secret = String(rest[rest.index(after: idEnd)...])
        guard id.utf8.dropFirst(2).allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
              !secret.isEmpty,
              secret.utf8.allSatisfy({ Self.isBase64URL($0) }) else { return nil }
        self.init(id: id, secret: secret)
    }

    /// What the store keeps.
    public var secretHash: Data { Crypto.sha256(secret.utf8) }

    /// Whether this credential's secret matches a stored hash.
    public func matches(_ storedHash: Data) -> Bool {
        Crypto.constantTimeEqual(secretHash, storedHash)
    }

    public var description: String { Self.prefix + id + "_" + secret }

    private static func isBase64URL(_ b: UInt8) -> Bool {
        (65...90).contains(b) || (97...122).contains(b) || (48...57).contains(b) || b == 45 || b == 95
    }
}
