import Foundation
import NIOCore
import Testing

@testable import LatticeProtocol

/// Replays the shared protocol vectors (`Tests/vectors/protocol/*.json`, read by the JavaScript
/// client too; README.md there gives the format): each wire text decodes to its meaning, a
/// canonical one is exactly what the encoder writes for that meaning, and each malformed input
/// fails with its code.
@Suite struct ProtocolVectorTests {
    /// `Tests/vectors/protocol`, found from this file's path (the vectors are not a resource of the target).
    static var dir: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("vectors").appendingPathComponent("protocol")
    }

    struct VectorError: Error, CustomStringConvertible {
        var description: String
    }

    static func load(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent(name))
        guard let doc = try JSONSerialization.jsonObject(with: data) as? [String: Any], doc["format"] as? Int == 1 else {
            throw VectorError(description: "\(name): not a format 1 vector file")
        }
        return doc
    }

    /// The fields of a meaning object, read with the vector's name in errors.
    struct Fields {
        let values: [String: Any]
        let vector: String

        init(_ value: Any?, _ vector: String) throws {
            guard let values = value as? [String: Any] else { throw VectorError(description: "\(vector): expected an object") }
            self.values = values
            self.vector = vector
        }

        func has(_ key: String) -> Bool { values[key] != nil && !(values[key] is NSNull) }
        func string(_ key: String) throws -> String {
            guard let s = values[key] as? String else { throw VectorError(description: "\(vector): '\(key)' must be a string") }
            return s
        }
        func optionalString(_ key: String) throws -> String? { has(key) ? try string(key) : nil }
        func int(_ key: String) throws -> Int {
            guard let n = values[key] as? NSNumber else { throw VectorError(description: "\(vector): '\(key)' must be a number") }
            return n.intValue
        }
        func optionalInt(_ key: String) throws -> Int? { has(key) ? try int(key) : nil }
        func offset(_ key: String = "offset") throws -> UInt64 {
            guard let n = values[key] as? NSNumber, n.int64Value >= 0 else { throw VectorError(description: "\(vector): '\(key)' must be an offset") }
            return UInt64(n.int64Value)
        }
        func optionalOffset() throws -> UInt64? { has("offset") ? try offset() : nil }
        func epoch() throws -> StreamEpoch { StreamEpoch(try string("epoch")) }
        func optionalEpoch() throws -> StreamEpoch? { has("epoch") ? try epoch() : nil }
        func bool(_ key: String) throws -> Bool {
            guard let b = values[key] as? Bool else { throw VectorError(description: "\(vector): '\(key)' must be a boolean") }
            return b
        }
        /// A raw JSON value, given as its JSON text.
        func rawJSON(_ key: String) throws -> RawJSON {
            guard let v = RawJSON(validating: try string(key)) else { throw VectorError(description: "\(vector): '\(key)' is not JSON text") }
            return v
        }
        func id() throws -> RequestID? { has("id") ? RequestID(raw: try rawJSON("id")) : nil }
        func stream(_ key: String = "stream") throws -> StreamName { try StreamName.parse(try string(key)).get() }
        func optionalStream() throws -> StreamName? { has("stream") ? try stream() : nil }
        func object(_ key: String) throws -> Fields { try Fields(values[key], vector) }
        func list(_ key: String) throws -> [Fields] {
            guard let items = values[key] as? [Any] else { throw VectorError(description: "\(vector): '\(key)' must be an array") }
            return try items.map { try Fields($0, vector) }
        }
        func identity() throws -> Identity {
            guard let kind = Identity.Kind(rawValue: try string("kind")) else { throw VectorError(description: "\(vector): bad kind") }
            return Identity(id: try string("id"), name: try string("name"), kind: kind)
        }
        func members(_ key: String) throws -> [ServerMessage.Member] {
            try list(key).map { m in
                ServerMessage.Member(identity: try m.identity(), metas: try m.list("metas").map { ServerMessage.Meta(conn: try $0.string("conn"), state: try $0.rawJSON("state")) })
            }
        }
    }

    static func serverMessage(_ f: Fields) throws -> ServerMessage {
        if f.has("unknown") { return .unknown(type: try f.string("type")) }
        switch try f.string("type") {
        case "welcome":
            let limits = try f.object("limits")
            return .welcome(.init(
                protocolName: try f.string("protocol"), session: try f.string("session"), identity: try f.object("identity").identity(),
                limits: ProtocolLimits(maxMessageBytes: try limits.int("maxMessageBytes"), maxSubscriptions: try limits.int("maxSubscriptions"),
                                       maxStreamNameBytes: try limits.int("maxStreamNameBytes"), maxPresenceStateBytes: try limits.int("maxPresenceStateBytes")),
                heartbeatSeconds: try f.int("heartbeatSeconds")))
        case "ok":
            return .ok(.init(id: try f.id(), stream: try f.optionalStream(), epoch: try f.optionalEpoch(), offset: try f.optionalOffset()))
        case "error":
            return .error(ProtocolError(ErrorCode(rawValue: try f.string("code")), try f.string("message"), id: try f.id(), stream: try f.optionalStream()))
        case "event":
            return .event(.init(stream: try f.stream(), epoch: try f.epoch(), offset: try f.offset(), key: try f.optionalString("key"), data: try f.rawJSON("data")))
        case "recovered":
            return .recovered(.init(stream: try f.stream(), recovered: try f.bool("recovered"), epoch: try f.epoch(), offset: try f.offset()))
        case "presence":
            return .presence(.init(stream: try f.stream(), members: try f.members("members")))
        case "presence.diff":
            return .presenceDiff(.init(stream: try f.stream(), joins: try f.members("joins"), leaves: try f.members("leaves"), updates: try f.members("updates")))
        case "unsubscribed":
            return .unsubscribed(.init(stream: try f.stream(), code: ErrorCode(rawValue: try f.string("code")), message: try f.string("message")))
        case "snapshot":
            return .snapshot(.init(stream: try f.stream(), epoch: try f.epoch(), offset: try f.offset(), data: try f.rawJSON("data")))
        case let type:
            throw VectorError(description: "\(f.vector): unknown type \(type) without \"unknown\": true")
        }
    }

    static func clientRequest(_ f: Fields) throws -> ClientRequest {
        switch try f.string("type") {
        case "subscribe":
            let since = f.has("since") ? try f.object("since") : nil
            return .subscribe(.init(
                id: try f.id(), stream: try f.stream(),
                since: try since.map { StreamPosition(epoch: try $0.epoch(), offset: try $0.offset()) }, snapshot: try f.bool("snapshot")))
        case "unsubscribe": return .unsubscribe(.init(id: try f.id(), stream: try f.stream()))
        case "publish": return .publish(.init(id: try f.id(), stream: try f.stream(), data: try f.rawJSON("data"), key: try f.optionalString("key")))
        case "presence.set": return .presenceSet(.init(id: try f.id(), stream: try f.stream(), state: try f.rawJSON("state")))
        case "ping": return .ping(.init(id: try f.id()))
        case let type: throw VectorError(description: "\(f.vector): unknown request type \(type)")
        }
    }

    /// Replays one file; returns the types its vectors cover.
    static func replay<Value: Equatable>(
        _ file: String, meaningKey: String, value: (Fields) throws -> Value,
        decode: (ByteBuffer) -> Result<Value, ProtocolError>, encode: (Value) -> ByteBuffer, type: (Value) -> String
    ) throws -> Set<String> {
        let doc = try load(file)
        var types: Set<String> = []
        let vectors = try #require(doc["vectors"] as? [[String: Any]])
        for v in vectors {
            let name = try #require(v["name"] as? String)
            let wire = try #require(v["wire"] as? String)
            let expected = try value(try Fields(v[meaningKey], "\(file) \(name)"))
            types.insert(type(expected))
            let decoded = decode(ByteBuffer(string: wire))
            #expect(decoded == .success(expected), "\(file) \(name): \(decoded)")
            if v["canonical"] as? Bool != false {
                #expect(String(buffer: encode(expected)) == wire, "\(file) \(name): the encoder writes another text")
            }
        }
        let malformed = try #require(doc["malformed"] as? [[String: Any]])
        #expect(!malformed.isEmpty)
        for v in malformed {
            let name = try #require(v["name"] as? String)
            let wire = try #require(v["wire"] as? String)
            let code = ErrorCode(rawValue: try #require(v["error"] as? String))
            #expect(code.isKnown, "\(file) \(name): \(code) is not in ErrorCode.all")
            switch decode(ByteBuffer(string: wire)) {
            case .success(let value): Issue.record("\(file) \(name): decoded to \(value), expected \(code)")
            case .failure(let error): #expect(error.code == code, "\(file) \(name): \(error)")
            }
        }
        return types
    }

    @Test func serverMessages() throws {
        let types = try Self.replay(
            "server-messages.json", meaningKey: "message", value: Self.serverMessage, decode: { ServerMessage.decode($0) },
            encode: { $0.encoded }, type: { if case .unknown = $0 { "unknown" } else { $0.type } })
        #expect(types == ["welcome", "ok", "error", "event", "recovered", "presence", "presence.diff", "unsubscribed", "snapshot", "unknown"])
    }

    @Test func clientRequests() throws {
        let types = try Self.replay(
            "client-requests.json", meaningKey: "request", value: Self.clientRequest, decode: { ClientRequest.decode($0) },
            encode: { $0.encoded }, type: { $0.type })
        #expect(types == ["subscribe", "unsubscribe", "publish", "presence.set", "ping"])
    }
}
