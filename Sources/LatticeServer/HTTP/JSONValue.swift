import Foundation

/// A JSON value the API writes: objects keep their key order, and `raw` embeds JSON that is
/// already encoded (stored event data) without parsing it again.
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])
    /// Already-encoded JSON, written as it is.
    case raw(String)

    static func == (a: JSONValue, b: JSONValue) -> Bool { a.encoded() == b.encoded() }

    static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    static func date(_ d: Date?) -> JSONValue { d.map { .string(formatDate($0)) } ?? .null }

    /// ISO 8601 with milliseconds, UTC.
    static func formatDate(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    func encoded() -> String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .string(let s): Self.writeString(s, into: &out)
        case .raw(let r): out += r
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out += "," }
                Self.writeString(key, into: &out)
                out += ":"
                value.write(into: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"  // safe to embed in HTML
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// Any JSON value, as decoded from a request body (booleans and numbers kept apart).
enum InputJSON: Decodable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([InputJSON]), object([String: InputJSON])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([InputJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: InputJSON].self)) }
    }
}

/// A parsed JSON request body: an object, read field by field with typed accessors that throw
/// `bad_request` naming the field.
struct JSONBody: Sendable {
    private let object: [String: InputJSON]

    /// An empty body is an empty object; anything but an object is refused.
    init(_ bytes: [UInt8]) throws(APIError) {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            object = [:]
            return
        }
        guard let value = try? JSONDecoder().decode(InputJSON.self, from: Data(bytes)), case .object(let object) = value else {
            throw APIError.badRequest("the body must be a JSON object")
        }
        self.object = object
    }

    private func value(_ key: String) -> InputJSON? {
        guard let v = object[key] else { return nil }
        if case .null = v { return nil }
        return v
    }

    func has(_ key: String) -> Bool { value(key) != nil }

    func string(_ key: String) throws(APIError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw APIError.badRequest("\(key) must be a string") }
        return s
    }

    func requiredString(_ key: String) throws(APIError) -> String {
        guard let s = try string(key) else { throw APIError.badRequest("\(key) is required") }
        return s
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw APIError.badRequest("\(key) must be true or false") }
        return b
    }

    func int(_ key: String) throws(APIError) -> Int? {
        guard let v = value(key) else { return nil }
        guard case .number(let d) = v, let i = Int(exactly: d) else { throw APIError.badRequest("\(key) must be an integer") }
        return i
    }

    func strings(_ key: String) throws(APIError) -> [String]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else { throw APIError.badRequest("\(key) must be an array of strings") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw APIError.badRequest("\(key) must be an array of strings") }
            out.append(s)
        }
        return out
    }
}
