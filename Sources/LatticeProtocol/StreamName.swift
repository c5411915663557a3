/// A validated stream name: `workspace/{ws}`, `run/{id}`, `doc/{id}`, `graph/{ws}` or
/// `channel/{ws}/{name}`. Every segment is non-empty and made of `A–Z a–z 0–9 . _ ~ -`;
/// the whole name is at most `maxBytes` bytes. Equality and hashing use the name.
public struct StreamName: Sendable, Hashable, CustomStringConvertible, Comparable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case workspace, run, doc, graph, channel

        /// How many segments a name of this kind has, the kind included.
        public var segmentCount: Int { self == .channel ? 3 : 2 }

        var shape: String {
            switch self {
            case .workspace: "workspace/{workspace}"
            case .run: "run/{run}"
            case .doc: "doc/{doc}"
            case .graph: "graph/{workspace}"
            case .channel: "channel/{workspace}/{name}"
            }
        }
    }

    public static let defaultMaxBytes = 256

    /// The whole name, e.g. `channel/acme/general`.
    public let name: String
    public let kind: Kind
    /// The second segment: the workspace, run or document id.
    private let second: Range<String.Index>
    /// The third segment of a channel: its name.
    private let third: Range<String.Index>?

    private init(name: String, kind: Kind, second: Range<String.Index>, third: Range<String.Index>?) {
        self.name = name
        self.kind = kind
        self.second = second
        self.third = third
    }

    /// The workspace the name contains (`workspace`, `graph` and `channel` names); `nil` for
    /// `run` and `doc`, whose workspace the server looks up.
    public var workspace: Substring? {
        switch kind {
        case .workspace, .graph, .channel: name[second]
        case .run, .doc: nil
        }
    }

    /// The run or document id (`run` and `doc` names).
    public var resource: Substring? {
        switch kind {
        case .run, .doc: name[second]
        case .workspace, .graph, .channel: nil
        }
    }

    /// The channel's name (`channel` names).
    public var channel: Substring? { third.map { name[$0] } }

    /// Only channels accept `publish`.
    public var isPublishable: Bool { kind == .channel }

    public var description: String { name }

    public static func == (a: StreamName, b: StreamName) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    public static func < (a: StreamName, b: StreamName) -> Bool { a.name < b.name }

    @inline(__always)
    static func isSegmentByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// Parses and validates a stream name; the error is `invalid_stream` with a precise message.
    public static func parse(_ string: String, maxBytes: Int = defaultMaxBytes) -> Result<StreamName, ProtocolError> {
        func invalid(_ message: String) -> Result<StreamName, ProtocolError> {
            .failure(ProtocolError(.invalidStream, message))
        }
        let utf8 = string.utf8
        let count = utf8.count
        if count > maxBytes {
            return invalid("stream name is \(count) bytes; the limit is \(maxBytes)")
        }
        if count == 0 { return invalid("stream name is empty") }
        // Split on '/', checking every byte; no allocation (at most 3 segments are kept).
        var bounds = (utf8.startIndex..<utf8.startIndex, utf8.startIndex..<utf8.startIndex, utf8.startIndex..<utf8.startIndex)
        var segments = 0
        func close(_ range: Range<String.Index>) {
            switch segments {
            case 0: bounds.0 = range
            case 1: bounds.1 = range
            case 2: bounds.2 = range
            default: break
            }
            segments += 1
        }
        var segmentStart = utf8.startIndex
        var offset = 0
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let b = utf8[index]
            if b == UInt8(ascii: "/") {
                close(segmentStart..<index)
                segmentStart = utf8.index(after: index)
            } else if !isSegmentByte(b) {
                let shown = b < 0x20 || b >= 0x7F ? String(format2: b) : "'\(Character(Unicode.Scalar(b)))'"
                return invalid("stream name '\(escapedForMessage(string))' has a character \(shown) at byte \(offset) not allowed in a segment (A-Z a-z 0-9 . _ ~ -)")
            }
            offset += 1
            index = utf8.index(after: index)
        }
        close(segmentStart..<utf8.endIndex)
        let first = string[bounds.0]
        let kind: Kind
        switch first {
        case "workspace": kind = .workspace
        case "run": kind = .run
        case "doc": kind = .doc
        case "graph": kind = .graph
        case "channel": kind = .channel
        default:
            return invalid("stream name '\(string)' has an unknown kind '\(first)' (expected workspace, run, doc, graph or channel)")
        }
        if segments != kind.segmentCount {
            return invalid("stream name '\(string)' must have the form \(kind.shape)")
        }
        if bounds.1.isEmpty { return invalid("stream name '\(string)' has an empty segment 2 (expected \(kind.shape))") }
        if kind == .channel && bounds.2.isEmpty { return invalid("stream name '\(string)' has an empty segment 3 (expected \(kind.shape))") }
        return .success(StreamName(name: string, kind: kind, second: bounds.1, third: kind == .channel ? bounds.2 : nil))
    }

    private static func escapedForMessage(_ string: String) -> String {
        String(string.unicodeScalars.flatMap { $0.escaped(asASCII: true) })
    }
}

extension String {
    /// `0x1F`-style rendering of a byte, for messages.
    fileprivate init(format2 b: UInt8) {
        let hex = String(b, radix: 16, uppercase: true)
        self = "0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
