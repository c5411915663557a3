import NIOCore
import NIOHTTP1
import Testing

@testable import LatticeWebSocket

@Suite struct HandshakeTests {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    func request(method: HTTPMethod = .GET, version: HTTPVersion = .http1_1,
                 _ headers: [(String, String)]? = nil, adding extra: [(String, String)] = [],
                 removing: Set<String> = []) -> HTTPRequestHead {
        var list = headers ?? [
            ("Host", "server.example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", Self.key), ("Sec-WebSocket-Version", "13"),
        ]
        list.removeAll { removing.contains($0.0.lowercased()) }
        list += extra
        return HTTPRequestHead(version: version, method: method, uri: "/chat", headers: HTTPHeaders(list))
    }

    func rejection(_ head: HTTPRequestHead, _ configuration: WebSocketConfiguration = .init()) -> WebSocketHandshakeRejection? {
        if case .failure(let r) = WebSocketServerHandshake.evaluate(head, configuration: configuration) { return r }
        return nil
    }

    func accepted(_ head: HTTPRequestHead, _ configuration: WebSocketConfiguration = .init()) -> WebSocketHandshakeAccepted? {
        if case .success(let a) = WebSocketServerHandshake.evaluate(head, configuration: configuration) { return a }
        return nil
    }

    @Test func acceptsAValidRequest() throws {
        let a = try #require(accepted(request()))
        #expect(a.responseHeaders["Sec-WebSocket-Accept"] == ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="])
        #expect(a.responseHeaders["Upgrade"] == ["websocket"])
        #expect(a.responseHeaders["Connection"] == ["Upgrade"])
        #expect(a.subprotocol == nil && a.deflate == nil)
        #expect(!a.responseHeaders.contains(name: "Sec-WebSocket-Protocol"))
        #expect(!a.responseHeaders.contains(name: "Sec-WebSocket-Extensions"))
    }

    @Test func headerNamesAndTokensAreCaseInsensitive() throws {
        let head = request([
            ("host", "h"), ("UPGRADE", "WebSocket"), ("connection", "keep-alive, UPGRADE"),
            ("sec-websocket-key", Self.key), ("SEC-WEBSOCKET-VERSION", "13"),
        ])
        #expect(accepted(head) != nil)
    }

    @Test(arguments: [HTTPMethod.POST, .PUT, .HEAD, .OPTIONS])
    func nonGetIs405(_ method: HTTPMethod) throws {
        let r = try #require(rejection(request(method: method)))
        #expect(r.status == .methodNotAllowed)
        #expect(r.headers["Allow"] == ["GET"])
    }

    @Test func http10Is400() throws {
        #expect(rejection(request(version: .http1_0))?.status == .badRequest)
        #expect(rejection(request(version: .http0_9))?.status == .badRequest)
    }

    @Test(arguments: [
        ("missing Host", [], ["host"]),
        ("two Host headers", [("Host", "other")], []),
        ("missing Upgrade", [], ["upgrade"]),
        ("wrong Upgrade", [("Upgrade", "h2c")], ["upgrade"]),
        ("missing Connection", [], ["connection"]),
        ("Connection without upgrade", [("Connection", "keep-alive")], ["connection"]),
        ("missing key", [], ["sec-websocket-key"]),
        ("key of 15 bytes", [("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA")], ["sec-websocket-key"]),
        ("key not base64", [("Sec-WebSocket-Key", "!!!!!!!!!!!!!!!!!!!!!!==")], ["sec-websocket-key"]),
        ("key of 17 bytes", [("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAA=")], ["sec-websocket-key"]),
        ("two keys", [("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==")], []),
    ] as [(String, [(String, String)], Set<String>)])
    func badRequestsAre400(_ name: String, _ extra: [(String, String)], _ removed: Set<String>) throws {
        let r = try #require(rejection(request(adding: extra, removing: removed)), "\(name)")
        #expect(r.status == .badRequest, "\(name)")
    }

    @Test(arguments: [nil, "8", "12", "14", "13, 8", "", "13x"] as [String?])
    func unsupportedVersionIs426WithTheSupportedVersion(_ version: String?) throws {
        let extra = version.map { [("Sec-WebSocket-Version", $0)] } ?? []
        let r = try #require(rejection(request(adding: extra, removing: ["sec-websocket-version"])), "\(String(describing: version))")
        #expect(r.status == .upgradeRequired)
        #expect(r.headers["Sec-WebSocket-Version"] == ["13"])
    }

    @Test func twoVersionHeadersAre426() {
        #expect(rejection(request(adding: [("Sec-WebSocket-Version", "13")]))?.status == .upgradeRequired)
    }

    @Test func originAllowList() throws {
        let config = WebSocketConfiguration(allowedOrigins: ["https://app.example.com", "http://localhost:3000"])
        let r = try #require(rejection(request(adding: [("Origin", "https://evil.example.com")]), config))
        #expect(r.status == .forbidden)
        #expect(accepted(request(adding: [("Origin", "HTTPS://App.Example.com")]), config) != nil)
        #expect(accepted(request(adding: [("Origin", "http://localhost:3000")]), config) != nil)
        // Non-browser clients send no Origin.
        #expect(accepted(request(), config) != nil)
        // An empty allow-list accepts any origin.
        #expect(accepted(request(adding: [("Origin", "https://evil.example.com")])) != nil)
    }

    @Test func subprotocolIsTheServersFirstChoiceAmongOffered() throws {
        let config = WebSocketConfiguration(subprotocols: ["lattice.v1", "lattice.v0"])
        let a = try #require(accepted(request(adding: [("Sec-WebSocket-Protocol", "chat, lattice.v0, lattice.v1")]), config))
        #expect(a.subprotocol == "lattice.v1")
        #expect(a.responseHeaders["Sec-WebSocket-Protocol"] == ["lattice.v1"])
        let none = try #require(accepted(request(adding: [("Sec-WebSocket-Protocol", "chat")]), config))
        #expect(none.subprotocol == nil)
        #expect(!none.responseHeaders.contains(name: "Sec-WebSocket-Protocol"))
    }

    @Test func deflateIsNegotiated() throws {
        let a = try #require(accepted(request(adding: [
            ("Sec-WebSocket-Extensions", "foo, permessage-deflate; client_max_window_bits"),
            ("Sec-WebSocket-Extensions", "permessage-deflate"),
        ])))
        #expect(a.deflate == PerMessageDeflateParameters())
        #expect(a.responseHeaders["Sec-WebSocket-Extensions"] == ["permessage-deflate"])
        let off = try #require(accepted(request(adding: [("Sec-WebSocket-Extensions", "permessage-deflate")]),
                                        WebSocketConfiguration(deflate: .disabled)))
        #expect(off.deflate == nil && !off.responseHeaders.contains(name: "Sec-WebSocket-Extensions"))
    }

    @Test func refusalOrder() {
        // A POST with nothing else is refused for its method first.
        #expect(rejection(request(method: .POST, [("Host", "h")]))?.status == .methodNotAllowed)
        // A bad version with a missing key: the version is reported (426 tells the client what to speak).
        #expect(rejection(request(adding: [("Sec-WebSocket-Version", "8")], removing: ["sec-websocket-version", "sec-websocket-key"]))?
            .status == .upgradeRequired)
    }

    @Test func isUpgradeRequest() {
        #expect(WebSocketServerHandshake.isUpgradeRequest(request()))
        #expect(!WebSocketServerHandshake.isUpgradeRequest(request(removing: ["upgrade"])))
    }
}

@Suite struct AcceptKeyTests {
    @Test func rfc6455Example() {
        #expect(WebSocketAcceptKey.accept(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format2: $0) }.joined() }

    @Test(arguments: [
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "a49b2446a02c645bf419f995b67091253a04a259"),
    ])
    func sha1FIPSVectors(_ message: String, _ digest: String) {
        #expect(Self.hex(SHA1.hash(Array(message.utf8))) == digest)
    }

    @Test func sha1MillionAs() {
        #expect(Self.hex(SHA1.hash([UInt8](repeating: 0x61, count: 1_000_000))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test func sha1AtPaddingBoundaries() {
        // 55, 56 and 64 bytes: the length fits, does not fit, and a full block.
        #expect(Self.hex(SHA1.hash([UInt8](repeating: 0x61, count: 55))) == "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        #expect(Self.hex(SHA1.hash([UInt8](repeating: 0x61, count: 56))) == "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        #expect(Self.hex(SHA1.hash([UInt8](repeating: 0x61, count: 64))) == "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }

    @Test func keyValidation() {
        #expect(WebSocketAcceptKey.isValidKey("dGhlIHNhbXBsZSBub25jZQ=="))
        #expect(!WebSocketAcceptKey.isValidKey("dGhlIHNhbXBsZSBub25jZQ"))
        #expect(!WebSocketAcceptKey.isValidKey(""))
        for _ in 0..<20 {
            let key = WebSocketAcceptKey.makeKey()
            #expect(WebSocketAcceptKey.isValidKey(key))
        }
        #expect(WebSocketAcceptKey.makeKey() != WebSocketAcceptKey.makeKey())
    }
}

extension String {
    fileprivate init(format2 byte: UInt8) {
        let s = String(byte, radix: 16)
        self = s.count == 1 ? "0" + s : s
    }
}
