import NIOCore
import NIOHTTP1

/// Answers plain HTTP requests (the ones that are not WebSocket upgrades).
final class PlainHTTPHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    enum Routes: Sendable {
        /// `lattice echo`: every plain request is told to upgrade.
        case upgradeOnly
    }

    private let routes: Routes

    init(routes: Routes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let keepAlive = head.isKeepAlive
        let response = respond(to: head)
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))),
                      promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private struct Response {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer

        static func text(_ status: HTTPResponseStatus, _ text: String, headers: HTTPHeaders = [:]) -> Response {
            var headers = headers
            headers.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=utf-8")
            return Response(status: status, headers: headers, body: ByteBuffer(string: text + "\n"))
        }
    }

    private func respond(to head: HTTPRequestHead) -> Response {
        let upgradeRequired = Response.text(.upgradeRequired, "this endpoint speaks WebSocket; send an upgrade request",
                                            headers: ["Upgrade": "websocket", "Sec-WebSocket-Version": "13"])
        switch routes {
        case .upgradeOnly:
            return upgradeRequired
        }
    }
}
