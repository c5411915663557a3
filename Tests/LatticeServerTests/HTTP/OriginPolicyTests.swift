import Testing
@testable import LatticeServer

@Suite("OriginPolicy: the one Origin rule of /ws and the REST API")
struct OriginPolicyTests {
    @Test("same origin: the default port is the scheme's, whichever side names it",
          arguments: [("http://h", "h:80"), ("http://h:80", "h"), ("https://h", "h:443"), ("https://h:443", "h"),
                      ("http://H", "h"), ("http://127.0.0.1:8080", "127.0.0.1:8080"), ("http://[::1]", "[::1]:80"),
                      ("http://[::1]:8080", "[::1]:8080")])
    func sameOrigin(origin: String, host: String) {
        #expect(OriginPolicy().allows(origin, host: host))
    }

    @Test("other origins are refused by default",
          arguments: [("http://evil.example", "h"), ("https://h", "h:80"), ("http://h", "h:443"), ("http://h:8080", "h"),
                      ("null", "h"), ("h", "h"), ("http://h/path", "h"), ("http://[::1]", "[::1]:8080")])
    func otherOrigin(origin: String, host: String) {
        #expect(!OriginPolicy().allows(origin, host: host))
    }

    @Test("without a Host nothing is the same origin")
    func noHost() {
        #expect(!OriginPolicy().allows("http://h", host: nil))
    }

    @Test("an allow-list replaces the same-origin rule, with default ports normalised")
    func allowList() {
        let policy = OriginPolicy(allowedOrigins: ["https://app.example", "http://localhost:3000"])
        #expect(policy.allows("https://app.example", host: "api.example"))
        #expect(policy.allows("https://APP.example:443", host: "api.example"))
        #expect(policy.allows("http://localhost:3000", host: "localhost:8080"))
        #expect(!policy.allows("http://app.example", host: "api.example"))
        #expect(!policy.allows("http://localhost:3001", host: "localhost:8080"))
        // The server's own origin is not allowed unless listed.
        #expect(!policy.allows("http://api.example", host: "api.example"))
    }

    @Test("any origin when same-origin is off and no list is set")
    func anyOrigin() {
        let policy = OriginPolicy(sameOriginOnly: false)
        #expect(policy.allows("http://evil.example", host: "h"))
        #expect(policy.allows("null", host: nil))
        #expect(!OriginPolicy(allowedOrigins: ["https://a.example"], sameOriginOnly: false).allows("https://b.example", host: "h"))
    }
}
