public import NIOCore

/// One JSON value kept as its bytes, exactly as received (or as built), never re-encoded.
///
/// `data` of a `publish`, `state` of a `presence.set` and request ids are `RawJSON`, so the
/// server can copy them verbatim into the messages it sends. A `RawJSON` made by the decoder
/// or by `init?(validating:)` is always one valid JSON value (RFC 8259, UTF-8, no unpaired
/// `\u` surrogates); it may carry the whitespace the sender put inside it, but none around it.
/// Equality compares bytes.
public struct RawJSON: Sendable, Hashable, CustomStringConvertible {
    /// The value's bytes (a slice of the received message when it came from the decoder).
    public let bytes: ByteBuffer

    /// Wraps bytes the caller knows to be one valid JSON value (for example, its own output).
    public init(trusted bytes: ByteBuffer) {
        self.bytes = bytes
    }

    /// Checks that `bytes` hold exactly one JSON value; surrounding whitespace is removed.
    public init?(validating bytes: ByteBuffer, maxDepth: Int = ProtocolLimits.defaultMaxDepth) {
        let range: Range<Int>? = bytes.withUnsafeReadableBytes { raw in
            var scanner = JSONScanner(raw, maxDepth: maxDepth)
            scanner.skipWhitespace()
            let start = scanner.index
            guard (try? scanner.value(depth: 0)) != nil else { return nil }
            let end = scanner.index
            guard (try? scanner.end()) != nil else { return nil }
            return start..<end
        }
        guard let range else { return nil }
        self.bytes = bytes.getSlice(at: bytes.readerIndex + range.lowerBound, length: range.count)!
    }

    /// Checks that `text` is exactly one JSON value.
    public init?(validating text: String, maxDepth: Int = ProtocolLimits.defaultMaxDepth) {
        self.init(validating: ByteBuffer(string: text), maxDepth: maxDepth)
    }

    /// `string` as a JSON string value (quoted and escaped like every message the codec writes).
    public init(string: String) {
        var buffer = ByteBuffer()
        buffer.writeJSONString(string)
        self.bytes = buffer
    }

    /// `null`.
    public static let null = RawJSON(trusted: ByteBuffer(string: "null"))
    /// `{}`.
    public static let emptyObject = RawJSON(trusted: ByteBuffer(string: "{}"))

    /// The JSON text.
    public var text: String { String(buffer: bytes) }
    public var description: String { text }

    /// Whether the value is a JSON string (its first byte is a quote).
    public var isString: Bool { bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) == UInt8(ascii: "\"") }
    /// Whether the value is a JSON object.
    public var isObject: Bool { bytes.getInteger(at: bytes.readerIndex, as: UInt8.self) == UInt8(ascii: "{") }
}

/// A request `id`: a JSON number or string, kept as received and echoed verbatim.
public struct RequestID: Sendable, Hashable, CustomStringConvertible {
    /// The id's JSON text (a number such as `7` or `1.5e3`, or a string with its quotes).
    public let raw: RawJSON

    /// An id received from a client (the decoder checks that it is a number or a string).
    public init(raw: RawJSON) {
        self.raw = raw
    }

    /// A numeric id.
    public init(_ number: Int) {
        var buffer = ByteBuffer()
        buffer.writeJSONInteger(number)
        self.raw = RawJSON(trusted: buffer)
    }

    /// A string id.
    public init(_ string: String) {
        var buffer = ByteBuffer()
        buffer.writeJSONString(string)
        self.raw = RawJSON(trusted: buffer)
    }

    public var isString: Bool { raw.isString }
    public var description: String { raw.text }
}
