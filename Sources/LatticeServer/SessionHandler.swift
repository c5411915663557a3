import Foundation
import NIOCore
import LatticeWebSocket

/// One `lattice.v1` session on `/ws`. This first version greets the client and
/// answers `ping`; every other request gets a clear `error` (the streams,
/// documents and runs arrive with their issues). See docs/protocol.md.
final class SessionHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = WebSocketMessage
    typealias OutboundOut = WebSocketOutbound

    private let subprotocol: String?
    private let sessionID = UInt64.random(in: 1...UInt64.max)

    init(subprotocol: String?) {
        self.subprotocol = subprotocol
    }

    func handlerAdded(context: ChannelHandlerContext) {
        send(context: context, [
            "type": "welcome",
            "protocol": subprotocol ?? LatticeHTTPServer.subprotocol,
            "session": String(sessionID, radix: 16),
        ])
        context.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        guard message.kind == .text else {
            return reply(context: context, id: nil, error: "unsupported_encoding", "lattice.v1 requests are JSON text messages")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(message.data.readableBytesView)) as? [String: Any] else {
            return reply(context: context, id: nil, error: "bad_json", "the message is not a JSON object")
        }
        let id = object["id"]
        guard let type = object["type"] as? String else {
            return reply(context: context, id: id, error: "missing_field", "field 'type' (string) is required")
        }
        switch type {
        case "ping":
            var ok: [String: Any] = ["type": "ok"]
            if let id { ok["id"] = id }
            send(context: context, ok)
        default:
            reply(context: context, id: id, error: "unknown_type", "unknown request type '\(type)'")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    private func reply(context: ChannelHandlerContext, id: Any?, error code: String, _ text: String) {
        var object: [String: Any] = ["type": "error", "code": code, "message": text]
        if let id { object["id"] = id }
        send(context: context, object)
    }

    private func send(context: ChannelHandlerContext, _ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        context.write(wrapOutboundOut(.message(WebSocketMessage(kind: .text, data: ByteBuffer(bytes: data)))), promise: nil)
    }
}
