import LatticeProtocol

/// Small JSON helpers for the `lattice.v1` client: a structural reader of server
/// messages that keeps values as raw byte slices (so `data` and `state` reach the
/// application verbatim), string escaping for requests, and strict validation.
public enum LatticeJSON {
    /// True when `text` is one JSON value by the server's strict rules (RFC 8259, depth ≤ 64,
    /// numbers within a 64-bit float). What `publish` accepts as `data`.
    public static func isValid(_ text: String) -> Bool {
        RawJSON(validating: text) != nil
    }

    /// `text` as a JSON string literal, quotes included.
    public static func quote(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }
}

/// A read-only view of one JSON value inside a byte array. Structural only: it trusts
/// the input to be valid JSON (the server's output) but never reads out of bounds and
/// answers `nil` for anything malformed.
struct JSONSlice {
    let bytes: [UInt8]
    let range: Range<Int>

    init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.range = range
    }

    init?(_ bytes: [UInt8]) {
        self.bytes = bytes
        var start = 0
        var end = bytes.count
        while start < end, Self.isSpace(bytes[start]) { start += 1 }
        while end > start, Self.isSpace(bytes[end - 1]) { end -= 1 }
        guard start < end, Self.skipValue(bytes, from: start, limit: end) == end else { return nil }
        self.range = start..<end
    }

    var first: UInt8 { bytes[range.lowerBound] }
    var raw: String { String(decoding: bytes[range], as: UTF8.self) }

    /// The fields of an object, in order; nil when this is not an object.
    func fields() -> [(key: String, value: JSONSlice)]? {
        guard first == UInt8(ascii: "{") else { return nil }
        var out: [(String, JSONSlice)] = []
        var i = range.lowerBound + 1
        let end = range.upperBound
        while true {
            i = Self.skipSpace(bytes, i, end)
            guard i < end else { return nil }
            if bytes[i] == UInt8(ascii: "}") { return out }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "\""), let keyEnd = Self.skipValue(bytes, from: i, limit: end),
                  let key = JSONSlice(bytes: bytes, range: i..<keyEnd).string else { return nil }
            i = Self.skipSpace(bytes, keyEnd, end)
            guard i < end, bytes[i] == UInt8(ascii: ":") else { return nil }
            i = Self.skipSpace(bytes, i + 1, end)
            guard let valueEnd = Self.skipValue(bytes, from: i, limit: end) else { return nil }
            out.append((key, JSONSlice(bytes: bytes, range: i..<valueEnd)))
            i = valueEnd
        }
    }

    /// The first field named `key` of an object.
    subscript(key: String) -> JSONSlice? {
        fields()?.first(where: { $0.key == key })?.value
    }

    /// The elements of an array; nil when this is not an array.
    func elements() -> [JSONSlice]? {
        guard first == UInt8(ascii: "[") else { return nil }
        var out: [JSONSlice] = []
        var i = range.lowerBound + 1
        let end = range.upperBound
        while true {
            i = Self.skipSpace(bytes, i, end)
            guard i < end else { return nil }
            if bytes[i] == UInt8(ascii: "]") { return out }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard let valueEnd = Self.skipValue(bytes, from: i, limit: end) else { return nil }
            out.append(JSONSlice(bytes: bytes, range: i..<valueEnd))
            i = valueEnd
        }
    }

    /// The value of a string, escapes decoded.
    var string: String? {
        guard range.count >= 2, first == UInt8(ascii: "\""), bytes[range.upperBound - 1] == UInt8(ascii: "\"") else { return nil }
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        if !bytes[inner].contains(UInt8(ascii: "\\")) { return String(decoding: bytes[inner], as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(inner.count)
        var i = inner.lowerBound
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= inner.upperBound else { return nil }
            return UInt32(String(decoding: bytes[at..<(at + 4)], as: UTF8.self), radix: 16)
        }
        while i < inner.upperBound {
            let b = bytes[i]
            guard b == UInt8(ascii: "\\") else { out.append(b); i += 1; continue }
            guard i + 1 < inner.upperBound else { return nil }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard var code = hex4(i) else { return nil }
                i += 4
                if (0xD800..<0xDC00).contains(code), i + 6 <= inner.upperBound, bytes[i] == UInt8(ascii: "\\"),
                   bytes[i + 1] == UInt8(ascii: "u"), let low = hex4(i + 2), (0xDC00..<0xE000).contains(low) {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The value of an integer number (no fraction or exponent).
    var int: Int? {
        Int(raw)
    }

    var bool: Bool? {
        switch raw {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    var isNull: Bool { raw == "null" }

    // MARK: scanning

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09
    }

    static func skipSpace(_ bytes: [UInt8], _ from: Int, _ limit: Int) -> Int {
        var i = from
        while i < limit, isSpace(bytes[i]) { i += 1 }
        return i
    }

    /// The index just after the value starting at `from`, or nil when it is malformed.
    static func skipValue(_ bytes: [UInt8], from: Int, limit: Int) -> Int? {
        guard from < limit else { return nil }
        var i = from
        switch bytes[i] {
        case UInt8(ascii: "\""):
            i += 1
            while i < limit {
                switch bytes[i] {
                case UInt8(ascii: "\\"): i += 2
                case UInt8(ascii: "\""): return i + 1
                default: i += 1
                }
            }
            return nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < limit {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    guard let next = skipValue(bytes, from: i, limit: limit) else { return nil }
                    i = next
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            return nil
        default:
            // number, true, false, null: up to the next delimiter
            while i < limit {
                let b = bytes[i]
                if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || isSpace(b) { break }
                i += 1
            }
            return i > from ? i : nil
        }
    }
}
