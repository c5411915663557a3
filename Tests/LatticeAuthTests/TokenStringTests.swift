import Foundation
import LatticeAuth
import Testing

@Suite("tokens: strings, hashes, ids")
struct TokenStringTests {
    @Test("a generated token parses back to the same id and secret, and only its own secret matches")
    func roundTrip() throws {
        let id = Crypto.makeID(prefix: "t_")
        let token = TokenString.generate(id: id)
        let parsed = try #require(TokenString(parsing: token.description))
        #expect(parsed == token)
        #expect(parsed.id == id)
        #expect(parsed.matches(token.secretHash))
        let other = TokenString.generate(id: id)
        #expect(!other.matches(token.secretHash))
        #expect(token.secretHash.count == 32)
    }

    @Test("malformed credentials are refused", arguments: [
        "", "lat_", "lat_t_0123", "lat_t_0123456789abcdef", "lat_t_0123456789abcdef_",
        "lat_t_0123456789ABCDEF_secret", "lat_t_0123456789abcdefXsecret", "xyz_t_0123456789abcdef_secret",
        "lat_t_0123456789abcdef_sec ret", "lat_t_0123456789abcdef_sec/ret", "lat_tt0123456789abcdef_secret",
    ])
    func malformed(_ text: String) {
        #expect(TokenString(parsing: text) == nil)
    }

    @Test("SHA-256 matches the FIPS 180-2 vector")
    func sha256Vector() {
        let digest = Crypto.sha256("abc".utf8).map { String(format: "%02x", $0) }.joined()
        #expect(digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("ids are a prefix and 16 hex digits, and differ")
    func ids() {
        let a = Crypto.makeID(prefix: "u_"), b = Crypto.makeID(prefix: "u_")
        #expect(a.count == 18 && a.hasPrefix("u_") && a != b)
        #expect(a.dropFirst(2).allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }

    @Test("constant-time comparison")
    func compare() {
        #expect(Crypto.constantTimeEqual(Data([1, 2, 3]), Data([1, 2, 3])))
        #expect(!Crypto.constantTimeEqual(Data([1, 2, 3]), Data([1, 2, 4])))
        #expect(!Crypto.constantTimeEqual(Data([1, 2]), Data([1, 2, 3])))
    }
}
