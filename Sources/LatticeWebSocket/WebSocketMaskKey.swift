/// A 4-byte masking key (RFC 6455 §5.3).
public struct WebSocketMaskKey: Hashable, Sendable {
    public var b0: UInt8, b1: UInt8, b2: UInt8, b3: UInt8

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8) {
        (self.b0, self.b1, self.b2, self.b3) = (b0, b1, b2, b3)
    }

    public init(_ value: UInt32) {
        self.init(UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                  UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value))
    }

    @inlinable func byte(_ i: Int) -> UInt8 {
        switch i & 3 {
        case 0: return b0
        case 1: return b1
        case 2: return b2
        default: return b3
        }
    }

    /// XORs `bytes` in place with the key, as if the first byte were at payload
    /// offset `offset`. Works 8 bytes at a time, then finishes byte by byte.
    @inlinable public func apply(to bytes: UnsafeMutableRawBufferPointer, startingAt offset: Int = 0) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let count = bytes.count
        // The mask as it lines up with memory, repeated over 8 bytes (little or big endian alike:
        // we build it from bytes in memory order).
        var pattern: UInt64 = 0
        withUnsafeMutableBytes(of: &pattern) { p in
            for i in 0..<8 { p[i] = byte(offset + i) }
        }
        var i = 0
        while i + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            base.storeBytes(of: word ^ pattern, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            base.storeBytes(of: b ^ byte(offset + i), toByteOffset: i, as: UInt8.self)
            i += 1
        }
    }
}
