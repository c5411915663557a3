import ArgumentParser
import Dispatch
import Foundation
import UnixSignals
import LatticeClient
import LatticeProtocol
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Standard output, flushed per line (so a pipe reader sees each event at once).
func printLine(_ text: String) {
    print(text)
    fflush(nil)
}

/// The exit statuses of `lattice tail` and `lattice publish` (docs/client.md). Usage errors
/// exit with 64, as swift-argument-parser does for every command.
enum ClientExit {
    /// The server could not be reached, or the connection ended without an answer.
    static let unreachable: Int32 = 1
    /// The server refused the request (its error code is printed).
    static let refused: Int32 = 2
    /// The server refused or ended the token.
    static let credential: Int32 = 3

    static func code(for error: LatticeClientError) -> ExitCode {
        switch error {
        case .credentialRefused: ExitCode(credential)
        case .server, .refused: ExitCode(refused)
        case .invalid: ExitCode.validationFailure
        case .timeout, .connectionLost, .closed, .connectFailed: ExitCode(unreachable)
        }
    }
}

/// `lattice tail` comes back soon after a restarted server: its backoff is capped at 2 s.
let tailReconnectPolicy = ReconnectPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(2))

/// A wait for people: `0.42 s`.
func seconds(_ duration: Duration) -> String {
    let (s, atto) = duration.components
    return String(format: "%.2f s", Double(s) + Double(atto) / 1e18)
}

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print a stream's events as they arrive; reconnects and resumes after a disconnect.",
        discussion: """
            Each event is printed as `OFFSET DATA` (or, with --json, one JSON object per line: \
            {"stream","epoch","offset","data"[,"key"]}). When a resume is not gapless (the server \
            no longer has the missed history), a line starting with `# reset` (or a JSON object \
            with "reset":true) says so. Reconnects with backoff capped at 2 s. Stops on SIGINT or \
            SIGTERM (status 0). With --presence, the stream's presence is printed too, as the server \
            sends it: one JSON line {"type":"presence","stream","members":[…]} after every \
            (re)subscribe, and one {"type":"presence.diff","stream","joins","leaves","updates"} \
            line per change (each member is {"id","name","kind","metas":[{"conn","state"}]}). \
            Exit status 1: the server cannot be reached (or reconnecting gave up); \
            2: the server refused the subscribe; 3: the server refused or ended the token; 64: bad usage.
            """)

    @Argument(help: "Stream name, e.g. channel/acme/general.") var stream: String
    @Option(help: "Server WebSocket address.") var url = "ws://127.0.0.1:8080/ws"
    @Option(help: "Resume after EPOCH:OFFSET instead of starting live.") var since: String?
    @OptionGroup var auth: TokenOption
    @Flag(help: "One JSON object per line.") var json = false
    @Flag(help: "Also print the presence snapshot and every presence diff, one JSON line each.") var presence = false

    func run() async throws {
        guard let target = WebSocketURL(url) else { throw ValidationError("--url must look like ws://host:port/ws") }
        var position: StreamPosition?
        if let since {
            guard let p = StreamPosition(cliText: since) else { throw ValidationError("--since must look like EPOCH:OFFSET, e.g. 9f3a51c2:41") }
            position = p
        }
        let session = LatticeSession(url: target, options: LatticeSessionOptions(token: try auth.resolved(),
                                                                                 reconnect: tailReconnectPolicy))
        let stopper = await CLISessionSupport.closeOnSignals(session)
        defer { stopper.cancel() }

        do {
            try await session.connect()
        } catch let error as LatticeClientError {
            printError("lattice tail: cannot connect to \(target): \(error)")
            throw ClientExit.code(for: error)
        }
        let subscription: LatticeSubscription
        do {
            subscription = try await session.subscribe(stream, since: position)
        } catch let error as LatticeClientError {
            printError("lattice tail: subscribe \(stream) failed: \(error)")
            await session.close()
            throw ClientExit.code(for: error)
        }
        let json = self.json
        // Reports how the session ended when the server ended it (token revoked or expired, reconnecting gave up).
        let statusTask = CLISessionSupport.reportStatus(of: session)
        defer { statusTask.cancel() }
        if !json, let start = subscription.start { printError("# subscribed to \(stream) at \(start.cliText)") }

        var failure: LatticeClientError?
        for await item in subscription.events {
            switch item {
            case .event(let e):
                if json {
                    var line = "{\"stream\":\(RawJSON(string: e.stream.name)),\"epoch\":\(RawJSON(string: e.epoch.rawValue)),\"offset\":\(e.offset)"
                    if let key = e.key { line += ",\"key\":\(RawJSON(string: key))" }
                    printLine(line + ",\"data\":\(e.data)}")
                } else {
                    printLine("\(e.offset) \(e.data)")
                }
            case .reset(let p):
                if json {
                    printLine("{\"reset\":true,\"stream\":\(RawJSON(string: stream)),\"epoch\":\(RawJSON(string: p.epoch.rawValue)),\"offset\":\(p.offset)}")
                } else {
                    printLine("# reset: resume was not gapless (history lost); continuing live after \(p.cliText)")
                }
            case .resumed(let p):
                if !json { printError("# resumed gapless after \(p.cliText)") }
            case .failed(let error):
                failure = error
            case .presence(let members):
                if presence, case .success(let name) = StreamName.parse(stream) {
                    printLine(ServerMessage.presence(.init(stream: name, members: members)).jsonLine)
                }
            case .presenceDiff(let diff):
                if presence { printLine(ServerMessage.presenceDiff(diff).jsonLine) }
            }
        }
        try await CLISessionSupport.finish("tail", session, failure: failure, status: statusTask)
    }
}

struct PublishCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish one JSON value to a channel stream and print its offset.",
        discussion: """
            DATA must be one JSON value: '{"text":"hi"}', '42', '"a string"' (note the quotes). \
            Prints `offset N epoch E`. Exit status 1: the server cannot be reached (or did not \
            answer); 2: the server refused the publish (its code is printed); 3: the server refused \
            the token; 64: bad usage.
            """)

    @Argument(help: "Stream name, e.g. channel/acme/general.") var stream: String
    @Argument(help: "The event's data: one JSON value.") var data: String
    @Option(help: "Server WebSocket address.") var url = "ws://127.0.0.1:8080/ws"
    @OptionGroup var auth: TokenOption
    @Option(help: "Coalescing key.") var key: String?
    @Flag(help: "Print {\"epoch\":…,\"offset\":…} instead.") var json = false

    func validate() throws {
        guard RawJSON(validating: data) != nil else {
            throw ValidationError("DATA is not valid JSON: \(data.count > 60 ? String(data.prefix(60)) + "…" : data). "
                                  + "Give one JSON value; a string needs quotes, e.g. '\"hello\"'.")
        }
    }

    func run() async throws {
        guard let target = WebSocketURL(url) else { throw ValidationError("--url must look like ws://host:port/ws") }
        let session = LatticeSession(url: target, options: LatticeSessionOptions(token: try auth.resolved(), reconnect: nil))
        do {
            try await session.connect()
            let position = try await session.publish(stream, data: data, key: key)
            await session.close()
            if json {
                printLine("{\"epoch\":\(RawJSON(string: position.epoch.rawValue)),\"offset\":\(position.offset)}")
            } else {
                printLine("offset \(position.offset) epoch \(position.epoch)")
            }
        } catch let error as LatticeClientError {
            await session.close()
            printError("lattice publish: \(error)")
            throw ClientExit.code(for: error)
        }
    }
}

extension ServerMessage {
    /// The message as the server encodes it, on one line (its encoders write no newlines).
    var jsonLine: String {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return String(buffer: buffer)
    }
}

extension StreamPosition {
    /// Parses `EPOCH:OFFSET`, how the client tools show a position (the epoch may itself hold
    /// colons; the last one separates).
    init?(cliText text: String) {
        guard let colon = text.lastIndex(of: ":"), let offset = UInt64(text[text.index(after: colon)...]) else {
            return nil
        }
        let epoch = String(text[..<colon])
        guard !epoch.isEmpty else { return nil }
        self.init(epoch: StreamEpoch(epoch), offset: offset)
    }

    /// `EPOCH:OFFSET`.
    var cliText: String { "\(epoch.rawValue):\(offset)" }
}

/// `--token` (env `LATTICE_TOKEN`): the credential the client tools send at the handshake.
struct TokenOption: ParsableArguments {
    @Option(help: "Token (lat_…) sent as Authorization: Bearer (env LATTICE_TOKEN); `lattice admin token create` prints one.")
    var token: String?

    func resolved() throws -> String {
        if let token, !token.isEmpty { return token }
        if let token = ProcessInfo.processInfo.environment["LATTICE_TOKEN"], !token.isEmpty { return token }
        throw ValidationError("a token is required: pass --token or set LATTICE_TOKEN (see `lattice admin token create`)")
    }
}
