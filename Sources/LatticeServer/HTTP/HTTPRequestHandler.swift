import NIOCore
import NIOHTTP1

/// Answers the plain HTTP requests (everything that is not a WebSocket upgrade) of
/// `lattice serve` and `lattice echo` with an `HTTPRouteTable`: collects the head and the body
/// (up to `maxBodyBytes`, 413 beyond), answers on the channel's event loop, and keeps the
/// connection alive when the client asks. Task routes run in a `Task`; the answer comes back to
/// the loop through a future, so the loop never waits. Pipelined requests are answered in
/// order: parts that arrive while an answer is pending are queued.
///
/// One instance per connection, touched only on its channel's loop.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: HTTPRouteTable

    private enum State {
        case idle
        /// Collecting the body of a request `decide` sent to a task.
        case collecting(HTTPRequestHead, [UInt8], @Sendable (HTTPRequest) async -> HTTPResponse)
        /// An immediate answer is known; the rest of the request is ignored until its end.
        case discarding(HTTPRequestHead, HTTPResponse)
        /// An answer is being computed or written; new parts wait in `queued`.
        case responding
        /// The body was too large: 413 sent, the connection closes.
        case closing
    }

    private var state = State.idle
    private var queued: [HTTPServerRequestPart] = []

    init(routes: HTTPRouteTable) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handle(context: context, part: unwrapInboundIn(data))
    }

    private func handle(context: ChannelHandlerContext, part: HTTPServerRequestPart) {
        switch (state, part) {
        case (.closing, _):
            return
        case (.responding, _):
            queued.append(part)
        case (.idle, .head(let head)):
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > routes.maxBodyBytes {
                tooLarge(context: context, head: head)
                return
            }
            switch routes.decide(head, remoteAddress: context.channel.remoteAddress?.ipAddress) {
            case .now(let response): state = .discarding(head, response)
            case .task(let answer): state = .collecting(head, [], answer)
            }
        case (.idle, _):
            return  // stray body or end: ignore
        case (.collecting(let head, var body, let answer), .body(var chunk)):
            guard body.count + chunk.readableBytes <= routes.maxBodyBytes else {
                tooLarge(context: context, head: head)
                return
            }
            state = .idle  // drop the reference so the append does not copy
            body.append(contentsOf: chunk.readBytes(length: chunk.readableBytes) ?? [])
            state = .collecting(head, body, answer)
        case (.collecting(let head, let body, let answer), .end):
            state = .responding
            let request = HTTPRequest(head: head, body: body, remoteAddress: context.channel.remoteAddress?.ipAddress)
            context.eventLoop.makeFutureWithTask { await answer(request) }
                .assumeIsolated().whenSuccess { response in
                    self.write(context: context, head: head, response: response)
                }
        case (.collecting, .head):
            return  // cannot happen with a well-behaved decoder
        case (.discarding(let head, let response), .end):
            state = .responding
            write(context: context, head: head, response: response)
        case (.discarding, _):
            return
        }
    }

    private func tooLarge(context: ChannelHandlerContext, head: HTTPRequestHead) {
        state = .responding
        var response = HTTPResponse.error(.payloadTooLarge("the request body is over \(routes.maxBodyBytes) bytes"))
        response.headers.replaceOrAdd(name: "Connection", value: "close")
        write(context: context, head: head, response: response, forceClose: true)
    }

    private func write(context: ChannelHandlerContext, head: HTTPRequestHead, response: HTTPResponse, forceClose: Bool = false) {
        let keepAlive = head.isKeepAlive && !forceClose
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))),
                      promise: nil)
        if head.method != .HEAD && response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            state = .closing
            queued.removeAll()
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        state = .idle
        // Parts that arrived meanwhile, in order, until an answer has to be waited for again.
        while !queued.isEmpty {
            switch state {
            case .responding, .closing: return
            case .idle, .collecting, .discarding: handle(context: context, part: queued.removeFirst())
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if case .responding = state { return }  // an answer is on its way
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// A handler of one connection lives on that connection's event loop.
@available(*, unavailable)
extension HTTPRequestHandler: Sendable {}
