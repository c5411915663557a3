import LatticeProtocol
import NIOCore

@testable import LatticeStreams

/// `ms` milliseconds on the test's monotonic clock.
func at(_ ms: Int) -> NIODeadline { .uptimeNanoseconds(UInt64(ms) * 1_000_000) }

/// A payload of `size` bytes whose content names it.
func bytes(_ size: Int, fill: UInt8 = 0x61) -> ByteBuffer {
    ByteBuffer(bytes: [UInt8](repeating: fill, count: size))
}

func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

func event(_ offset: UInt64, size: Int = 10, key: String? = nil, ms: Int = 0) -> StreamEvent {
    StreamEvent(offset: offset, payload: bytes(size), key: key, timestamp: at(ms))
}

func offsets(_ read: HistoryRead) -> [UInt64]? {
    if case .events(let events) = read { return events.map(\.offset) }
    return nil
}

func isUnavailable(_ read: HistoryRead) -> Bool {
    if case .unavailable = read { return true }
    return false
}

/// What a flow output means, in a comparable form.
enum Out: Equatable, CustomStringConvertible {
    case event(UInt64)
    case gap(FlowGap)
    case close(UInt16, String)
    case fetch(ClosedRange<UInt64>)

    init(_ output: FlowOutput) {
        switch output {
        case .event(let e): self = .event(e.offset)
        case .gap(let g): self = .gap(g)
        case .close(let c): self = .close(c.code, c.reason)
        case .fetch(let r): self = .fetch(r)
        }
    }

    var description: String {
        switch self {
        case .event(let o): "event(\(o))"
        case .gap(let g): "gap(\(g.reason), \(g.lastDelivered)->\(g.resumesAfter))"
        case .close(let code, let reason): "close(\(code) \(reason))"
        case .fetch(let r): "fetch(\(r))"
        }
    }
}

func outs(_ drain: FlowDrain) -> [Out] { drain.outputs.map(Out.init) }

extension AttachResult {
    var attachment: Attachment? {
        if case .attached(let a) = self { return a }
        return nil
    }
}

/// Collects what `publish` delivers.
final class Deliveries {
    var items: [(SubscriberID, Out)] = []
    func callAsFunction(_ id: SubscriberID, _ output: FlowOutput) { items.append((id, Out(output))) }
    func to(_ id: SubscriberID) -> [Out] { items.filter { $0.0 == id }.map(\.1) }
}

/// A small deterministic generator for the property tests' operation sequences.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let s1 = SubscriberID(1)
let s2 = SubscriberID(2)
let s3 = SubscriberID(3)
let epochA = StreamEpoch("00000000000000aa")
let epochB = StreamEpoch("00000000000000bb")
