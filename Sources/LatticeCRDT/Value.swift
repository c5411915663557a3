/// A JSON-like value stored in registers, maps, sets and graph properties.
public enum Value: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([Value])
    case object([String: Value])

    public subscript(key: String) -> Value? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var intValue: Int64? { if case .int(let i) = self { return i }; return nil }
    public var arrayValue: [Value]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [String: Value]? { if case .object(let o) = self { return o }; return nil }
}

extension Value {
    // MARK: JSON text (hand written, deterministic: object keys sorted by UTF-8 bytes)

    public var json: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isFinite {
                if d == d.rounded() && abs(d) < 1e15 { out += String(Int64(d)) + ".0" } else { out += "\(d)" }
            } else { out += "null" }
        case .string(let s): Value.writeString(s, into: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() { if i > 0 { out += "," }; v.write(into: &out) }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, k) in o.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { out += "," }
                Value.writeString(k, into: &out)
                out += ":"
                o[k]!.write(into: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    public static func parseJSON(_ text: String) throws -> Value {
        var p = JSONParser(bytes: Array(text.utf8))
        p.skipWS()
        let v = try p.value(depth: 0)
        p.skipWS()
        guard p.i == p.bytes.count else { throw DecodeError("trailing characters in JSON") }
        return v
    }
}

struct JSONParser {
    let bytes: [UInt8]
    var i = 0

    mutating func skipWS() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0a || bytes[i] == 0x0d || bytes[i] == 0x09 { i += 1 }
    }

    mutating func expect(_ s: String) throws {
        for b in s.utf8 {
            guard i < bytes.count, bytes[i] == b else { throw DecodeError("invalid JSON literal") }
            i += 1
        }
    }

    mutating func value(depth: Int) throws -> Value {
        guard depth < 200 else { throw DecodeError("JSON nested too deeply") }
        guard i < bytes.count else { throw DecodeError("unexpected end of JSON") }
        switch bytes[i] {
        case UInt8(ascii: "n"): try expect("null"); return .null
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "["):
            i += 1; skipWS()
            var a: [Value] = []
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            while true {
                skipWS(); a.append(try value(depth: depth + 1)); skipWS()
                guard i < bytes.count else { throw DecodeError("unterminated JSON array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                throw DecodeError("expected , or ] in JSON array")
            }
        case UInt8(ascii: "{"):
            i += 1; skipWS()
            var o: [String: Value] = [:]
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            while true {
                skipWS()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw DecodeError("expected key in JSON object") }
                let k = try string()
                skipWS()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw DecodeError("expected : in JSON object") }
                i += 1; skipWS()
                o[k] = try value(depth: depth + 1)
                skipWS()
                guard i < bytes.count else { throw DecodeError("unterminated JSON object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                throw DecodeError("expected , or } in JSON object")
            }
        default:
            return try number()
        }
    }

    mutating func number() throws -> Value {
        let start = i
        var isFloat = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        while i < bytes.count {
            let c = bytes[i]
            if c >= 0x30 && c <= 0x39 { i += 1 } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || (c == UInt8(ascii: "-") && i > start) { isFloat = true; i += 1 } else { break }
        }
        let s = String(decoding: bytes[start..<i], as: UTF8.self)
        guard !s.isEmpty, s != "-" else { throw DecodeError("invalid JSON value") }
        if !isFloat, let v = Int64(s) { return .int(v) }
        guard let d = Double(s) else { throw DecodeError("invalid JSON number \(s)") }
        return .double(d)
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw DecodeError("bad \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]; i += 1
            v <<= 4
            switch c {
            case 0x30...0x39: v |= UInt32(c - 0x30)
            case 0x41...0x46: v |= UInt32(c - 0x41 + 10)
            case 0x61...0x66: v |= UInt32(c - 0x61 + 10)
            default: throw DecodeError("bad \\u escape")
            }
        }
        return v
    }

    mutating func string() throws -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw DecodeError("unterminated JSON string") }
            let c = bytes[i]; i += 1
            if c == UInt8(ascii: "\"") { break }
            if c == UInt8(ascii: "\\") {
                guard i < bytes.count else { throw DecodeError("bad escape") }
                let e = bytes[i]; i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5c)
                case UInt8(ascii: "/"): out.append(0x2f)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if v >= 0xD800 && v < 0xDC00 {
                        guard i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { throw DecodeError("lone surrogate") }
                        i += 2
                        let lo = try hex4()
                        guard lo >= 0xDC00 && lo < 0xE000 else { throw DecodeError("bad surrogate pair") }
                        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    guard let u = Unicode.Scalar(v) else { throw DecodeError("invalid scalar") }
                    out.append(contentsOf: UTF8.encode(u)!)
                default: throw DecodeError("bad escape")
                }
            } else {
                out.append(c)
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw DecodeError("invalid UTF-8 in JSON string") }
        return s
    }
}

extension Value {
    // MARK: binary form (tag byte + payload)
    public func encode(into w: inout ByteWriter) {
        switch self {
        case .null: w.u8(0)
        case .bool(let b): w.u8(b ? 2 : 1)
        case .int(let i): w.u8(3); w.zigzag(i)
        case .double(let d): w.u8(4); w.double(d)
        case .string(let s): w.u8(5); w.string(s)
        case .array(let a): w.u8(6); w.varint(a.count); for v in a { v.encode(into: &w) }
        case .object(let o):
            w.u8(7); w.varint(o.count)
            for k in o.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) { w.string(k); o[k]!.encode(into: &w) }
        }
    }

    public static func decode(from r: inout ByteReader, depth: Int = 0) throws -> Value {
        guard depth < 200 else { throw DecodeError("value nested too deeply") }
        switch try r.u8() {
        case 0: return .null
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .int(try r.zigzag())
        case 4: return .double(try r.double())
        case 5: return .string(try r.string())
        case 6:
            let n = try r.int()
            var a: [Value] = []
            for _ in 0..<n { a.append(try decode(from: &r, depth: depth + 1)) }
            return .array(a)
        case 7:
            let n = try r.int()
            var o: [String: Value] = [:]
            for _ in 0..<n { let k = try r.string(); o[k] = try decode(from: &r, depth: depth + 1) }
            return .object(o)
        default: throw DecodeError("unknown value tag")
        }
    }
}
