import NIOCore
import Testing

@testable import LatticeWebSocket

/// A frame as the tests compare it: plain values, payload copied out of the parser's buffer.
struct SeenFrame: Equatable, CustomStringConvertible {
    var fin: Bool
    var rsv1: Bool
    var opcode: UInt8
    var payload: [UInt8]

    init(fin: Bool = true, rsv1: Bool = false, opcode: WebSocketOpcode, payload: [UInt8]) {
        self.fin = fin
        self.rsv1 = rsv1
        self.opcode = opcode.rawValue
        self.payload = payload
    }

    init(_ frame: WebSocketFrame) {
        self.init(fin: frame.fin, rsv1: frame.rsv1, opcode: frame.opcode, payload: Array(buffer: frame.payload))
    }

    var description: String {
        "Frame(fin: \(fin), rsv1: \(rsv1), opcode: \(opcode), \(payload.count) bytes)"
    }
}

/// How a test writes a frame on the wire, independently of `WebSocketFrameEncoder`
/// (so that non-minimal lengths and other malformed headers can be made too).
struct WireFrame {
    enum LengthForm { case minimal, sixteen, sixtyFour }
    var fin = true
    /// RSV bits as they sit in the first byte (0x40, 0x20, 0x10).
    var rsv: UInt8 = 0
    var opcode: UInt8
    var payload: [UInt8]
    var mask: [UInt8]? = nil
    var lengthForm: LengthForm = .minimal
    /// Overrides the length written in the header (the payload is written as is).
    var declaredLength: UInt64? = nil

    var bytes: [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | rsv | (opcode & 0x0F)]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        let length = declaredLength ?? UInt64(payload.count)
        var form = lengthForm
        if form == .minimal { form = length < 126 ? .minimal : (length <= 0xFFFF ? .sixteen : .sixtyFour) }
        switch form {
        case .minimal:
            out.append(maskBit | UInt8(length))
        case .sixteen:
            out.append(maskBit | 126)
            out.append(UInt8(truncatingIfNeeded: length >> 8))
            out.append(UInt8(truncatingIfNeeded: length))
        case .sixtyFour:
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        }
        if let mask {
            out += mask
            out += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        } else {
            out += payload
        }
        return out
    }

    var expected: SeenFrame {
        SeenFrame(fin: fin, rsv1: rsv & 0x40 != 0, opcode: WebSocketOpcode(rawValue: opcode), payload: payload)
    }
}

/// Deterministic generator for test data that need not shrink (SplitMix64).
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

func randomBytes(_ count: Int, using rng: inout some RandomNumberGenerator) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(count + 8)
    while out.count < count {
        var word = rng.next()
        for _ in 0..<8 where out.count < count {
            out.append(UInt8(truncatingIfNeeded: word))
            word >>= 8
        }
    }
    return out
}

/// Splits `count` bytes into chunk lengths: mostly small, sometimes large.
func randomChunking(_ count: Int, using rng: inout some RandomNumberGenerator) -> [Int] {
    var chunks: [Int] = []
    var left = count
    while left > 0 {
        let size: Int
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: size = 1
        case 1: size = Int.random(in: 1...16, using: &rng)
        case 2: size = Int.random(in: 1...300, using: &rng)
        default: size = Int.random(in: 1...max(1, count / 2), using: &rng)
        }
        let n = min(size, left)
        chunks.append(n)
        left -= n
    }
    return chunks
}

/// Everything one byte stream produced.
struct ParseOutcome: Equatable {
    var frames: [SeenFrame] = []
    var error: WebSocketProtocolError? = nil
}

/// Feeds `stream` to a fresh parser in the given chunks, the way the protocol
/// handler does (one cumulation buffer, new bytes appended), and records the
/// frames and the first error. Checks the `.partialPayload` contract on the way:
/// partial bytes of a frame, concatenated, are a prefix of its final payload,
/// reported in order, with the same header.
func parse(
    _ stream: [UInt8], chunks: [Int], role: WebSocketFrameParser.Role,
    maxFrameSize: Int = 16 << 20, allowedReservedBits: UInt8 = 0,
    sourceLocation: SourceLocation = #_sourceLocation
) -> ParseOutcome {
    var parser = WebSocketFrameParser(role: role, maxFrameSize: maxFrameSize, allowedReservedBits: allowedReservedBits)
    var buffer = ByteBufferAllocator().buffer(capacity: 0)
    var outcome = ParseOutcome()
    var partialHeader: WebSocketFrameHeader? = nil
    var partialBytes: [UInt8] = []
    var position = 0
    for chunk in chunks {
        buffer.writeBytes(stream[position..<(position + chunk)])
        position += chunk
        do {
            try parser.parse(&buffer) { event in
                switch event {
                case .frame(let frame):
                    let seen = SeenFrame(frame)
                    if partialHeader != nil {
                        #expect(Array(seen.payload.prefix(partialBytes.count)) == partialBytes,
                                "partial payloads are not a prefix of the payload", sourceLocation: sourceLocation)
                        #expect(partialHeader!.opcode.rawValue == seen.opcode && partialHeader!.fin == seen.fin,
                                sourceLocation: sourceLocation)
                        #expect(partialHeader!.payloadLength == seen.payload.count, sourceLocation: sourceLocation)
                    }
                    partialHeader = nil
                    partialBytes = []
                    outcome.frames.append(seen)
                case .partialPayload(let header, let bytes):
                    #expect(bytes.readableBytes > 0, "empty partial payload", sourceLocation: sourceLocation)
                    if let previous = partialHeader {
                        #expect(previous == header, sourceLocation: sourceLocation)
                    }
                    partialHeader = header
                    partialBytes += Array(buffer: bytes)
                    #expect(partialBytes.count < header.payloadLength, sourceLocation: sourceLocation)
                }
            }
        } catch let error as WebSocketProtocolError {
            outcome.error = error
            return outcome
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            return outcome
        }
    }
    #expect(position == stream.count, sourceLocation: sourceLocation)
    return outcome
}

/// Every chunking a test tries for a stream: whole, every two-way split, every
/// three-way split of short streams, byte by byte, and seeded random chunkings.
/// Long streams get every split point in their first and last 300 bytes, and
/// then every 61st.
func chunkings(for count: Int, seed: UInt64 = 1, random: Int = 16) -> [[Int]] {
    var result: [[Int]] = [[count]]
    for k in 0...count {
        if count > 1000 && k > 300 && k < count - 300 && k % 61 != 0 { continue }
        result.append([k, count - k])
    }
    if count <= 48 {
        for i in 1..<max(1, count) {
            for j in (i + 1)..<max(i + 1, count) {
                result.append([i, j - i, count - j])
            }
        }
    }
    result.append(Array(repeating: 1, count: count))
    var rng = SplitMix(seed: seed)
    for _ in 0..<random { result.append(randomChunking(count, using: &rng)) }
    return result
}

extension Array where Element == UInt8 {
    init(hex: String) {
        let digits = hex.utf8.filter { $0 != UInt8(ascii: " ") }
        precondition(digits.count % 2 == 0)
        self = stride(from: 0, to: digits.count, by: 2).map { i in
            UInt8(String(decoding: digits[i...(i + 1)], as: UTF8.self), radix: 16)!
        }
    }
}

func buffer(_ bytes: [UInt8]) -> ByteBuffer {
    ByteBuffer(bytes: bytes)
}
