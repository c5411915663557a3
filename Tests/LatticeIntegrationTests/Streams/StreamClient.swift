import NIOHTTP1
import Foundation
import LatticeClient
import LatticeWebSocket
import NIOCore
import Synchronization
import Testing

/// One received lattice.v1 message: its text and its parsed object.
struct LatticeMessage: CustomStringConvertible {
    let text: String
    let json: [String: Any]

    init(_ text: String) {
        self.text = text
        self.json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    var type: String { json["type"] as? String ?? "" }
    var stream: String? { json["stream"] as? String }
    var offset: Int? { (json["offset"] as? NSNumber)?.intValue }
    var epoch: String? { json["epoch"] as? String }
    var code: String? { json["code"] as? String }
    var description: String { text }
}

struct StreamClientError: Error, CustomStringConvertible {
    let description: String
}

/// A lattice.v1 test client on `LatticeClient`'s WebSocket connection: messages are pumped into
/// an inbox, and every wait has a deadline.
final class StreamClient: Sendable {
    let connection: WebSocketConnection
    private let welcomeText = Mutex<String>("")
    private let inbox = Mutex<(items: [String], head: Int, ended: String?)>(([], 0, nil))

    private init(connection: WebSocketConnection) {
        self.connection = connection
    }

    /// The `welcome` this connection received.
    var welcome: LatticeMessage { LatticeMessage(welcomeText.withLock { $0 }) }

    /// Connects to `lattice serve` on `port` as user `name` (an editor of `demo`, or a bot with
    /// `kind: "bot"`; one token per name, made by the suite's server) and reads `welcome`.
    /// `token` overrides the credential.
    static func connect(port: Int, name: String? = nil, kind: String? = nil, role: String = "editor",
                        token: String? = nil) async throws -> StreamClient {
        let credential = if let token { token } else {
            try await TestServerProcess.on(port: port).token(for: name ?? "anonymous", role: role, bot: kind == "bot")
        }
        let url = try #require(WebSocketURL("ws://127.0.0.1:\(port)/ws"))
        let connection = try await WebSocketClient.connect(
            to: url, options: WebSocketClientOptions(headers: ["Authorization": "Bearer \(credential)"],
                                                     subprotocols: ["lattice.v1"], connectTimeout: .seconds(15)))
        let client = StreamClient(connection: connection)
        client.startPump()
        let first = try await client.next()
        guard first.type == "welcome" else { throw StreamClientError(description: "expected welcome, got \(first)") }
        client.welcomeText.withLock { $0 = first.text }
        return client
    }

    private func startPump() {
        let messages = connection.messages
        Task { [self] in
            do {
                for try await message in messages {
                    let text = String(buffer: message.data)
                    inbox.withLock { $0.items.append(text) }
                }
                inbox.withLock { $0.ended = "connection closed" }
            } catch {
                inbox.withLock { $0.ended = "connection failed: \(error)" }
            }
        }
    }

    var session: String { welcome.json["session"] as? String ?? "" }

    func send(_ text: String) async throws {
        try await connection.send(text: text)
    }

    /// The next message, waiting at most `timeout` seconds.
    func next(timeout: Double = 30) async throws -> LatticeMessage {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let (text, ended): (String?, String?) = inbox.withLock { box in
                if box.head < box.items.count {
                    let text = box.items[box.head]
                    box.head += 1
                    if box.head > 4096 {
                        box.items.removeFirst(box.head)
                        box.head = 0
                    }
                    return (text, nil)
                }
                return (nil, box.ended)
            }
            if let text { return LatticeMessage(text) }
            if let ended { throw StreamClientError(description: ended) }
            if Date() > deadline { throw StreamClientError(description: "no message within \(timeout) s") }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// The next message matching `predicate`, skipping others.
    func next(timeout: Double = 30, where predicate: (LatticeMessage) -> Bool) async throws -> LatticeMessage {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let message = try await next(timeout: max(0.01, deadline.timeIntervalSinceNow))
            if predicate(message) { return message }
        }
    }

    /// Sends a request and returns its answer (`ok` or `error`), skipping stream traffic.
    func request(_ text: String, timeout: Double = 30) async throws -> LatticeMessage {
        try await send(text)
        return try await next(timeout: timeout) { $0.type == "ok" || $0.type == "error" }
    }

    /// Closes the TCP connection abruptly (no close frame).
    func kill() async {
        try? await connection.channel.close()
    }

    func close() async {
        try? await connection.close()
    }
}

/// The resident memory of a process, from /proc/PID/status (VmRSS), in bytes.
func residentBytes(pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.split(separator: " ").compactMap { Int($0) }.first
        return digits.map { $0 * 1024 }
    }
    return nil
}

extension RawWebSocket {
    /// Opens `/ws` with the lattice.v1 subprotocol and reads `welcome`.
    static func lattice(port: Int, name: String, token: String? = nil, timeout: Double = 15) async throws -> RawWebSocket {
        let token = if let token { token } else { try await TestServerProcess.on(port: port).token(for: name) }
        let socket = try RawWebSocket(port: port, timeout: timeout)
        try socket.write(handshakeRequest(path: "/ws", headers: [("Sec-WebSocket-Protocol", "lattice.v1"),
                                                                 ("Authorization", "Bearer \(token)")]))
        let response = try socket.readHTTPResponse()
        guard response.status == 101 else { throw StreamClientError(description: "handshake refused: \(response)") }
        let welcome = try socket.readLattice()
        guard welcome.type == "welcome" else { throw StreamClientError(description: "expected welcome, got \(welcome)") }
        return socket
    }

    /// Reads the next lattice message (text frame).
    func readLattice() throws -> LatticeMessage {
        let message = try readMessage()
        return LatticeMessage(String(decoding: message.payload, as: UTF8.self))
    }
}
