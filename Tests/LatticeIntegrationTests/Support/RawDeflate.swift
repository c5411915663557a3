import CZlib

/// Raw deflate (RFC 1951) for permessage-deflate tests, straight on zlib and
/// independent of the engine's codec, with an exact window size.
final class RawDeflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let noContextTakeover: Bool

    /// - Parameter windowBits: 8–15. zlib cannot compress raw deflate with a
    ///   256-byte window, so 8 uses Huffman-only coding (no back references).
    init(windowBits: Int = 15, noContextTakeover: Bool = false, level: Int32 = 6) {
        self.noContextTakeover = noContextTakeover
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let bits = Int32(windowBits == 8 ? 9 : windowBits)
        let strategy = windowBits == 8 ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY
        let rc = deflateInit2_(stream, level, Z_DEFLATED, -bits, 8, strategy, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "deflateInit2: \(rc)")
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// One message: sync-flushed, with the 00 00 FF FF tail removed (RFC 7692 §7.2.1).
    func compress(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.pointee.next_in = inBuffer.baseAddress
            stream.pointee.avail_in = uInt(inBuffer.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { out -> Int in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let rc = deflate(stream, Z_SYNC_FLUSH)
                    precondition(rc == Z_OK || rc == Z_BUF_ERROR, "deflate: \(rc)")
                    return out.count - Int(stream.pointee.avail_out)
                }
                output += chunk[0..<produced]
            } while stream.pointee.avail_out == 0 || stream.pointee.avail_in > 0
        }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        if output.isEmpty {
            // No input and nothing pending after an earlier sync flush: zlib emits nothing.
            // An empty stored block, 0x00 once the tail is removed, is the empty message (§7.2.3.6).
            return [0x00]
        }
        precondition(output.suffix(4) == [0, 0, 0xFF, 0xFF], "sync flush must end with 00 00 FF FF")
        if noContextTakeover { deflateReset(stream) }
        return Array(output.dropLast(4))
    }
}

/// Inflates permessage-deflate messages with a given window: a message that
/// refers further back than 2^windowBits bytes fails to inflate.
final class RawInflater {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private let noContextTakeover: Bool

    init(windowBits: Int = 15, noContextTakeover: Bool = false) {
        self.noContextTakeover = noContextTakeover
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = inflateInit2_(stream, -Int32(windowBits), ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "inflateInit2: \(rc)")
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Inflates one whole message payload (the tail is added here).
    func inflate(_ payload: [UInt8]) throws -> [UInt8] {
        var input = payload + [0, 0, 0xFF, 0xFF]
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var failure: String? = nil
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.pointee.next_in = inBuffer.baseAddress
            stream.pointee.avail_in = uInt(inBuffer.count)
            while true {
                var rc: Int32 = Z_OK
                let produced = chunk.withUnsafeMutableBufferPointer { out -> Int in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    rc = CZlib.inflate(stream, Z_SYNC_FLUSH)
                    return out.count - Int(stream.pointee.avail_out)
                }
                output += chunk[0..<produced]
                if rc == Z_STREAM_END {
                    // A block with BFINAL set (allowed by RFC 7692 §7.2.3.3) ends the stream;
                    // what follows in this payload is the empty tail. Start afresh for the next
                    // message (this helper does not carry the window over such an end).
                    inflateReset(stream)
                    return
                }
                if rc != Z_OK && rc != Z_BUF_ERROR {
                    failure = "inflate error \(rc): \(stream.pointee.msg.map { String(cString: $0) } ?? "?")"
                    return
                }
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
                if rc == Z_BUF_ERROR && produced == 0 { failure = "inflate made no progress"; return }
            }
        }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        if let failure { throw Failure(description: failure) }
        if noContextTakeover { inflateReset(stream) }
        return output
    }
}
