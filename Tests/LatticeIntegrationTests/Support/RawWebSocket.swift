import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Failures of the raw client itself (as opposed to assertions about the server).
enum RawWebSocketError: Error, CustomStringConvertible {
    case connectFailed(String)
    case timeout(String)
    case closedByPeer(String)
    case malformed(String)
    case unexpected(String)

    var description: String {
        switch self {
        case .connectFailed(let s): return "connect failed: \(s)"
        case .timeout(let s): return "timed out waiting for \(s)"
        case .closedByPeer(let s): return "the server closed TCP while we waited for \(s)"
        case .malformed(let s): return "malformed data from the server: \(s)"
        case .unexpected(let s): return "unexpected: \(s)"
        }
    }
}

/// WebSocket opcodes as raw numbers (tests also send reserved ones).
enum Op {
    static let continuation: UInt8 = 0x0
    static let text: UInt8 = 0x1
    static let binary: UInt8 = 0x2
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA
}

/// A frame as received from the server.
struct ReceivedFrame: CustomStringConvertible {
    var fin: Bool
    var rsv: UInt8
    var opcode: UInt8
    var payload: [UInt8]

    var rsv1: Bool { rsv & 0x4 != 0 }
    /// For a close frame: the status code, if the payload has one.
    var closeCode: UInt16? {
        payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
    }
    var closeReason: [UInt8] { Array(payload.dropFirst(2)) }
    var text: String { String(decoding: payload, as: UTF8.self) }

    var description: String {
        let kind: String
        switch opcode {
        case Op.continuation: kind = "continuation"
        case Op.text: kind = "text"
        case Op.binary: kind = "binary"
        case Op.close: kind = "close(\(closeCode.map(String.init) ?? "no code") \"\(String(decoding: closeReason, as: UTF8.self))\")"
        case Op.ping: kind = "ping"
        case Op.pong: kind = "pong"
        default: kind = "opcode \(opcode)"
        }
        return "\(kind) frame fin=\(fin) rsv=\(rsv) \(payload.count) bytes"
    }
}

/// An HTTP response head (and body, for refusals).
struct HTTPResponse: CustomStringConvertible {
    var statusLine: String
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// Every value of a header (case-insensitive name).
    func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }
    func value(_ name: String) -> String? { values(name).first }

    var description: String {
        ([statusLine] + headers.map { "\($0.name): \($0.value)" }).joined(separator: "\r\n")
            + "\r\n\r\n" + String(decoding: body, as: UTF8.self)
    }
}

/// A WebSocket client built from hand-made bytes over a blocking POSIX TCP socket.
/// Every read has a deadline (`timeout` seconds), so no test can hang.
final class RawWebSocket {
    /// The RFC 6455 §1.3 example key, and its accept value.
    static let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="
    static let sampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    private let fd: Int32
    /// Bytes received and not consumed yet.
    private var inbound: [UInt8] = []
    private var peerClosed = false
    var timeout: Double

    init(host: String = "127.0.0.1", port: Int, timeout: Double = 15) throws {
        self.timeout = timeout
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawWebSocketError.connectFailed("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        // Connect without blocking, then wait for it with the deadline.
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 && errno != EINPROGRESS {
            let message = String(cString: strerror(errno))
            close(fd)
            throw RawWebSocketError.connectFailed("\(host):\(port): \(message)")
        }
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if poll(&pfd, 1, Int32(timeout * 1000)) != 1
            || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) != 0 || soError != 0 {
            close(fd)
            throw RawWebSocketError.connectFailed("\(host):\(port): \(soError != 0 ? String(cString: strerror(soError)) : "timeout")")
        }
        _ = fcntl(fd, F_SETFL, flags)
    }

    /// Connects to the current suite's server.
    convenience init(timeout: Double = 15) throws {
        let server = try TestServerProcess.require()
        try self.init(host: server.host, port: server.port, timeout: timeout)
    }

    deinit {
        close(fd)
    }

    // MARK: writing

    /// Writes all bytes (one `send` per call as far as the kernel allows).
    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RawWebSocketError.closedByPeer("a write (\(String(cString: strerror(errno))))")
            }
            offset += n
        }
    }

    func write(_ text: String) throws {
        try write(Array(text.utf8))
    }

    /// Writes `bytes` in pieces of `chunk` bytes, pausing between them so that each
    /// piece tends to arrive in its own TCP segment.
    func writeInPieces(_ bytes: [UInt8], chunk: Int, pauseMicroseconds: UInt32 = 200) throws {
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            try write(Array(bytes[offset..<end]))
            offset = end
            if offset < bytes.count && pauseMicroseconds > 0 { usleep(pauseMicroseconds) }
        }
    }

    // MARK: reading

    /// Reads more bytes into `inbound`; false when the peer closed TCP (FIN or RST).
    private func fill(until deadline: Date, waitingFor what: @autoclosure () -> String) throws -> Bool {
        if peerClosed { return false }
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { throw RawWebSocketError.timeout(what()) }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(remaining * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n > 0 {
                inbound += chunk[0..<n]
                return true
            }
            if n < 0 && errno == EINTR { continue }
            peerClosed = true
            return false
        }
    }

    private func deadline() -> Date { Date().addingTimeInterval(timeout) }

    /// Reads an HTTP response head, and for anything but 101 its body too
    /// (by Content-Length, or up to the end of the connection).
    func readHTTPResponse() throws -> HTTPResponse {
        let until = deadline()
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int? = nil
        while headEnd == nil {
            if inbound.count >= 4 {
                headEnd = (0...(inbound.count - 4)).first { inbound[$0..<($0 + 4)].elementsEqual(separator) }
            }
            if headEnd == nil, try !fill(until: until, waitingFor: "an HTTP response") {
                throw RawWebSocketError.closedByPeer("an HTTP response (got \(inbound.count) bytes: \(String(decoding: inbound, as: UTF8.self)))")
            }
        }
        let head = String(decoding: inbound[0..<headEnd!], as: UTF8.self)
        inbound.removeFirst(headEnd! + 4)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw RawWebSocketError.malformed("status line '\(lines[0])'")
        }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw RawWebSocketError.malformed("header line '\(line)'") }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var response = HTTPResponse(statusLine: lines[0], status: status, headers: headers, body: [])
        if status != 101 {
            if let length = response.value("Content-Length").flatMap(Int.init) {
                while inbound.count < length {
                    if try !fill(until: until, waitingFor: "the response body") { break }
                }
                response.body = Array(inbound.prefix(length))
                inbound.removeFirst(min(length, inbound.count))
            } else {
                while try fill(until: until, waitingFor: "the end of the response body") {}
                response.body = inbound
                inbound = []
            }
        }
        return response
    }

    /// The text of an opening handshake request. `headers` replace the defaults of
    /// the same name; a nil value removes that header.
    static func handshakeRequest(method: String = "GET", path: String = "/", version: String = "HTTP/1.1",
                                 headers: [(String, String?)] = []) -> String {
        var fields: [(String, String?)] = [
            ("Host", "127.0.0.1"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", sampleKey),
            ("Sec-WebSocket-Version", "13"),
        ]
        for (name, value) in headers {
            if let index = fields.firstIndex(where: { $0.0.lowercased() == name.lowercased() }) {
                fields[index].1 = value
            } else {
                fields.append((name, value))
            }
        }
        var text = "\(method) \(path) \(version)\r\n"
        for (name, value) in fields {
            if let value { text += "\(name): \(value)\r\n" }
        }
        return text + "\r\n"
    }

    /// Performs an opening handshake and requires a 101 with the right accept key.
    @discardableResult
    func upgrade(extensions: String? = nil, headers: [(String, String?)] = [],
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> HTTPResponse {
        var all = headers
        if let extensions { all.append(("Sec-WebSocket-Extensions", extensions)) }
        try write(Self.handshakeRequest(headers: all))
        let response = try readHTTPResponse()
        try #require(response.status == 101, "handshake refused: \(response)", sourceLocation: sourceLocation)
        try #require(response.value("Sec-WebSocket-Accept") == Self.sampleAccept, sourceLocation: sourceLocation)
        return response
    }

    /// Reads the next frame. Server frames must be unmasked (§5.1): a masked one is an error.
    func readFrame() throws -> ReceivedFrame {
        let until = deadline()
        while true {
            if let frame = try takeFrame() { return frame }
            if try !fill(until: until, waitingFor: "a frame") {
                throw RawWebSocketError.closedByPeer("a frame (\(inbound.count) bytes of an incomplete frame pending)")
            }
        }
    }

    private func takeFrame() throws -> ReceivedFrame? {
        guard inbound.count >= 2 else { return nil }
        let b0 = inbound[0], b1 = inbound[1]
        if b1 & 0x80 != 0 { throw RawWebSocketError.malformed("the server masked a frame (§5.1 forbids it)") }
        var length = Int(b1 & 0x7F)
        var offset = 2
        if length == 126 {
            guard inbound.count >= 4 else { return nil }
            length = Int(inbound[2]) << 8 | Int(inbound[3])
            if length < 126 { throw RawWebSocketError.malformed("non-minimal 16-bit length \(length)") }
            offset = 4
        } else if length == 127 {
            guard inbound.count >= 10 else { return nil }
            var value: UInt64 = 0
            for i in 2..<10 { value = value << 8 | UInt64(inbound[i]) }
            if value <= 0xFFFF || value >> 63 != 0 { throw RawWebSocketError.malformed("bad 64-bit length \(value)") }
            length = Int(value)
            offset = 10
        }
        guard inbound.count >= offset + length else { return nil }
        let frame = ReceivedFrame(fin: b0 & 0x80 != 0, rsv: (b0 >> 4) & 0x7, opcode: b0 & 0x0F,
                                  payload: Array(inbound[offset..<(offset + length)]))
        inbound.removeFirst(offset + length)
        return frame
    }

    /// Waits for the server to close TCP. True if it did within the deadline; any
    /// data received meanwhile is an error.
    func waitForTCPClose(timeout: Double? = nil) throws -> Bool {
        let until = Date().addingTimeInterval(timeout ?? self.timeout)
        do {
            while try fill(until: until, waitingFor: "TCP close") {
                if let frame = try takeFrame() {
                    throw RawWebSocketError.unexpected("\(frame) while waiting for TCP close")
                }
            }
            return true
        } catch RawWebSocketError.timeout {
            return false
        }
    }

    // MARK: frames

    /// Hand-builds a frame. `length` overrides the announced payload length (tests of
    /// the length encodings); `lengthBytes` forces 0 (7-bit), 2 or 8 extension bytes.
    static func frame(fin: Bool = true, rsv: UInt8 = 0, opcode: UInt8, payload: [UInt8] = [],
                      masked: Bool = true, maskKey: [UInt8]? = nil, lengthBytes: Int? = nil,
                      announcedLength: UInt64? = nil) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv & 0x7) << 4 | (opcode & 0x0F)]
        let length = announcedLength ?? UInt64(payload.count)
        let extensionBytes = lengthBytes ?? (length < 126 ? 0 : (length <= 0xFFFF ? 2 : 8))
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch extensionBytes {
        case 0:
            bytes.append(maskBit | UInt8(length))
        case 2:
            bytes.append(maskBit | 126)
            bytes += [UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        default:
            bytes.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(length >> UInt64(shift) & 0xFF)) }
        }
        if masked {
            let key = maskKey ?? (0..<4).map { _ in UInt8.random(in: 0...255) }
            bytes += key
            bytes += payload.enumerated().map { $0.element ^ key[$0.offset & 3] }
        } else {
            bytes += payload
        }
        return bytes
    }

    func sendFrame(fin: Bool = true, rsv: UInt8 = 0, opcode: UInt8, payload: [UInt8] = [], masked: Bool = true) throws {
        try write(Self.frame(fin: fin, rsv: rsv, opcode: opcode, payload: payload, masked: masked))
    }

    func sendText(_ text: String) throws {
        try sendFrame(opcode: Op.text, payload: Array(text.utf8))
    }

    /// A close frame payload: code (if any) and reason bytes.
    static func closePayload(_ code: UInt16?, reason: [UInt8] = []) -> [UInt8] {
        guard let code else { return [] }
        return [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
    }

    /// Reads one data message (reassembling fragments). With `inflater`, a message
    /// with RSV1 is inflated. Control frames are not expected here: a close frame
    /// (the server failing the connection) throws with its code.
    func readMessage(inflater: RawInflater? = nil) throws -> (opcode: UInt8, payload: [UInt8], compressed: Bool) {
        var first: ReceivedFrame? = nil
        var payload: [UInt8] = []
        while true {
            let frame = try readFrame()
            if frame.opcode == Op.close {
                throw RawWebSocketError.unexpected("\(frame) instead of a data message")
            }
            if frame.opcode >= 0x8 {
                throw RawWebSocketError.unexpected("\(frame) instead of a data message")
            }
            if first == nil {
                guard frame.opcode != Op.continuation else { throw RawWebSocketError.malformed("continuation without a message") }
                first = frame
            } else if frame.opcode != Op.continuation {
                throw RawWebSocketError.malformed("new data frame inside a fragmented message")
            } else if frame.rsv != 0 {
                throw RawWebSocketError.malformed("RSV bits on a continuation frame: \(frame)")
            }
            payload += frame.payload
            if frame.fin { break }
        }
        let compressed = first!.rsv1
        if first!.rsv & 0x3 != 0 { throw RawWebSocketError.malformed("RSV2/RSV3 set: \(first!)") }
        if compressed {
            guard let inflater else { throw RawWebSocketError.malformed("RSV1 set without permessage-deflate: \(first!)") }
            payload = try inflater.inflate(payload)
        }
        return (first!.opcode, payload, compressed)
    }

    /// Expects the server to fail the connection with `code`: the next frame is a
    /// close frame with that code and a valid reason; then (after we answer) TCP ends.
    /// `answer: false` skips answering and waiting (e.g. when we are mid-frame).
    func expectClose(_ code: UInt16?, answer: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let frame = try readFrame()
        try #require(frame.opcode == Op.close, "expected a close frame with \(code.map(String.init) ?? "no code"), got \(frame)",
                     sourceLocation: sourceLocation)
        #expect(frame.closeCode == code, "close frame: \(frame)", sourceLocation: sourceLocation)
        #expect(frame.fin && frame.rsv == 0, "close frame: \(frame)", sourceLocation: sourceLocation)
        #expect(frame.payload.count <= 125, sourceLocation: sourceLocation)
        #expect(String(validating: frame.closeReason, as: UTF8.self) != nil, "close reason is not UTF-8",
                sourceLocation: sourceLocation)
        guard answer else { return }
        try? sendFrame(opcode: Op.close, payload: Array(frame.payload.prefix(2)))
        #expect(try waitForTCPClose(), "the server did not close TCP after the closing handshake",
                sourceLocation: sourceLocation)
    }

    /// Sends a close 1000 and expects the close handshake and TCP close (ends a test cleanly).
    func closeNormally(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try sendFrame(opcode: Op.close, payload: Self.closePayload(1000))
        let frame = try readFrame()
        #expect(frame.opcode == Op.close && frame.closeCode == 1000, "\(frame)", sourceLocation: sourceLocation)
        #expect(try waitForTCPClose(), "the server did not close TCP", sourceLocation: sourceLocation)
    }

    /// Sends one message and requires the same message back, uncompressed.
    func expectEcho(opcode: UInt8, _ payload: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        try sendFrame(opcode: opcode, payload: payload)
        let reply = try readMessage()
        #expect(reply.opcode == opcode, sourceLocation: sourceLocation)
        #expect(reply.payload == payload, "echo differs (\(reply.payload.count) vs \(payload.count) bytes)",
                sourceLocation: sourceLocation)
    }
}
