import CZlib
public import Foundation

/// An editing trace in Joseph Gentle's `editing-traces` format (sequential or concurrent).
///
/// Patches are stored flat: `patches[txn.patchStart ..< txn.patchStart + txn.patchCount]`,
/// inserted text as Unicode scalar values in `insertScalars`.
public struct EditingTrace: Sendable {
    public struct Patch: Sendable {
        /// Position in Unicode scalars.
        public var pos: Int
        /// Number of scalars deleted at `pos`.
        public var delete: Int
        /// Range of the inserted scalars in `insertScalars`.
        public var insertStart: Int
        public var insertCount: Int
    }

    public struct Txn: Sendable {
        public var patchStart: Int
        public var patchCount: Int
        /// Agent (0 for sequential traces).
        public var agent: Int
        /// Indexes of parent txns (concurrent traces). Empty for sequential traces (each txn follows the previous one).
        public var parents: [Int]
    }

    public enum Kind: String, Sendable { case sequential, concurrent }

    public var kind: Kind
    public var startContent: String
    public var endContent: String
    public var numAgents: Int
    public var txns: [Txn]
    public var patches: [Patch]
    public var insertScalars: [UInt32]

    public var endScalars: [UInt32] { endContent.unicodeScalars.map { $0.value } }

    public enum LoadError: Error, CustomStringConvertible {
        case gzip(String)
        case format(String)
        public var description: String {
            switch self {
            case .gzip(let m): return "gzip: \(m)"
            case .format(let m): return "trace format: \(m)"
            }
        }
    }

    /// Loads a trace from a `.json.gz` (or plain `.json`) file.
    public static func load(path: String) throws -> EditingTrace {
        let raw = try Data(contentsOf: URL(fileURLWithPath: path))
        let json = (raw.count >= 2 && raw[raw.startIndex] == 0x1f && raw[raw.startIndex + 1] == 0x8b) ? try gunzip(raw) : raw
        return try parse(json: json)
    }

    /// Inflates gzip (or zlib) data.
    public static func gunzip(_ input: Data) throws -> Data {
        var stream = z_stream()
        var status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw LoadError.gzip("inflateInit2 failed (\(status))") }
        defer { inflateEnd(&stream) }
        var out = Data()
        let chunkSize = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        try input.withUnsafeBytes { (inBuf: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(inBuf.count)
            repeat {
                let produced: Int = buffer.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(chunkSize)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return chunkSize - Int(stream.avail_out)
                }
                if status != Z_OK && status != Z_STREAM_END {
                    throw LoadError.gzip("inflate failed (\(status))")
                }
                out.append(contentsOf: buffer[0..<produced])
                if status == Z_OK && produced == 0 && stream.avail_in == 0 {
                    throw LoadError.gzip("truncated input")
                }
            } while status != Z_STREAM_END
        }
        return out
    }

    /// Parses the JSON text of a trace (a dedicated byte-level parser: no Foundation object graph,
    /// so memory stays close to the size of the input).
    public static func parse(json: Data) throws -> EditingTrace {
        let bytes = [UInt8](json)
        var p = TraceJSONParser(bytes: bytes)
        return try p.parseTrace()
    }

    /// Total number of patches (edits).
    public var editCount: Int { patches.count }
}
