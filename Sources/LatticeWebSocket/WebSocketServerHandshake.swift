public import NIOCore
public import NIOHTTP1

/// Limits and choices a server applies to every WebSocket connection.
public struct WebSocketConfiguration: Sendable {
    /// Largest single frame accepted (1009 beyond it).
    public var maxFrameSize: Int
    /// Largest message accepted after reassembly and inflation (1009 beyond it).
    public var maxMessageSize: Int
    public var deflate: PerMessageDeflateConfiguration
    /// Subprotocols the server speaks, in order of preference.
    public var subprotocols: [String]
    /// Allowed `Origin` values (exact, case-insensitive, e.g. "https://example.com").
    /// Empty means: accept any origin. Requests without `Origin` (non-browser clients) are accepted.
    public var allowedOrigins: [String]
    /// Send a ping after this long without hearing from the peer; fail the
    /// connection when another interval passes with no answer. nil disables.
    public var pingInterval: TimeAmount?
    /// How long to wait for the peer's close frame (or TCP close) after ours.
    public var closeTimeout: TimeAmount
    /// The close frame sent to a peer whose keepalive ping went unanswered, just before TCP is
    /// closed; nil (the default, and the echo server's): TCP is closed without one.
    public var keepaliveTimeoutClose: WebSocketKeepaliveTimeoutClose?

    public init(maxFrameSize: Int = 16 << 20, maxMessageSize: Int = 16 << 20,
                deflate: PerMessageDeflateConfiguration = PerMessageDeflateConfiguration(),
                subprotocols: [String] = [], allowedOrigins: [String] = [],
                pingInterval: TimeAmount? = .seconds(30), closeTimeout: TimeAmount = .seconds(5)) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.deflate = deflate
        self.subprotocols = subprotocols
        self.allowedOrigins = allowedOrigins
        self.pingInterval = pingInterval
        self.closeTimeout = closeTimeout
    }
}

/// What the server agreed to in an accepted handshake.
public struct WebSocketHandshakeAccepted: Sendable {
    public var subprotocol: String?
    public var deflate: PerMessageDeflateParameters?
    /// Headers for the 101 response.
    public var responseHeaders: HTTPHeaders
}

/// Why a handshake was refused: the status and a plain-text explanation.
public struct WebSocketHandshakeRejection: Error, Sendable, Equatable {
    public var status: HTTPResponseStatus
    public var reason: String
    public var headers: HTTPHeaders

    public init(status: HTTPResponseStatus, reason: String, headers: HTTPHeaders = [:]) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }
}

/// Server-side validation of an opening handshake (RFC 6455 §4.2.1) and the
/// negotiation of subprotocol and extensions. Pure: a request head in, a
/// decision out.
public enum WebSocketServerHandshake {
    /// True when the request asks for a WebSocket upgrade at all (`Upgrade: websocket`).
    public static func isUpgradeRequest(_ head: HTTPRequestHead) -> Bool {
        head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
    }

    public static func evaluate(_ head: HTTPRequestHead, configuration: WebSocketConfiguration)
        -> Result<WebSocketHandshakeAccepted, WebSocketHandshakeRejection>
    {
        let headers = head.headers
        guard head.method == .GET else {
            return .failure(.init(status: .methodNotAllowed, reason: "WebSocket upgrades must use GET",
                                  headers: ["Allow": "GET"]))
        }
        guard head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1) else {
            return .failure(.init(status: .badRequest, reason: "WebSocket upgrades need HTTP/1.1"))
        }
        guard headers["host"].count == 1 else {
            return .failure(.init(status: .badRequest, reason: "missing or repeated Host header"))
        }
        guard isUpgradeRequest(head) else {
            return .failure(.init(status: .badRequest, reason: "missing 'Upgrade: websocket'"))
        }
        guard headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }) else {
            return .failure(.init(status: .badRequest, reason: "missing 'Connection: Upgrade'"))
        }
        let versions = headers[canonicalForm: "sec-websocket-version"]
        guard versions.count == 1, versions[0] == "13" else {
            return .failure(.init(status: .upgradeRequired, reason: "unsupported WebSocket version; this server speaks 13",
                                  headers: ["Sec-WebSocket-Version": "13"]))
        }
        let keys = headers["sec-websocket-key"]
        guard keys.count == 1, WebSocketAcceptKey.isValidKey(keys[0]) else {
            return .failure(.init(status: .badRequest, reason: "missing or invalid Sec-WebSocket-Key"))
        }
        if !configuration.allowedOrigins.isEmpty, let origin = headers.first(name: "origin") {
            guard configuration.allowedOrigins.contains(where: { $0.caseInsensitiveCompare(origin) }) else {
                return .failure(.init(status: .forbidden, reason: "origin \(origin) is not allowed"))
            }
        }

        var response: HTTPHeaders = [
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Accept": WebSocketAcceptKey.accept(forKey: keys[0]),
        ]
        let offered = headers[canonicalForm: "sec-websocket-protocol"].map(String.init)
        let subprotocol = configuration.subprotocols.first { offered.contains($0) }
        if let subprotocol { response.add(name: "Sec-WebSocket-Protocol", value: subprotocol) }

        let offers = WebSocketExtensionOffer.parse(headers["sec-websocket-extensions"])
        let deflate = PerMessageDeflateParameters.negotiate(offers: offers, configuration: configuration.deflate)
        if let deflate {
            var value = deflate.headerValue
            // RFC 7692 §7.1.2.1: a server accepts an offer's server_max_window_bits by stating it in
            // the response, so an offered 15 is stated too (headerValue leaves out the default 15).
            // `negotiate` accepts the first acceptable offer; find it to know what it contained.
            let accepted = offers.first {
                PerMessageDeflateParameters.negotiate(offers: [$0], configuration: configuration.deflate) != nil
            }
            if deflate.serverMaxWindowBits == 15,
               accepted?.parameters.contains(where: { $0.name == "server_max_window_bits" }) == true {
                value += "; server_max_window_bits=15"
            }
            response.add(name: "Sec-WebSocket-Extensions", value: value)
        }
        return .success(WebSocketHandshakeAccepted(subprotocol: subprotocol, deflate: deflate, responseHeaders: response))
    }
}

extension String {
    fileprivate func caseInsensitiveCompare(_ other: String) -> Bool {
        self.lowercased() == other.lowercased()
    }
}
