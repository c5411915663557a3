import CZlib
import NIOCore
import PropertyBased
import Testing

@testable import LatticeWebSocket

struct DeflateCase: CustomStringConvertible {
    var windowBits: Int
    var noContextTakeover: Bool
    var messages: [[UInt8]]
    /// Compressed payloads are fed to the decompressor in pieces of at most this many bytes.
    var fragment: Int

    var description: String {
        "window \(windowBits), noContextTakeover \(noContextTakeover), fragment \(fragment), messages \(messages.map(\.count))"
    }
}

/// Messages that compress well, badly, and not at all, including empty ones.
func randomMessage(using rng: inout some RandomNumberGenerator) -> [UInt8] {
    let words = ["lattice", "realtime", "a", "é", "€", "  ", "\n", "delta", "{\"op\":1}", "0123456789"]
    switch Int.random(in: 0..<5, using: &rng) {
    case 0: return []
    case 1: return randomBytes(Int.random(in: 1...3000, using: &rng), using: &rng)
    case 2: return [UInt8](repeating: UInt8.random(in: 0...255, using: &rng), count: Int.random(in: 1...70_000, using: &rng))
    default:
        var out: [UInt8] = []
        let count = Int.random(in: 1...2000, using: &rng)
        while out.count < count { out += Array(words.randomElement(using: &rng)!.utf8) }
        return out
    }
}

let deflateCaseGen = Generator<DeflateCase, Shrink.None<DeflateCase>> { rng in
    DeflateCase(
        windowBits: Int.random(in: 8...15, using: &rng),
        noContextTakeover: Bool.random(using: &rng),
        messages: (0..<Int.random(in: 1...6, using: &rng)).map { _ in randomMessage(using: &rng) },
        fragment: [1, 7, 100, Int.max].randomElement(using: &rng)!)
}

@Suite struct DeflateTests {
    @Test func roundTripAtEveryWindowSize() async throws {
        await propertyCheck(count: 80, input: deflateCaseGen) { c in
            let allocator = ByteBufferAllocator()
            let compressor = DeflateCompressor(windowBits: c.windowBits, noContextTakeover: c.noContextTakeover)
            let decompressor = DeflateDecompressor(noContextTakeover: c.noContextTakeover)
            for message in c.messages {
                let compressed = Array(buffer: compressor.compress(ByteBuffer(bytes: message), allocator: allocator))
                #expect(!compressed.isEmpty, "a compressed message is never empty (RFC 7692 §7.2.3.6)")
                #expect(compressed.suffix(4) != [0x00, 0x00, 0xFF, 0xFF], "the sync-flush tail is removed")
                var output = allocator.buffer(capacity: 0)
                var rest = compressed[...]
                repeat {
                    let piece = rest.prefix(c.fragment)
                    rest = rest.dropFirst(piece.count)
                    try decompressor.inflate(ByteBuffer(bytes: piece), final: rest.isEmpty, into: &output, limit: 1 << 20)
                } while !rest.isEmpty
                #expect(Array(buffer: output) == message)
                if Array(buffer: output) != message { return }
            }
        }
    }

    @Test(arguments: 8...15)
    func windowSizeIsRespected(windowBits: Int) throws {
        // A repeat further back than the window must not be used: zlib's own inflate with
        // exactly that window must read the output.
        var rng = SplitMix(seed: UInt64(windowBits))
        let block = randomBytes(600, using: &rng)
        let message = block + randomBytes(1 << windowBits, using: &rng) + block + block
        for noContextTakeover in [false, true] {
            let compressor = DeflateCompressor(windowBits: windowBits, noContextTakeover: noContextTakeover)
            var stream: [UInt8] = []
            for _ in 0..<2 {
                stream += Array(buffer: compressor.compress(ByteBuffer(bytes: message), allocator: ByteBufferAllocator()))
                stream += [0x00, 0x00, 0xFF, 0xFF]
                if noContextTakeover { break }
            }
            let inflated = try #require(inflateRaw(stream, windowBits: windowBits))
            #expect(inflated == (noContextTakeover ? message : message + message))
        }
    }

    @Test func emptyMessagesAfterOthersWithContextTakeover() throws {
        // zlib refuses a second sync flush with no new input; the compressor must still
        // produce a valid (non-empty) payload for an empty message.
        for windowBits in [8, 15] {
            let compressor = DeflateCompressor(windowBits: windowBits, noContextTakeover: false)
            let decompressor = DeflateDecompressor(noContextTakeover: false)
            for message in [Array("abc".utf8), [], [], Array("abc".utf8), []] {
                let compressed = compressor.compress(ByteBuffer(bytes: message), allocator: ByteBufferAllocator())
                #expect(compressed.readableBytes > 0)
                var output = ByteBuffer()
                try decompressor.inflate(compressed, final: true, into: &output, limit: 100)
                #expect(Array(buffer: output) == message)
            }
        }
    }

    @Test func emptyMessageIsOneZeroByte() {
        // RFC 7692 §7.2.3.6.
        let compressed = DeflateCompressor(windowBits: 15, noContextTakeover: false)
            .compress(ByteBuffer(), allocator: ByteBufferAllocator())
        #expect(Array(buffer: compressed) == [0x00])
    }

    @Test func limitIsExact() throws {
        let message = [UInt8](repeating: 7, count: 10_000)
        for limit in [9_999, 10_000] {
            let compressed = DeflateCompressor(windowBits: 15, noContextTakeover: true)
                .compress(ByteBuffer(bytes: message), allocator: ByteBufferAllocator())
            var output = ByteBuffer()
            let decompressor = DeflateDecompressor(noContextTakeover: true)
            if limit < message.count {
                #expect(throws: DeflateDecompressor.Failure.tooLarge) {
                    try decompressor.inflate(compressed, final: true, into: &output, limit: limit)
                }
            } else {
                try decompressor.inflate(compressed, final: true, into: &output, limit: limit)
                #expect(output.readableBytes == limit)
            }
        }
    }

    @Test func hugeLimitMeansNoLimit() throws {
        let message = Array("no limit at all".utf8)
        let compressed = DeflateCompressor(windowBits: 15, noContextTakeover: true)
            .compress(ByteBuffer(bytes: message), allocator: ByteBufferAllocator())
        var output = ByteBuffer()
        try DeflateDecompressor(noContextTakeover: true).inflate(compressed, final: true, into: &output, limit: .max)
        #expect(Array(buffer: output) == message)
    }
}

/// Plain zlib raw inflate with a given window, as an independent reader; nil on error.
func inflateRaw(_ input: [UInt8], windowBits: Int) -> [UInt8]? {
    var stream = z_stream()
    guard inflateInit2_(&stream, -Int32(windowBits), ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: 1 << 20)
    var input = input
    let rc: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
        output.withUnsafeMutableBufferPointer { outBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            stream.next_out = outBuf.baseAddress
            stream.avail_out = uInt(outBuf.count)
            return inflate(&stream, Z_SYNC_FLUSH)
        }
    }
    guard rc == Z_OK || rc == Z_STREAM_END, stream.avail_in == 0 else { return nil }
    return Array(output.prefix(Int(stream.total_out)))
}
