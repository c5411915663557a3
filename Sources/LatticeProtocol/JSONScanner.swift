/// The kind of a JSON value, read from its first byte.
enum JSONValueKind: Sendable {
    case object, array, string, number, bool, null

    var name: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }
}

/// Why a byte sequence is not JSON (RFC 8259), and where.
struct JSONSyntaxError: Error, Sendable {
    enum Reason: Sendable {
        case unexpectedEnd
        case unexpectedByte
        case controlCharacterInString
        case invalidEscape
        case loneSurrogate
        case invalidUTF8
        case invalidNumber
        case invalidLiteral
        case trailingData
        case tooDeep
        case numberOutOfRange
    }

    var reason: Reason
    var offset: Int

    var message: String {
        let what: String
        switch reason {
        case .unexpectedEnd: what = "unexpected end of input"
        case .unexpectedByte: what = "unexpected character"
        case .controlCharacterInString: what = "unescaped control character in a string"
        case .invalidEscape: what = "invalid escape sequence"
        case .loneSurrogate: what = "\\u escape is an unpaired UTF-16 surrogate"
        case .invalidUTF8: what = "invalid UTF-8"
        case .invalidNumber: what = "invalid number"
        case .invalidLiteral: what = "invalid literal (expected true, false or null)"
        case .trailingData: what = "data after the end of the JSON value"
        case .tooDeep: what = "nesting too deep"
        case .numberOutOfRange: what = "number beyond the range of a 64-bit float"
        }
        return "invalid JSON at byte \(offset): \(what)"
    }
}

/// A strict, validating, non-allocating JSON (RFC 8259) scanner over a byte buffer.
///
/// It validates the whole grammar, UTF-8 inside strings and `\u` surrogate pairing,
/// and reports where each value starts and ends, so that callers can keep values as
/// raw bytes. Nesting deeper than `maxDepth` containers is refused.
struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    var index: Int
    let maxDepth: Int

    init(_ bytes: UnsafeRawBufferPointer, maxDepth: Int, start: Int = 0) {
        self.bytes = bytes
        self.index = start
        self.maxDepth = maxDepth
    }

    @inline(__always)
    func fail(_ reason: JSONSyntaxError.Reason) -> JSONSyntaxError {
        JSONSyntaxError(reason: reason, offset: index)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Requires that only whitespace remains.
    mutating func end() throws(JSONSyntaxError) {
        skipWhitespace()
        if index != bytes.count { throw fail(.trailingData) }
    }

    /// Scans one value (leading whitespace allowed) and returns its kind; `index` ends
    /// just past the value. `depth` is the number of containers already open.
    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValueKind {
        skipWhitespace()
        guard index < bytes.count else { throw fail(.unexpectedEnd) }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            try skipObject(depth: depth + 1)
            return .object
        case UInt8(ascii: "["):
            try skipArray(depth: depth + 1)
            return .array
        case UInt8(ascii: "\""):
            _ = try string()
            return .string
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try number()
            return .number
        default:
            throw fail(.unexpectedByte)
        }
    }

    /// Scans an object at `index` (which must be `{`), calling `visit` for each member with
    /// the key's content range (between the quotes), whether the key has escapes, the
    /// value's byte range and its kind.
    mutating func members(
        depth: Int,
        _ visit: (_ key: Range<Int>, _ keyEscaped: Bool, _ value: Range<Int>, _ kind: JSONValueKind) -> Void
    ) throws(JSONSyntaxError) {
        if depth > maxDepth { throw fail(.tooDeep) }
        index += 1  // {
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            guard bytes[index] == UInt8(ascii: "\"") else { throw fail(.unexpectedByte) }
            let (key, keyEscaped) = try string()
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            guard bytes[index] == UInt8(ascii: ":") else { throw fail(.unexpectedByte) }
            index += 1
            skipWhitespace()
            let start = index
            let kind = try value(depth: depth)
            visit(key, keyEscaped, start..<index, kind)
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return
            default: throw fail(.unexpectedByte)
            }
        }
    }

    mutating func skipObject(depth: Int) throws(JSONSyntaxError) {
        try members(depth: depth) { _, _, _, _ in }
    }

    mutating func skipArray(depth: Int) throws(JSONSyntaxError) {
        try elements(depth: depth) { _, _ in }
    }

    @inline(__always)
    mutating func literal(_ text: StaticString) throws(JSONSyntaxError) {
        let count = text.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw fail(.invalidLiteral) }
        let start = text.utf8Start
        for k in 0..<count where bytes[index + k] != start[k] {
            throw fail(.invalidLiteral)
        }
        index += count
    }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    mutating func digits() throws(JSONSyntaxError) {
        guard index < bytes.count, Self.isDigit(bytes[index]) else { throw fail(.invalidNumber) }
        repeat { index += 1 } while index < bytes.count && Self.isDigit(bytes[index])
    }

    mutating func number() throws(JSONSyntaxError) {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw fail(.invalidNumber) }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            try digits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            try digits()
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            try digits()
        }
        // Numbers whose magnitude could exceed a double (an exponent, or a long run of
        // digits) are checked, so that every parser can read what we forward.
        if index - start > 24 || bytes[start..<index].contains(where: { $0 | 0x20 == UInt8(ascii: "e") }) {
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let value = Double(text), value.isFinite else {
                throw JSONSyntaxError(reason: .numberOutOfRange, offset: start)
            }
        }
    }

    /// Scans a string at `index` (which must be `"`); returns the content range (between
    /// the quotes) and whether it contains escapes.
    mutating func string() throws(JSONSyntaxError) -> (Range<Int>, Bool) {
        index += 1
        let start = index
        var escaped = false
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let range = start..<index
                index += 1
                return (range, escaped)
            } else if b == UInt8(ascii: "\\") {
                escaped = true
                try escape()
            } else if b < 0x20 {
                throw fail(.controlCharacterInString)
            } else if b < 0x80 {
                index += 1
            } else {
                try utf8Sequence()
            }
        }
        throw fail(.unexpectedEnd)
    }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// Reads `\uXXXX` at `index` and returns the code unit.
    mutating func unicodeEscape() throws(JSONSyntaxError) -> UInt32 {
        guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
            throw fail(.invalidEscape)
        }
        var unit: UInt32 = 0
        for k in 2..<6 {
            guard let h = Self.hexValue(bytes[index + k]) else { throw fail(.invalidEscape) }
            unit = unit << 4 | h
        }
        index += 6
        return unit
    }

    mutating func escape() throws(JSONSyntaxError) {
        guard index + 1 < bytes.count else { throw fail(.unexpectedEnd) }
        switch bytes[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
        case UInt8(ascii: "u"):
            let at = index
            let unit = try unicodeEscape()
            if unit & 0xFC00 == 0xD800 {
                let low = index < bytes.count && bytes[index] == UInt8(ascii: "\\") ? try? unicodeEscape() : nil
                guard let low, low & 0xFC00 == 0xDC00 else {
                    throw JSONSyntaxError(reason: .loneSurrogate, offset: at)
                }
            } else if unit & 0xFC00 == 0xDC00 {
                throw JSONSyntaxError(reason: .loneSurrogate, offset: at)
            }
        default:
            throw fail(.invalidEscape)
        }
    }

    /// Validates one multi-byte UTF-8 sequence at `index` (Unicode Table 3-7).
    mutating func utf8Sequence() throws(JSONSyntaxError) {
        let b0 = bytes[index]
        let remaining = bytes.count - index
        @inline(__always) func cont(_ k: Int) -> Bool { bytes[index + k] & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            guard remaining >= 2, cont(1) else { throw fail(.invalidUTF8) }
            index += 2
        case 0xE0...0xEF:
            guard remaining >= 3, cont(1), cont(2) else { throw fail(.invalidUTF8) }
            let b1 = bytes[index + 1]
            if b0 == 0xE0 && b1 < 0xA0 { throw fail(.invalidUTF8) }
            if b0 == 0xED && b1 > 0x9F { throw fail(.invalidUTF8) }
            index += 3
        case 0xF0...0xF4:
            guard remaining >= 4, cont(1), cont(2), cont(3) else { throw fail(.invalidUTF8) }
            let b1 = bytes[index + 1]
            if b0 == 0xF0 && b1 < 0x90 { throw fail(.invalidUTF8) }
            if b0 == 0xF4 && b1 > 0x8F { throw fail(.invalidUTF8) }
            index += 4
        default:
            throw fail(.invalidUTF8)
        }
    }

    /// Decodes the content of an already validated string (the bytes between its quotes).
    static func decodeString(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, escaped: Bool) -> String {
        let content = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard escaped else { return String(decoding: content, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(content.count)
        var i = 0
        func hex4(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in at..<at + 4 { v = v << 4 | (hexValue(content[k]) ?? 0) }
            return v
        }
        while i < content.count {
            let b = content[i]
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                i += 1
                continue
            }
            let e = content[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(i)
                i += 4
                if scalar & 0xFC00 == 0xD800 {
                    let low = hex4(i + 2)
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                if let s = Unicode.Scalar(scalar) {
                    out.append(contentsOf: UTF8.encode(s)!)
                }
            default: out.append(e)  // " \ /
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSONScanner {
    /// Validates that `bytes` hold exactly one JSON value (surrounding whitespace allowed).
    static func validate(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) throws(JSONSyntaxError) -> JSONValueKind {
        var scanner = JSONScanner(bytes, maxDepth: maxDepth)
        let kind = try scanner.value(depth: 0)
        try scanner.end()
        return kind
    }
}

extension JSONScanner {
    /// Scans an array at `index` (which must be `[`), calling `visit` with each element's byte
    /// range and kind.
    mutating func elements(depth: Int, _ visit: (_ value: Range<Int>, _ kind: JSONValueKind) -> Void) throws(JSONSyntaxError) {
        if depth > maxDepth { throw fail(.tooDeep) }
        index += 1  // [
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            let start = index
            let kind = try value(depth: depth)
            visit(start..<index, kind)
            skipWhitespace()
            guard index < bytes.count else { throw fail(.unexpectedEnd) }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return
            default: throw fail(.unexpectedByte)
            }
        }
    }
}
