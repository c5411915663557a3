/// Compact binary encoding helpers: LEB128 varints, zig-zag signed ints, length-prefixed UTF-8.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    public init() {}

    @inline(__always) public mutating func u8(_ v: UInt8) { bytes.append(v) }

    @inline(__always) public mutating func varint(_ v: UInt64) {
        var x = v
        while x >= 0x80 { bytes.append(UInt8(x & 0x7f) | 0x80); x >>= 7 }
        bytes.append(UInt8(x))
    }
    @inline(__always) public mutating func varint(_ v: Int) { varint(UInt64(v)) }
    @inline(__always) public mutating func varint(_ v: UInt32) { varint(UInt64(v)) }

    public mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    public mutating func string(_ s: String) {
        varint(s.utf8.count)
        bytes.append(contentsOf: s.utf8)
    }

    public mutating func double(_ d: Double) {
        var b = d.bitPattern
        for _ in 0..<8 { bytes.append(UInt8(b & 0xff)); b >>= 8 }
    }

    public mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }
}

public struct DecodeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "decode error: \(message)" }
}

public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var atEnd: Bool { offset >= bytes.count }

    public mutating func u8() throws -> UInt8 {
        guard offset < bytes.count else { throw DecodeError("unexpected end of data") }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw DecodeError("unexpected end of data in varint") }
            let b = bytes[offset]
            offset += 1
            if shift > 63 { throw DecodeError("varint too long") }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    public mutating func int() throws -> Int {
        let v = try varint()
        guard v <= UInt64(Int.max) else { throw DecodeError("integer out of range") }
        return Int(v)
    }

    public mutating func u32() throws -> UInt32 {
        let v = try varint()
        guard v <= UInt64(UInt32.max) else { throw DecodeError("integer out of range") }
        return UInt32(v)
    }

    public mutating func zigzag() throws -> Int64 {
        let u = try varint()
        return Int64(bitPattern: u >> 1) ^ -Int64(bitPattern: u & 1)
    }

    public mutating func string() throws -> String {
        let n = try int()
        guard n <= bytes.count - offset else { throw DecodeError("string length out of range") }
        defer { offset += n }
        return String(decoding: bytes[offset..<(offset + n)], as: UTF8.self)
    }

    public mutating func double() throws -> Double {
        guard bytes.count - offset >= 8 else { throw DecodeError("unexpected end of data in double") }
        var b: UInt64 = 0
        for i in 0..<8 { b |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return Double(bitPattern: b)
    }

    public mutating func rawBytes(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - offset else { throw DecodeError("length out of range") }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }
}
