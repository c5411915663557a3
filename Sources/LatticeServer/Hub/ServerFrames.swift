import LatticeProtocol
import LatticeStreams
import LatticeWebSocket
import NIOCore

/// Server messages encoded once as complete WebSocket text frames (unmasked, uncompressed), so
/// one buffer can be written to any number of connections with `.encodedFrames`.
enum ServerFrames {
    static let allocator = ByteBufferAllocator()

    /// Encodes one JSON message with `body`, then frames it (one copy of the JSON, once).
    static func text(capacity: Int = 128, _ body: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var json = allocator.buffer(capacity: capacity)
        body(&json)
        return WebSocketFrameEncoder.encode(opcode: .text, payload: json, allocator: allocator)
    }

    static func event(stream: StreamName, epoch: StreamEpoch, offset: UInt64, data: RawJSON, key: String?) -> ByteBuffer {
        text(capacity: 96 + stream.name.utf8.count + data.bytes.readableBytes + (key?.utf8.count ?? 0)) { buffer in
            EventEncoder.encode(stream: stream, epoch: epoch, offset: offset, data: data, key: key, into: &buffer)
        }
    }

    static func ok(id: RequestID?, stream: StreamName? = nil, epoch: StreamEpoch? = nil, offset: UInt64? = nil) -> ByteBuffer {
        text { ServerMessage.ok(id: id, stream: stream, epoch: epoch, offset: offset, into: &$0) }
    }

    static func snapshot(stream: StreamName, epoch: StreamEpoch, offset: UInt64, data: RawJSON) -> ByteBuffer {
        text(capacity: 96 + stream.name.utf8.count + data.bytes.readableBytes) {
            ServerMessage.snapshot(stream: stream, epoch: epoch, offset: offset, data: data, into: &$0)
        }
    }

    static func error(_ error: ProtocolError) -> ByteBuffer {
        text { ServerMessage.error(error, into: &$0) }
    }

    static func unsubscribed(stream: StreamName, code: ErrorCode, message: String) -> ByteBuffer {
        text { ServerMessage.unsubscribed(stream: stream, code: code, message: message, into: &$0) }
    }

    static func recovered(stream: StreamName, recovered: Bool, epoch: StreamEpoch, offset: UInt64) -> ByteBuffer {
        text { ServerMessage.recovered(stream: stream, recovered: recovered, epoch: epoch, offset: offset, into: &$0) }
    }

    static func presence(stream: StreamName, members: [PresenceRecord], names: [String: String]) -> ByteBuffer {
        text(capacity: 256) { ServerMessage.presence(stream: stream, members: members.map { member($0, names) }, into: &$0) }
    }

    static func presenceDiff(stream: StreamName, joins: [PresenceRecord], leaves: [PresenceRecord], updates: [PresenceRecord],
                             names: [String: String]) -> ByteBuffer {
        text(capacity: 256) {
            ServerMessage.presenceDiff(stream: stream, joins: joins.map { member($0, names) }, leaves: leaves.map { member($0, names) },
                                       updates: updates.map { member($0, names) }, into: &$0)
        }
    }

    /// A presence member as the protocol shows it: its user id and display name.
    static func member(_ member: PresenceRecord, _ names: [String: String]) -> ServerMessage.Member {
        ServerMessage.Member(
            identity: Identity(id: member.identity, name: names[member.identity] ?? member.identity,
                               kind: member.kind),
            metas: member.metas.map { ServerMessage.Meta(conn: sessionString($0.conn.rawValue), state: RawJSON(trusted: $0.state)) })
    }

    /// A session id as 16 lowercase hex digits (the `session` of `welcome`, the `conn` of presence).
    static func sessionString(_ id: UInt64) -> String {
        let hex = String(id, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
