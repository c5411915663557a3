/// Incremental UTF-8 validation (RFC 3629) that fails on the first byte after
/// which no continuation could make the input valid: overlong forms, surrogates
/// and code points above U+10FFFF are rejected at their first impossible byte.
/// State carries across calls, so a message can be checked fragment by fragment.
public struct UTF8Validator: Sendable {
    private var remaining: UInt8 = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// True when the bytes seen so far end on a character boundary.
    public var isComplete: Bool { remaining == 0 }

    public mutating func reset() { remaining = 0; lower = 0x80; upper = 0xBF }

    /// Feeds more bytes; returns false as soon as the input can no longer be valid.
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let n = bytes.count
        var i = 0
        while i < n {
            if remaining == 0 {
                // ASCII fast path, 8 bytes at a time.
                while i + 8 <= n, base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                }
                if i >= n { break }
                let b = base.load(fromByteOffset: i, as: UInt8.self)
                switch b {
                case 0x00...0x7F: break
                case 0xC2...0xDF: remaining = 1; lower = 0x80; upper = 0xBF
                case 0xE0: remaining = 2; lower = 0xA0; upper = 0xBF
                case 0xE1...0xEC, 0xEE, 0xEF: remaining = 2; lower = 0x80; upper = 0xBF
                case 0xED: remaining = 2; lower = 0x80; upper = 0x9F
                case 0xF0: remaining = 3; lower = 0x90; upper = 0xBF
                case 0xF1...0xF3: remaining = 3; lower = 0x80; upper = 0xBF
                case 0xF4: remaining = 3; lower = 0x80; upper = 0x8F
                default: return false
                }
            } else {
                let b = base.load(fromByteOffset: i, as: UInt8.self)
                if b < lower || b > upper { return false }
                lower = 0x80; upper = 0xBF
                remaining -= 1
            }
            i += 1
        }
        return true
    }

    public mutating func validate<Bytes: Sequence>(bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBytes { validate($0) }
    }
}
