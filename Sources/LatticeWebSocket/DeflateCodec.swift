import CZlib
public import NIOCore

/// RFC 7692 message compression over zlib's raw deflate. One instance per
/// connection and direction; the z_stream lives on the heap because zlib keeps
/// a pointer back to it. Streams are created lazily, so an idle connection
/// holds no zlib memory.
public final class DeflateCompressor {
    private var stream: UnsafeMutablePointer<z_stream>?
    private let windowBits: Int32
    private let level: Int32
    private let memoryLevel: Int32
    private let noContextTakeover: Bool

    /// - Parameters:
    ///   - windowBits: 8–15. zlib cannot compress with a 256-byte window, so for 8
    ///     we emit Huffman-only blocks, which use no back references at all and
    ///     so are readable with any window.
    public init(windowBits: Int, noContextTakeover: Bool, level: Int32 = 6, memoryLevel: Int32 = 8) {
        self.windowBits = Int32(max(8, min(15, windowBits)))
        self.noContextTakeover = noContextTakeover
        self.level = level
        self.memoryLevel = memoryLevel
    }

    deinit {
        if let stream {
            deflateEnd(stream)
            stream.deallocate()
        }
    }

    private func makeStream() -> UnsafeMutablePointer<z_stream> {
        let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        s.initialize(to: z_stream())
        let bits = windowBits == 8 ? 9 : windowBits
        let strategy = windowBits == 8 ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY
        let rc = deflateInit2_(s, level, Z_DEFLATED, -bits, memoryLevel, strategy,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "deflateInit2 failed: \(rc)")
        return s
    }

    /// Compresses one whole message; the result has the trailing 00 00 FF FF
    /// removed, ready to be the payload of a frame with RSV1 set.
    public func compress(_ input: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let s = stream ?? makeStream()
        stream = s
        var output = allocator.buffer(capacity: Int(deflateBound(s, UInt(input.readableBytes))) + 16)
        input.withUnsafeReadableBytes { inBytes in
            s.pointee.next_in = UnsafeMutablePointer(mutating: inBytes.baseAddress?.assumingMemoryBound(to: Bytef.self))
            s.pointee.avail_in = uInt(inBytes.count)
            while true {
                if output.writableBytes < 64 { output.reserveCapacity(minimumWritableBytes: max(1024, output.capacity)) }
                let rc = output.writeWithUnsafeMutableBytes(minimumWritableBytes: 64) { outBytes -> Int in
                    s.pointee.next_out = outBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    s.pointee.avail_out = uInt(outBytes.count)
                    let rc = deflate(s, Z_SYNC_FLUSH)
                    precondition(rc == Z_OK || rc == Z_BUF_ERROR, "deflate failed: \(rc)")
                    return outBytes.count - Int(s.pointee.avail_out)
                }
                _ = rc
                // Z_SYNC_FLUSH is complete once all input is consumed and the output was not filled.
                if s.pointee.avail_in == 0 && s.pointee.avail_out != 0 { break }
            }
            s.pointee.next_in = nil
            s.pointee.next_out = nil
        }
        // A sync flush ends with the empty stored block 00 00 FF FF, which the frame leaves out
        // (RFC 7692 §7.2.1). When zlib had nothing to flush (an empty message right after
        // another flush) it writes nothing; an empty message is then the single byte 00 (§7.2.3.6).
        if output.readableBytes >= 4, output.getInteger(at: output.writerIndex - 4, as: UInt32.self) == 0x0000_FFFF {
            output.moveWriterIndex(to: output.writerIndex - 4)
        }
        if output.readableBytes == 0 {
            output.writeInteger(UInt8(0))
        }
        if noContextTakeover {
            deflateReset(s)
        }
        return output
    }
}

/// Inflates permessage-deflate messages, frame by frame, with a limit on the
/// inflated size so a compression bomb is stopped early.
public final class DeflateDecompressor {
    public enum Failure: Error { case corrupt, tooLarge }

    private var stream: UnsafeMutablePointer<z_stream>?
    private let noContextTakeover: Bool
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    public init(noContextTakeover: Bool) {
        self.noContextTakeover = noContextTakeover
    }

    deinit {
        if let stream {
            inflateEnd(stream)
            stream.deallocate()
        }
    }

    private func makeStream() -> UnsafeMutablePointer<z_stream> {
        let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        s.initialize(to: z_stream())
        // A 32 KiB window reads streams made with any smaller window.
        let rc = inflateInit2_(s, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "inflateInit2 failed: \(rc)")
        return s
    }

    /// Inflates the compressed payload of one frame, appending to `output`.
    /// With `final`, also feeds the 00 00 FF FF tail that ends the message.
    /// Throws `.tooLarge` as soon as `output` would exceed `limit` bytes.
    public func inflate(_ input: ByteBuffer, final: Bool, into output: inout ByteBuffer, limit: Int) throws(Failure) {
        let s = stream ?? makeStream()
        stream = s
        var failure: Failure? = nil
        input.withUnsafeReadableBytes { bytes in
            failure = run(s, bytes, &output, limit)
        }
        if let failure { throw failure }
        if final {
            Self.tail.withUnsafeBytes { bytes in
                failure = run(s, bytes, &output, limit)
            }
            if let failure { throw failure }
            if noContextTakeover {
                inflateReset(s)
            }
        }
    }

    /// Inflates `input` into `output`; returns why it stopped early, if it did.
    private func run(_ s: UnsafeMutablePointer<z_stream>, _ input: UnsafeRawBufferPointer,
                     _ output: inout ByteBuffer, _ limit: Int) -> Failure? {
        guard input.count > 0 else { return nil }
        s.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        s.pointee.avail_in = uInt(input.count)
        defer { s.pointee.next_in = nil; s.pointee.next_out = nil }
        while true {
            let room = limit - output.readableBytes
            // Ask for one byte more than allowed so that exceeding the limit is detectable
            // (without computing room + 1, which overflows for a limit of Int.max).
            let step = max(4096, min(input.count * 4, 256 * 1024))
            let chunk = room < step ? max(room + 1, 1) : step
            var rc: Int32 = Z_OK
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk) { outBytes -> Int in
                let want = min(outBytes.count, chunk)
                s.pointee.next_out = outBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
                s.pointee.avail_out = uInt(want)
                rc = CZlib.inflate(s, Z_SYNC_FLUSH)
                return want - Int(s.pointee.avail_out)
            }
            if output.readableBytes > limit { return .tooLarge }
            switch rc {
            case Z_OK:
                if s.pointee.avail_in == 0 && s.pointee.avail_out != 0 { return nil }
            case Z_BUF_ERROR:
                // No progress possible: input exhausted (more arrives with the next frame).
                return nil
            case Z_STREAM_END:
                // The peer ended the deflate stream (BFINAL). Keep the window for context
                // takeover, then restart the stream for whatever follows.
                if !restart(s) { return .corrupt }
                if s.pointee.avail_in == 0 { return nil }
            default:
                return .corrupt
            }
        }
    }

    private func restart(_ s: UnsafeMutablePointer<z_stream>) -> Bool {
        let pendingIn = s.pointee.next_in
        let pendingCount = s.pointee.avail_in
        var window = [UInt8](repeating: 0, count: 32 * 1024)
        var length: uInt = 0
        if !noContextTakeover {
            _ = window.withUnsafeMutableBufferPointer { inflateGetDictionary(s, $0.baseAddress, &length) }
        }
        guard inflateReset(s) == Z_OK else { return false }
        if length > 0 {
            let rc = window.withUnsafeBufferPointer { inflateSetDictionary(s, $0.baseAddress, length) }
            guard rc == Z_OK else { return false }
        }
        s.pointee.next_in = pendingIn
        s.pointee.avail_in = pendingCount
        return true
    }
}
