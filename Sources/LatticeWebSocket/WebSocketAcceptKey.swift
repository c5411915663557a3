#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The key exchange of the opening handshake (RFC 6455 §4.1, §4.2.2).
public enum WebSocketAcceptKey {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a given `Sec-WebSocket-Key`.
    public static func accept(forKey key: String) -> String {
        Data(SHA1.hash(Array((key + guid).utf8))).base64EncodedString()
    }

    /// A valid key is the base64 encoding of exactly 16 bytes.
    public static func isValidKey(_ key: String) -> Bool {
        guard key.utf8.count == 24, let decoded = Data(base64Encoded: key) else { return false }
        return decoded.count == 16
    }

    /// A fresh random key for a client handshake.
    public static func makeKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
    }
}
