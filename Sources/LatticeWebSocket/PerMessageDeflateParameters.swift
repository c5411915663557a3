/// The permessage-deflate parameters in force on one connection (RFC 7692 §7.1).
public struct PerMessageDeflateParameters: Equatable, Sendable {
    /// The server resets its compressor after every message.
    public var serverNoContextTakeover: Bool
    /// The client resets its compressor after every message.
    public var clientNoContextTakeover: Bool
    /// LZ77 window the server compresses with (8–15).
    public var serverMaxWindowBits: Int
    /// LZ77 window the client compresses with (8–15).
    public var clientMaxWindowBits: Int

    public init(serverNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false,
                serverMaxWindowBits: Int = 15, clientMaxWindowBits: Int = 15) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    /// The `Sec-WebSocket-Extensions` value that states these parameters.
    public var headerValue: String {
        var value = "permessage-deflate"
        if serverNoContextTakeover { value += "; server_no_context_takeover" }
        if clientNoContextTakeover { value += "; client_no_context_takeover" }
        if serverMaxWindowBits < 15 { value += "; server_max_window_bits=\(serverMaxWindowBits)" }
        if clientMaxWindowBits < 15 { value += "; client_max_window_bits=\(clientMaxWindowBits)" }
        return value
    }
}

/// What a server is willing to do with permessage-deflate.
public struct PerMessageDeflateConfiguration: Equatable, Sendable {
    public var enabled: Bool
    /// Largest window the server will compress with; a smaller value saves memory per connection.
    public var serverMaxWindowBits: Int
    /// Ask clients to reset their compressor after every message even if they did not offer it.
    public var requireClientNoContextTakeover: Bool
    /// Reset our compressor after every message even if the client did not ask for it
    /// (this lets a broadcast be compressed once for many connections).
    public var forceServerNoContextTakeover: Bool
    /// zlib compression level (1–9).
    public var compressionLevel: Int32
    /// zlib memLevel (1–9): memory used by the compressor's hash tables.
    public var memoryLevel: Int32
    /// Messages shorter than this are sent uncompressed.
    public var minimumMessageSize: Int

    public init(enabled: Bool = true, serverMaxWindowBits: Int = 15, requireClientNoContextTakeover: Bool = false,
                forceServerNoContextTakeover: Bool = false, compressionLevel: Int32 = 6, memoryLevel: Int32 = 8,
                minimumMessageSize: Int = 0) {
        self.enabled = enabled
        self.serverMaxWindowBits = serverMaxWindowBits
        self.requireClientNoContextTakeover = requireClientNoContextTakeover
        self.forceServerNoContextTakeover = forceServerNoContextTakeover
        self.compressionLevel = compressionLevel
        self.memoryLevel = memoryLevel
        self.minimumMessageSize = minimumMessageSize
    }

    public static let disabled = PerMessageDeflateConfiguration(enabled: false)
}
