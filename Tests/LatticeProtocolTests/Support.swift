import Foundation
import NIOCore
import Testing

@testable import LatticeProtocol

/// Decodes `text`, recording an issue (with the error) if it fails.
func decoded(_ text: String, limits: ProtocolLimits = ProtocolLimits(), sourceLocation: SourceLocation = #_sourceLocation) -> ClientRequest? {
    switch ClientRequest.decode(text, limits: limits) {
    case .success(let request): return request
    case .failure(let error):
        Issue.record("\(text) failed: \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Decodes `text`, which must fail; returns the error.
func decodeError(_ text: String, limits: ProtocolLimits = ProtocolLimits(), sourceLocation: SourceLocation = #_sourceLocation) -> ProtocolError? {
    switch ClientRequest.decode(text, limits: limits) {
    case .success(let request):
        Issue.record("\(text) decoded to \(request) but should fail", sourceLocation: sourceLocation)
        return nil
    case .failure(let error): return error
    }
}

/// Expects `text` to fail with `code`, the raw id text `id` (nil: no id) and a message mentioning each of `mentions`.
func expectError(
    _ text: String, _ code: ErrorCode, id: String?, mentions: [String] = [], stream: String? = nil,
    limits: ProtocolLimits = ProtocolLimits(), sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let error = decodeError(text, limits: limits, sourceLocation: sourceLocation) else { return }
    #expect(error.code == code, "\(text): \(error)", sourceLocation: sourceLocation)
    #expect(error.id?.raw.text == id, "\(text): \(error)", sourceLocation: sourceLocation)
    #expect(error.stream?.name == stream, "\(text): \(error)", sourceLocation: sourceLocation)
    for word in mentions {
        #expect(error.message.contains(word), "\(text): message '\(error.message)' should mention \(word)", sourceLocation: sourceLocation)
    }
}

func stream(_ name: String) -> StreamName {
    try! StreamName.parse(name).get()
}

func raw(_ text: String) -> RawJSON {
    RawJSON(validating: text)!
}

/// Runs an encoder into a fresh buffer and returns the bytes.
func encoded(_ body: (inout ByteBuffer) -> Void) -> ByteBuffer {
    var buffer = ByteBuffer()
    body(&buffer)
    return buffer
}

/// Parses JSON with Foundation (fragments allowed); nil if Foundation refuses it.
func foundationParse(_ bytes: [UInt8]) -> Any? {
    try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
}

func foundationParse(_ buffer: ByteBuffer) -> Any? {
    foundationParse(Array(buffer: buffer))
}

/// Foundation's parse of a message that must be a JSON object.
func object(_ buffer: ByteBuffer, sourceLocation: SourceLocation = #_sourceLocation) -> [String: Any] {
    guard let object = foundationParse(buffer) as? [String: Any] else {
        Issue.record("not a JSON object: \(String(buffer: buffer))", sourceLocation: sourceLocation)
        return [:]
    }
    return object
}

/// Whether a string Foundation parsed equals `expected`. Foundation on Linux drops U+FEFF
/// from the strings it parses (our own decoder keeps it: see the request round trip), so it is
/// removed from both sides.
func same(_ parsed: Any?, _ expected: String?) -> Bool {
    func strip(_ s: String) -> String { String(String.UnicodeScalarView(s.unicodeScalars.filter { $0 != "\u{FEFF}" })) }
    guard let expected else { return parsed == nil }
    guard let parsed = parsed as? String else { return false }
    return strip(parsed) == strip(expected)
}

/// A canonical text for a parsed JSON value (sorted keys), for comparing values.
func canonical(_ value: Any?) -> String {
    guard let value else { return "<nil>" }
    guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else {
        return "<unserializable>"
    }
    return String(decoding: data, as: UTF8.self)
}

/// A small deterministic generator for test data (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Characters that stress a JSON string encoder.
let trickyCharacters: [Character] = [
    "\"", "\\", "/", "\u{0}", "\u{1}", "\u{8}", "\u{9}", "\u{A}", "\u{C}", "\u{D}", "\u{1F}", "\u{7F}",
    "é", "ß", "中", "\u{2028}", "\u{2029}", "\u{FEFF}", "🎉", "👩‍👩‍👧", "\u{10FFFF}", "a", "Z", "0", " ", "{", "}", "[", ",", ":",
]

func randomString(maxLength: Int, using rng: inout some RandomNumberGenerator) -> String {
    let length = Int.random(in: 0...maxLength, using: &rng)
    var s = ""
    for _ in 0..<length {
        if Bool.random(using: &rng) {
            s.append(trickyCharacters.randomElement(using: &rng)!)
        } else {
            s.unicodeScalars.append(Unicode.Scalar(UInt8.random(in: 0x00...0x7F, using: &rng)))
        }
    }
    return s
}

let segmentAlphabet = Array("ABCXYZabcxyz0189._~-")

func randomSegment(using rng: inout some RandomNumberGenerator) -> String {
    String((0..<Int.random(in: 1...12, using: &rng)).map { _ in segmentAlphabet.randomElement(using: &rng)! })
}

func randomStreamName(using rng: inout some RandomNumberGenerator) -> StreamName {
    let kind = StreamName.Kind.allCases.randomElement(using: &rng)!
    var name = kind.rawValue + "/" + randomSegment(using: &rng)
    if kind == .channel { name += "/" + randomSegment(using: &rng) }
    return stream(name)
}

/// A random JSON text: whitespace, escapes, surrogate pairs, numbers of every shape.
func randomJSON(using rng: inout some RandomNumberGenerator) -> String {
    randomJSON(depth: 0, using: &rng)
}

func randomWhitespace(using rng: inout some RandomNumberGenerator) -> String {
    Int.random(in: 0..<4, using: &rng) == 0 ? [" ", "\n", "\t", "\r\n ", "  "].randomElement(using: &rng)! : ""
}

func randomJSON(depth: Int, using rng: inout some RandomNumberGenerator) -> String {
    let choice = Int.random(in: 0..<(depth >= 4 ? 5 : 7), using: &rng)
    switch choice {
    case 0: return ["true", "false", "null"].randomElement(using: &rng)!
    case 1:
        let forms = ["0", "-0", "7", "-12", "3.25", "-0.5e-3", "1E+2", "6.02e23", "123456789", "-9007199254740991"]
        return forms.randomElement(using: &rng)!
    case 2, 3:
        // A string: mix raw characters (escaped where JSON requires) and escape sequences.
        var s = "\""
        for _ in 0..<Int.random(in: 0...10, using: &rng) {
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: s += ["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000", "\\u001f", "\\u00e9", "\\uD83C\\uDF89", "\\u2028"].randomElement(using: &rng)!
            default:
                let c = trickyCharacters.randomElement(using: &rng)!
                if c == "\"" { s += "\\\"" } else if c == "\\" { s += "\\\\" } else if let a = c.asciiValue, a < 0x20 { s += "\\u00" + (a < 16 ? "0" : "") + String(a, radix: 16) } else { s.append(c) }
            }
        }
        return s + "\""
    case 4, 5:
        let n = Int.random(in: 0...4, using: &rng)
        var items: [String] = []
        for _ in 0..<n { items.append(randomJSON(depth: depth + 1, using: &rng) + randomWhitespace(using: &rng)) }
        return "[" + randomWhitespace(using: &rng) + items.joined(separator: "," + randomWhitespace(using: &rng)) + "]"
    default:
        let n = Int.random(in: 0...4, using: &rng)
        var members: [String] = []
        for k in 0..<n {
            let key = "\"k\(k)\(randomSegment(using: &rng))\""
            let colon = randomWhitespace(using: &rng) + ":" + randomWhitespace(using: &rng)
            members.append(key + colon + randomJSON(depth: depth + 1, using: &rng))
        }
        let open = "{" + randomWhitespace(using: &rng)
        return open + members.joined(separator: "," + randomWhitespace(using: &rng)) + randomWhitespace(using: &rng) + "}"
    }
}
