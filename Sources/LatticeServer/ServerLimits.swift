public import NIOCore
public import LatticeWebSocket

/// Where a server listens and the limits it applies.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    public var threads: Int
    public var webSocket: WebSocketConfiguration
    /// How long a connection may take to send its HTTP request.
    public var requestTimeout: TimeAmount
    /// How long shutdown waits for WebSocket peers to answer our 1001 close.
    public var shutdownTimeout: TimeAmount
    /// The stream hub behind `/ws` (`lattice serve` only).
    public var hub = HubSettings()
    /// Most connections one IP address may hold open (0: no limit); more are closed at accept.
    public var maxConnectionsPerAddress = 0
    /// Per-connection request limits (`lattice serve` only).
    public var rateLimits = RateLimits()
    /// Browser origins allowed (`--allowed-origins`; exact `scheme://host[:port]`): checked at
    /// WebSocket upgrades and on cookie-authenticated REST changes (`OriginPolicy`). Requests
    /// without `Origin` (non-browser clients) are never origin-checked.
    public var allowedOrigins: [String] = []
    /// With no `allowedOrigins` (`lattice serve` only): true accepts only the server's own
    /// origin (the request's `Host`); false accepts any.
    public var sameOriginOnly = true
    /// How often `lattice serve` reads the identity changes the store recorded (made by
    /// `lattice admin` or another server) and ends sessions of expired tokens.
    public var identityPollInterval: Duration = .seconds(1)
    /// How often `lattice serve` publishes the workspace activity the store recorded (an empty
    /// read of the outbox costs microseconds; activity appears on `workspace/{ws}` within this).
    public var activityPollInterval: Duration = .milliseconds(100)

    public init(host: String = "127.0.0.1", port: Int = 8080, threads: Int = System.coreCount,
                webSocket: WebSocketConfiguration = WebSocketConfiguration(),
                requestTimeout: TimeAmount = .seconds(30), shutdownTimeout: TimeAmount = .seconds(3)) {
        self.host = host
        self.port = port
        self.threads = threads
        self.webSocket = webSocket
        self.requestTimeout = requestTimeout
        self.shutdownTimeout = shutdownTimeout
    }
}
