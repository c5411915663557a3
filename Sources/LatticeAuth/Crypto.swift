import CCrypto
public import Foundation

/// The two primitives tokens need, from the system's libcrypto.
public enum Crypto {
    /// SHA-256 of `bytes`.
    public static func sha256<Bytes: Sequence>(_ bytes: Bytes) -> Data where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        input.withUnsafeBufferPointer { source in
            _ = CCrypto.SHA256(source.baseAddress, source.count, &digest)
        }
        return Data(digest)
    }

    /// `count` bytes from the CSPRNG. Traps if the generator fails (it does not on Linux with
    /// getrandom; continuing with weak randomness would be worse than stopping).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "libcrypto RAND_bytes failed")
        return bytes
    }

    /// Compares two digests in time independent of where they differ.
    public static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 }
        }
    }

    /// `prefix` + 16 lowercase hex digits from 64 random bits: record ids (`u_`, `t_`, `i_`).
    public static func makeID(prefix: String) -> String {
        prefix + randomBytes(8).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Base64url without padding (RFC 4648 §5): token secrets travel in URLs and cookies.
    public static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
