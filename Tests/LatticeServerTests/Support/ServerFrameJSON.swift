import Foundation
import NIOCore

/// Reads what the server writes: an unmasked WebSocket text frame, as its JSON object.
enum ServerFrameJSON {
    /// The payload of one complete, unmasked frame (RFC 6455 section 5.2).
    static func payload(of frame: ByteBuffer) -> ByteBuffer {
        var buffer = frame
        let first = buffer.readInteger(as: UInt8.self) ?? 0
        precondition(first & 0x80 != 0, "a server frame here is always final")
        let second = buffer.readInteger(as: UInt8.self) ?? 0
        precondition(second & 0x80 == 0, "server frames are unmasked")
        var length = Int(second & 0x7f)
        if length == 126 {
            length = Int(buffer.readInteger(as: UInt16.self) ?? 0)
        } else if length == 127 {
            length = Int(buffer.readInteger(as: UInt64.self) ?? 0)
        }
        return buffer.readSlice(length: length) ?? ByteBuffer()
    }

    /// The frame's JSON text.
    static func text(of frame: ByteBuffer) -> String {
        String(buffer: payload(of: frame))
    }

    /// The JSON object of a text (fails the test run loudly if it is not one).
    static func object(_ text: String) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            preconditionFailure("not a JSON object: \(text)")
        }
        return object
    }
}

/// One server message, decoded for assertions.
struct Received: CustomStringConvertible {
    let text: String
    var object: [String: Any] { ServerFrameJSON.object(text) }
    var type: String { object["type"] as? String ?? "?" }
    var offset: Int? { (object["offset"] as? NSNumber)?.intValue }
    var stream: String? { object["stream"] as? String }
    var code: String? { object["code"] as? String }
    /// The `data` of an event or snapshot, as an object.
    var data: [String: Any] { object["data"] as? [String: Any] ?? [:] }
    var description: String { text }
}
