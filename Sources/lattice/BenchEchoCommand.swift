import ArgumentParser
import Foundation
import Histogram
import LatticeClient
import LatticeWebSocket
import NIOCore
import NIOPosix

struct BenchEchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Echo round trips per second and latency against a WebSocket echo server (e.g. lattice echo).")

    @Option(help: "Echo server address.") var url = "ws://127.0.0.1:9001/"
    @Option(help: "Concurrent connections.") var connections = 100
    @Option(help: "Payload bytes per message.") var size = 32
    @Option(help: "Messages in flight per connection (1 = strict ping-pong).") var pipeline = 1
    @Option(help: "Measured seconds.") var duration = 10.0
    @Option(help: "Seconds of load before measuring.") var warmup = 2.0
    @Option(help: "Client event-loop threads.") var threads = 1
    @Flag(help: "Send text messages instead of binary.") var text = false
    @Flag(help: "Offer permessage-deflate.") var deflate = false
    @Flag(help: "Print one JSON object as the last line.") var json = false

    func run() async throws {
        guard let target = WebSocketURL(url) else { throw ValidationError("--url must look like ws://host:port/path") }
        guard connections > 0, pipeline > 0, size >= 0, duration > 0 else { throw ValidationError("counts must be positive") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let options = WebSocketClientOptions(deflate: deflate)
        var payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
        payload = ByteBufferAllocator().buffer(buffer: payload)
        let message = WebSocketMessage(kind: text ? .text : .binary, data: payload)

        // Connect everyone first; the load starts together.
        // Handlers are not Sendable: each is reached on its channel's loop through NIOLoopBound.
        var handlers: [(any Channel, NIOLoopBound<EchoLoadHandler>)] = []
        for _ in 0..<connections {
            let (channel, _) = try await WebSocketClient.connect(to: target, options: options, on: group) { channel, _ in
                try channel.pipeline.syncOperations.addHandler(EchoLoadHandler(message: message, inFlight: pipeline))
            }.get()
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: EchoLoadHandler.self), eventLoop: channel.eventLoop)
            }.get()
            handlers.append((channel, handler))
        }

        let measureStart = NIODeadline.now() + .nanoseconds(Int64(warmup * 1e9))
        let measureEnd = measureStart + .nanoseconds(Int64(duration * 1e9))
        var recorders: [ObjectIdentifier: (any EventLoop, NIOLoopBound<LoadRecorder>)] = [:]
        for (channel, handler) in handlers {
            let loop = channel.eventLoop
            let key = ObjectIdentifier(loop)
            let recorder: NIOLoopBound<LoadRecorder>
            if let existing = recorders[key]?.1 {
                recorder = existing
            } else {
                recorder = try await loop.submit { NIOLoopBound(LoadRecorder(window: measureStart...measureEnd), eventLoop: loop) }.get()
            }
            recorders[key] = (loop, recorder)
            loop.execute { handler.value.start(recorder: recorder.value, stopAt: measureEnd) }
        }
        try await Task.sleep(nanoseconds: UInt64((warmup + duration) * 1e9) + 200_000_000)
        for (channel, _) in handlers {
            _ = try? await channel.writeAndFlush(WebSocketOutbound.close(.normalClosure, reason: "")).get()
        }
        for (channel, _) in handlers { try? await channel.closeFuture.get() }

        var merged = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var total: UInt64 = 0
        for (loop, recorder) in recorders.values {
            // Read each recorder on its own loop, after its connections are closed.
            let (histogram, count) = try await loop.submit { (recorder.value.histogram, recorder.value.count) }.get()
            merged.add(histogram)
            total += count
        }
        try await group.shutdownGracefully()
        let report = BenchReport(fields: [
            ("benchmark", "echo"),
            ("url", target.description),
            ("connections", connections),
            ("payload_bytes", size),
            ("in_flight_per_connection", pipeline),
            ("deflate", deflate),
            ("seconds", duration),
            ("round_trips", total),
            ("round_trips_per_second", Double(total) / duration),
        ] + BenchReport.latencyFields(merged))
        report.print(json: json)
    }
}

/// Keeps `inFlight` messages outstanding on one connection and records each round trip.
final class EchoLoadHandler: ChannelInboundHandler {
    // Event-loop confined.
    typealias InboundIn = WebSocketMessage
    typealias OutboundOut = WebSocketOutbound

    private let message: WebSocketMessage
    private let inFlight: Int
    private var sentAt: [NIODeadline] = []
    private var head = 0
    private var recorder: LoadRecorder?
    private var stopAt = NIODeadline.distantFuture
    private var context: ChannelHandlerContext?

    init(message: WebSocketMessage, inFlight: Int) {
        self.message = message
        self.inFlight = inFlight
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func start(recorder: LoadRecorder, stopAt: NIODeadline) {
        self.recorder = recorder
        self.stopAt = stopAt
        guard let context else { return }
        for _ in 0..<inFlight { send(context: context) }
        context.flush()
    }

    private func send(context: ChannelHandlerContext) {
        sentAt.append(.now())
        context.write(wrapOutboundOut(.message(message)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now()
        guard head < sentAt.count else { return }
        recorder?.record(start: sentAt[head], end: now)
        head += 1
        if head > 1024 {
            sentAt.removeFirst(head)
            head = 0
        }
        if now < stopAt { send(context: context) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}
