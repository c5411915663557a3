import NIOHTTP1
import ArgumentParser
import Foundation
import Histogram
import LatticeClient
import LatticeProtocol
import LatticeWebSocket
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct BenchFanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "Fan-out throughput and publish→delivery latency of a lattice.v1 channel (lattice serve).",
        discussion: """
            N subscriber connections subscribe to one channel stream; P publisher connections \
            publish events of --size bytes carrying their send time, at --rate events/s in total \
            (or `max`: each publisher keeps --in-flight publishes unacknowledged). Latency is \
            publish→delivery on one clock (everything runs in this process). The delivery ratio is \
            delivered / (published × subscribers), counted after a drain period.
            """)

    @Option(help: "Server WebSocket address.") var url = "ws://127.0.0.1:8080/ws"
    @Option(help: "Subscriber connections.") var subscribers = 100
    @Option(help: "Publisher connections.") var publishers = 1
    @Option(help: "Bytes of each event's data (at least ~32).") var size = 64
    @Option(help: "Events per second in total, or `max`.") var rate = "1000"
    @Option(help: "Measured seconds of publishing.") var duration = 10.0
    @Option(help: "Channel stream to use.") var stream = "channel/demo/fanout"
    @OptionGroup var auth: TokenOption
    @Option(help: "Client event-loop threads.") var threads = 1
    @Option(help: "Unacknowledged publishes allowed per publisher.") var inFlight = 128
    @Option(help: "Subscriber connections opened in parallel per batch.") var connectBatch = 250
    @Option(help: "Seconds to wait for the last deliveries after publishing stops.") var drain = 10.0
    @Flag(help: "Print one JSON object as the last line.") var json = false

    func run() async throws {
        guard let target = WebSocketURL(url) else { throw ValidationError("--url must look like ws://host:port/ws") }
        guard subscribers > 0, publishers > 0, size >= 0, duration > 0, threads > 0, inFlight > 0, connectBatch > 0 else {
            throw ValidationError("counts must be positive")
        }
        let totalRate: Double?
        if rate == "max" {
            totalRate = nil
        } else {
            guard let r = Double(rate), r > 0 else { throw ValidationError("--rate must be a positive number or `max`") }
            totalRate = r
        }
        raiseFileLimit(to: UInt64(subscribers + publishers) * 2 + 256)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let options = WebSocketClientOptions(headers: ["Authorization": "Bearer \(try auth.resolved())"], subprotocols: ["lattice.v1"])
        guard case .success(let streamName) = StreamName.parse(stream) else { throw ValidationError("\(stream) is not a stream name") }
        let subscribeText = String(buffer: ClientRequest.subscribe(.init(id: RequestID(1), stream: streamName)).encoded)

        // Subscribers: in parallel batches; each is ready once its subscribe is acknowledged.
        let connectStart = NIODeadline.now()
        // Handlers are not Sendable: each is reached on its channel's loop through NIOLoopBound.
        var subs: [(any Channel, NIOLoopBound<FanoutSubscriber>)] = []
        subs.reserveCapacity(subscribers)
        var next = 0
        while next < subscribers {
            let batch = min(connectBatch, subscribers - next)
            var futures: [EventLoopFuture<(any Channel, NIOLoopBound<FanoutSubscriber>)>] = []
            for _ in 0..<batch {
                let connected = WebSocketClient.connect(to: target, options: options, on: group) { channel, _ in
                    try channel.pipeline.syncOperations.addHandler(
                        FanoutSubscriber(subscribeText: subscribeText, subscribed: channel.eventLoop.makePromise()))
                }
                futures.append(connected.flatMap { channel, _ in
                    // On the channel's loop (the connect future completes there).
                    let handler: FanoutSubscriber
                    do {
                        handler = try channel.pipeline.syncOperations.handler(type: FanoutSubscriber.self)
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                    let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
                    // After the current read: the HTTP decoder leaves the pipeline when its decode loop ends.
                    channel.eventLoop.execute { bound.value.sendSubscribe() }
                    return handler.subscribed.futureResult.map { (channel, bound) }
                })
            }
            for f in futures {
                do {
                    subs.append(try await f.get())
                } catch {
                    for (c, _) in subs { c.close(promise: nil) }
                    try? await group.shutdownGracefully()
                    printError("lattice bench fanout: subscriber \(subs.count + 1) failed: \(error)")
                    throw ExitCode(1)
                }
            }
            next += batch
        }
        let connectSeconds = Double((NIODeadline.now() - connectStart).nanoseconds) / 1e9

        var pubs: [(any Channel, NIOLoopBound<FanoutPublisher>)] = []
        let perPublisherRate = totalRate.map { $0 / Double(publishers) }
        for _ in 0..<publishers {
            let (channel, _) = try await WebSocketClient.connect(to: target, options: options, on: group) { channel, _ in
                try channel.pipeline.syncOperations.addHandler(
                    FanoutPublisher(stream: stream, size: size, rate: perPublisherRate, maxInFlight: inFlight))
            }.get()
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: FanoutPublisher.self), eventLoop: channel.eventLoop)
            }.get()
            pubs.append((channel, handler))
        }

        // One recorder per event loop; handlers only touch their own loop's recorder.
        let start = NIODeadline.now() + .milliseconds(100)
        let stopAt = start + .nanoseconds(Int64(duration * 1e9))
        var recorders: [ObjectIdentifier: (any EventLoop, NIOLoopBound<LoadRecorder>)] = [:]
        for (channel, handler) in subs {
            let loop = channel.eventLoop
            let key = ObjectIdentifier(loop)
            let recorder: NIOLoopBound<LoadRecorder>
            if let existing = recorders[key]?.1 {
                recorder = existing
            } else {
                recorder = try await loop.submit { NIOLoopBound(LoadRecorder(window: start...NIODeadline.distantFuture), eventLoop: loop) }.get()
            }
            recorders[key] = (loop, recorder)
            loop.execute { handler.value.recorder = recorder.value }
        }
        // Make sure every subscriber has its recorder before the first publish.
        for (loop, _) in recorders.values { try await loop.submit {}.get() }
        for (channel, handler) in pubs {
            channel.eventLoop.execute { handler.value.start(at: start, stopAt: stopAt) }
        }
        try await Task.sleep(nanoseconds: UInt64(max(0, (stopAt - NIODeadline.now()).nanoseconds)))

        // Drain: wait for the last acks, then the last deliveries.
        func publisherTotals() async throws -> (acked: UInt64, errors: UInt64, inFlight: Int) {
            var acked: UInt64 = 0, errors: UInt64 = 0, inFlight = 0
            for (channel, handler) in pubs {
                let t = try await channel.eventLoop.submit { (handler.value.acked, handler.value.errors, handler.value.inFlight) }.get()
                acked += t.0; errors += t.1; inFlight += t.2
            }
            return (acked, errors, inFlight)
        }
        func ackHistogram() async throws -> Histogram<UInt64> {
            var merged = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            for (channel, handler) in pubs { merged.add(try await channel.eventLoop.submit { handler.value.ackLatency }.get()) }
            return merged
        }
        func deliveredTotal() async throws -> UInt64 {
            var total: UInt64 = 0
            for (loop, recorder) in recorders.values { total += try await loop.submit { recorder.value.count }.get() }
            return total
        }
        let drainUntil = NIODeadline.now() + .nanoseconds(Int64(drain * 1e9))
        var totals = try await publisherTotals()
        while totals.inFlight > 0 && NIODeadline.now() < drainUntil {
            try await Task.sleep(nanoseconds: 20_000_000)
            totals = try await publisherTotals()
        }
        let expected = totals.acked * UInt64(subscribers)
        while try await deliveredTotal() < expected && NIODeadline.now() < drainUntil {
            try await Task.sleep(nanoseconds: 20_000_000)
        }

        var merged = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var delivered: UInt64 = 0
        var parseErrors: UInt64 = 0
        for (loop, recorder) in recorders.values {
            let (histogram, count, errors) = try await loop.submit {
                (recorder.value.histogram, recorder.value.count, recorder.value.errors)
            }.get()
            merged.add(histogram)
            delivered += count
            parseErrors += errors
        }
        let acks = try await ackHistogram()
        let subscribersClosed = subs.filter { !$0.0.isActive }.count
        let channels = subs.map { $0.0 } + pubs.map { $0.0 }
        for channel in channels {
            channel.writeAndFlush(WebSocketOutbound.close(.normalClosure, reason: ""), promise: nil)
        }
        for channel in channels {
            let timer = channel.eventLoop.scheduleTask(in: TimeAmount.seconds(2)) { channel.close(promise: nil) }
            try? await channel.closeFuture.get()
            timer.cancel()
        }
        try? await group.shutdownGracefully()

        let ratio = expected == 0 ? 0 : Double(delivered) / Double(expected)
        let report = BenchReport(fields: [
            ("benchmark", "fanout"),
            ("url", target.description),
            ("stream", stream),
            ("subscribers", subscribers),
            ("publishers", publishers),
            ("size_bytes", size),
            ("rate", totalRate.map { $0 as Any } ?? "max"),
            ("in_flight_per_publisher", inFlight),
            ("threads", threads),
            ("seconds", duration),
            ("connect_seconds", connectSeconds),
            ("published", totals.acked),
            ("publish_errors", totals.errors),
            ("delivered", delivered),
            ("subscribers_closed", subscribersClosed),
            ("unparsed_events", parseErrors),
            ("published_per_second", Double(totals.acked) / duration),
            ("delivered_per_second", Double(delivered) / duration),
            ("delivery_ratio", ratio),
        ] + BenchReport.latencyFields(merged) + BenchReport.latencyFields(acks, prefix: "ack_latency")
          + RateShortfall.fields(requested: totalRate, published: totals.acked, seconds: duration))
        report.print(json: json)
        if !json, let line = RateShortfall.judge(requested: totalRate, published: totals.acked, seconds: duration)?.line {
            printLine(line)
        }
    }

    private func raiseFileLimit(to wanted: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let target = min(UInt64(limit.rlim_max), max(UInt64(limit.rlim_cur), wanted))
        guard target > UInt64(limit.rlim_cur) else { return }
        limit.rlim_cur = rlim_t(target)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

/// Whether the load generator reached the requested `--rate`: a run that published below
/// `threshold` (95 %) of it measured a smaller load than asked for, and says so.
struct RateShortfall: Equatable {
    static let threshold = 0.95
    let requested: Double
    let reached: Double

    /// The shortfall of a run that published `published` acknowledged events in `seconds` at
    /// `requested` events/s, or nil when it reached at least 95 % of it (or the rate was `max`).
    static func judge(requested: Double?, published: UInt64, seconds: Double) -> RateShortfall? {
        guard let requested, requested > 0, seconds > 0 else { return nil }
        let reached = Double(published) / seconds
        return reached < requested * threshold ? RateShortfall(requested: requested, reached: reached) : nil
    }

    /// `rate: requested 50000/s, reached 31200/s — below the requested rate (the publishers and the server together could not sustain it)`.
    var line: String {
        "rate: requested \(Int(requested.rounded()))/s, reached \(Int(reached.rounded()))/s — below the requested rate (the publishers and the server together could not sustain it)"
    }

    /// `rate_reached` (true, false, or "max" when no rate was requested) and, when short, `rate_shortfall`.
    static func fields(requested: Double?, published: UInt64, seconds: Double) -> [(String, Any)] {
        guard requested != nil else { return [("rate_reached", "max")] }
        if let short = judge(requested: requested, published: published, seconds: seconds) {
            return [("rate_reached", false), ("rate_shortfall", short.line)]
        }
        return [("rate_reached", true)]
    }
}

/// Finds `"t":` in an event and returns the number after it (the publisher's send time), by a byte scan.
@inline(__always)
func scanSendTime(_ buffer: ByteBuffer) -> UInt64? {
    buffer.withUnsafeReadableBytes { raw -> UInt64? in
        let n = raw.count
        var i = 0
        while i + 4 < n {
            if raw[i] == UInt8(ascii: "\""), raw[i + 1] == UInt8(ascii: "t"), raw[i + 2] == UInt8(ascii: "\""),
               raw[i + 3] == UInt8(ascii: ":") {
                var j = i + 4
                var value: UInt64 = 0
                var digits = 0
                while j < n, raw[j] >= UInt8(ascii: "0"), raw[j] <= UInt8(ascii: "9") {
                    value = value &* 10 &+ UInt64(raw[j] &- UInt8(ascii: "0"))
                    j += 1
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            i += 1
        }
        return nil
    }
}

/// True when `buffer` starts with `{"type":"<type>"`, the server's encoding of every message.
@inline(__always)
func hasTypePrefix(_ buffer: ByteBuffer, _ prefix: StaticString) -> Bool {
    guard buffer.readableBytes >= prefix.utf8CodeUnitCount else { return false }
    return buffer.withUnsafeReadableBytes { raw in
        prefix.withUTF8Buffer { p in memcmp(raw.baseAddress!, p.baseAddress!, p.count) == 0 }
    }
}

/// One subscriber: subscribes on start, then records each event's publish→delivery latency.
final class FanoutSubscriber: ChannelInboundHandler {
    // Event-loop confined.
    typealias InboundIn = WebSocketMessage
    typealias OutboundOut = WebSocketOutbound

    let subscribed: EventLoopPromise<Void>
    private let subscribeText: String
    private var isSubscribed = false
    var recorder: LoadRecorder?

    init(subscribeText: String, subscribed: EventLoopPromise<Void>) {
        self.subscribeText = subscribeText
        self.subscribed = subscribed
    }

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Sends the subscribe; call on the channel's loop once the handshake has finished
    /// (the HTTP handlers are gone).
    func sendSubscribe() {
        guard let context else {
            if !isSubscribed {
                isSubscribed = true
                subscribed.fail(FanoutError(description: "connection closed before subscribing"))
            }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.message(.text(subscribeText))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        if hasTypePrefix(message.data, "{\"type\":\"event\"") {
            guard let recorder else { return }
            guard let t = scanSendTime(message.data) else {
                recorder.errors += 1
                return
            }
            recorder.record(start: NIODeadline.uptimeNanoseconds(t), end: .now())
        } else if !isSubscribed {
            if hasTypePrefix(message.data, "{\"type\":\"ok\"") {
                isSubscribed = true
                subscribed.succeed()
            } else if hasTypePrefix(message.data, "{\"type\":\"error\"") {
                isSubscribed = true
                subscribed.fail(FanoutError(description: "subscribe refused: \(message.text)"))
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !isSubscribed {
            isSubscribed = true
            subscribed.fail(FanoutError(description: "connection closed before the subscribe was answered"))
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        if !isSubscribed {
            isSubscribed = true
            subscribed.fail(FanoutError(description: "connection closed before the subscribe was answered"))
        }
    }
}

struct FanoutError: Error, CustomStringConvertible {
    let description: String
}

/// One publisher: publishes at its share of the rate (a 1 ms timer tops up what is due),
/// or as fast as acks allow, never with more than `maxInFlight` unacknowledged.
final class FanoutPublisher: ChannelInboundHandler {
    // Event-loop confined.
    typealias InboundIn = WebSocketMessage
    typealias OutboundOut = WebSocketOutbound

    private let prefix: String
    private let size: Int
    private let rate: Double?
    private let maxInFlight: Int
    private var context: ChannelHandlerContext?
    private var timer: RepeatedTask?
    private var startAt = NIODeadline.distantFuture
    private var stopAt = NIODeadline.distantPast
    private var nextID = 0
    private(set) var sent: UInt64 = 0
    private(set) var acked: UInt64 = 0
    private(set) var errors: UInt64 = 0
    private(set) var inFlight = 0
    /// Send times of the publishes not answered yet, oldest first: the server answers each
    /// connection's requests in order, so an answer belongs to the oldest.
    private var sendTimes: [UInt64] = []
    private var sendHead = 0
    /// Publish → `ok` latency in microseconds (for durable streams: includes the commit).
    private(set) var ackLatency = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000,
                                                     numberOfSignificantValueDigits: .three)

    init(stream: String, size: Int, rate: Double?, maxInFlight: Int) {
        // The publish requests are written from this template (the bench's own hot path).
        self.prefix = "\",\"stream\":\(RawJSON(string: stream).text),\"data\":{\"t\":"
        self.size = size
        self.rate = rate
        self.maxInFlight = maxInFlight
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        timer?.cancel()
    }

    func start(at start: NIODeadline, stopAt: NIODeadline) {
        guard let context else { return }
        self.startAt = start
        self.stopAt = stopAt
        // The task runs on this loop; handlerRemoved cancels it, so holding the handler is fine.
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: max(.zero, start - .now()), delay: .milliseconds(1)) { task in
            bound.value.tick(task)
        }
    }

    private func tick(_ task: RepeatedTask) {
        guard let context else { task.cancel(); return }
        let now = NIODeadline.now()
        if now >= stopAt {
            task.cancel()
            return
        }
        var due: Int
        if let rate {
            let elapsed = Double((now - startAt).nanoseconds) / 1e9
            due = Int(elapsed * rate) + 1 - Int(sent)
        } else {
            due = maxInFlight
        }
        due = min(due, maxInFlight - inFlight)
        guard due > 0 else { return }
        for _ in 0..<due { publish(context: context, now: now) }
        context.flush()
    }

    private func publish(context: ChannelHandlerContext, now: NIODeadline) {
        nextID += 1
        let t = String(now.uptimeNanoseconds)
        var buffer = context.channel.allocator.buffer(capacity: size + prefix.utf8.count + 48)
        buffer.writeString("{\"type\":\"publish\",\"id\":\"")
        buffer.writeString(String(nextID))
        buffer.writeString(prefix)
        buffer.writeString(t)
        buffer.writeString(",\"p\":\"")
        let pad = max(0, size - 13 - t.utf8.count)
        buffer.writeRepeatingByte(UInt8(ascii: "x"), count: pad)
        buffer.writeString("\"}}")
        sent += 1
        inFlight += 1
        sendTimes.append(now.uptimeNanoseconds)
        context.write(wrapOutboundOut(.message(WebSocketMessage(kind: .text, data: buffer))), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        if hasTypePrefix(message.data, "{\"type\":\"ok\"") {
            acked += 1
        } else if hasTypePrefix(message.data, "{\"type\":\"error\"") {
            errors += 1
        } else {
            return
        }
        inFlight -= 1
        if sendHead < sendTimes.count {
            let now = NIODeadline.now()
            let sentAt = sendTimes[sendHead]
            sendHead += 1
            if sendHead == sendTimes.count {
                sendTimes.removeAll(keepingCapacity: true)
                sendHead = 0
            }
            if now >= startAt { ackLatency.record(max(1, (now.uptimeNanoseconds &- sentAt) / 1000)) }
        }
        if rate == nil {
            let now = NIODeadline.now()
            if now >= startAt && now < stopAt {
                publish(context: context, now: now)
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}
