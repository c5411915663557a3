import NIOCore
import PropertyBased
import Testing

@testable import LatticeWebSocket

/// A frame the property tests send: what the encoder is given.
struct FrameSpec: CustomStringConvertible {
    var fin: Bool
    var rsv1: Bool
    var opcode: WebSocketOpcode
    var payload: [UInt8]
    var maskKey: WebSocketMaskKey?

    var description: String {
        "FrameSpec(fin: \(fin), rsv1: \(rsv1), opcode: \(opcode), \(payload.count) bytes, mask: \(String(describing: maskKey)))"
    }
}

/// Payload lengths 0…70,000 with the length-encoding boundaries drawn often.
func randomPayloadLength(using rng: inout some RandomNumberGenerator) -> Int {
    let boundaries = [0, 1, 124, 125, 126, 127, 65534, 65535, 65536, 65537]
    switch Int.random(in: 0..<10, using: &rng) {
    case 0..<4: return boundaries.randomElement(using: &rng)!
    case 4..<7: return Int.random(in: 0...200, using: &rng)
    default: return Int.random(in: 0...70_000, using: &rng)
    }
}

func randomFrameSpec(masked: Bool, using rng: inout some RandomNumberGenerator) -> FrameSpec {
    let opcodes: [WebSocketOpcode] = [.continuation, .text, .binary, .close, .ping, .pong]
    let opcode = opcodes.randomElement(using: &rng)!
    let control = opcode.isControl
    let length = control ? Int.random(in: 0...125, using: &rng) : randomPayloadLength(using: &rng)
    return FrameSpec(
        fin: control ? true : Bool.random(using: &rng),
        rsv1: control || opcode == .continuation ? false : Bool.random(using: &rng),
        opcode: opcode,
        payload: randomBytes(length, using: &rng),
        maskKey: masked ? WebSocketMaskKey(UInt32.random(in: 0...UInt32.max, using: &rng)) : nil)
}

/// One to four frames, all masked (client to server) or all unmasked (server to client),
/// and how the bytes are cut into reads.
struct FrameStreamCase: CustomStringConvertible {
    var masked: Bool
    var frames: [FrameSpec]
    var chunkSeed: UInt64

    var description: String { "masked: \(masked), frames: \(frames), chunk seed: \(chunkSeed)" }
}

let frameStreamGen = Generator<FrameStreamCase, Shrink.None<FrameStreamCase>> { rng in
    let masked = Bool.random(using: &rng)
    let count = Int.random(in: 1...4, using: &rng)
    let frames = (0..<count).map { _ in randomFrameSpec(masked: masked, using: &rng) }
    return FrameStreamCase(masked: masked, frames: frames, chunkSeed: rng.next())
}

@Suite struct FramePropertyTests {
    @Test func encodeThenParseInRandomChunksGivesTheSameFrames() async {
        await propertyCheck(count: 120, input: frameStreamGen) { c in
            let allocator = ByteBufferAllocator()
            var stream: [UInt8] = []
            for f in c.frames {
                let payload = ByteBuffer(bytes: f.payload)
                let encoded = WebSocketFrameEncoder.encode(
                    fin: f.fin, rsv1: f.rsv1, opcode: f.opcode, payload: payload, maskKey: f.maskKey, allocator: allocator)
                #expect(Array(buffer: payload) == f.payload, "the encoder must not touch its input")
                #expect(encoded.readableBytes == WebSocketFrameEncoder.headerLength(
                    payloadLength: f.payload.count, masked: f.maskKey != nil) + f.payload.count)
                stream += Array(buffer: encoded)
            }
            var rng = SplitMix(seed: c.chunkSeed)
            let chunks = randomChunking(stream.count, using: &rng)
            let outcome = parse(stream, chunks: chunks, role: c.masked ? .server : .client, allowedReservedBits: 0x40)
            let expected = c.frames.map { SeenFrame(fin: $0.fin, rsv1: $0.rsv1, opcode: $0.opcode, payload: $0.payload) }
            #expect(outcome.error == nil)
            #expect(outcome.frames == expected)
        }
    }

    @Test func encoderHeaderMatchesTheRFCLayout() {
        // RFC 6455 §5.7 examples.
        let allocator = ByteBufferAllocator()
        let hello = ByteBuffer(string: "Hello")
        #expect(Array(buffer: WebSocketFrameEncoder.encode(opcode: .text, payload: hello, allocator: allocator))
                == [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
        #expect(Array(buffer: WebSocketFrameEncoder.encode(
            opcode: .text, payload: hello, maskKey: WebSocketMaskKey(0x37, 0xfa, 0x21, 0x3d), allocator: allocator))
                == [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
        #expect(Array(buffer: WebSocketFrameEncoder.encode(fin: false, opcode: .text, payload: ByteBuffer(string: "Hel"),
                                                          allocator: allocator)) == [0x01, 0x03, 0x48, 0x65, 0x6c])
        let b256 = WebSocketFrameEncoder.encode(opcode: .binary, payload: ByteBuffer(repeating: 0, count: 256), allocator: allocator)
        #expect(Array(buffer: b256).prefix(4) == [0x82, 0x7E, 0x01, 0x00])
        let b64k = WebSocketFrameEncoder.encode(opcode: .binary, payload: ByteBuffer(repeating: 0, count: 65536), allocator: allocator)
        #expect(Array(buffer: b64k).prefix(10) == [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
    }

    @Test func closePayloadIsCutOnACharacterBoundary() {
        let allocator = ByteBufferAllocator()
        let reason = String(repeating: "a", count: 122) + "é" + "zz"  // é straddles byte 123
        let payload = WebSocketFrameEncoder.closePayload(code: .normalClosure, reason: reason, allocator: allocator)
        #expect(payload.readableBytes == 2 + 122)
        #expect(Array(buffer: payload).prefix(2) == [0x03, 0xE8])
        let short = WebSocketFrameEncoder.closePayload(code: .normalClosure, reason: "ok", allocator: allocator)
        #expect(Array(buffer: short) == [0x03, 0xE8, 0x6F, 0x6B])
        #expect(WebSocketFrameEncoder.closePayload(code: nil, reason: "x", allocator: allocator).readableBytes == 0)
    }
}

@Suite struct MaskKeyTests {
    @Test func applyEqualsNaiveXor() async {
        await propertyCheck(count: 400, input: Gen.uint8(), Gen.uint8(), Gen.uint8(), Gen.uint8(),
                            Gen.uint8().array(of: 0...100), Gen.int(in: 0...9), Gen.int(in: 0...1000)) { k0, k1, k2, k3, bytes, start, offset in
            let key = WebSocketMaskKey(k0, k1, k2, k3)
            let keyBytes = [k0, k1, k2, k3]
            // Apply to a sub-range at an arbitrary (unaligned) address.
            var storage = [UInt8](repeating: 0xEE, count: 9) + bytes + [0xEE]
            let region = start..<min(start + bytes.count, storage.count)
            let original = storage
            storage.withUnsafeMutableBytes { raw in
                key.apply(to: UnsafeMutableRawBufferPointer(rebasing: raw[region]), startingAt: offset)
            }
            var expected = original
            for (i, index) in region.enumerated() { expected[index] ^= keyBytes[(offset + i) % 4] }
            #expect(storage == expected, "key \(keyBytes) offset \(offset) region \(region)")
        }
    }

    @Test func maskingTwiceRestoresAndSplitApplicationEqualsWhole() {
        var rng = SplitMix(seed: 5)
        for length in 0..<40 {
            let data = randomBytes(length, using: &rng)
            let key = WebSocketMaskKey(UInt32.random(in: 0...UInt32.max, using: &rng))
            for cut in 0...length {
                var whole = data
                whole.withUnsafeMutableBytes { key.apply(to: $0) }
                var split = data
                split.withUnsafeMutableBytes { raw in
                    key.apply(to: UnsafeMutableRawBufferPointer(rebasing: raw[..<cut]), startingAt: 0)
                    key.apply(to: UnsafeMutableRawBufferPointer(rebasing: raw[cut...]), startingAt: cut)
                }
                #expect(split == whole)
                split.withUnsafeMutableBytes { key.apply(to: $0) }
                #expect(split == data)
            }
        }
    }

    @Test func keyFromUInt32IsBigEndian() {
        #expect(WebSocketMaskKey(0x0102_0304) == WebSocketMaskKey(1, 2, 3, 4))
    }
}
