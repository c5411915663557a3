import ArgumentParser
import Foundation
import LatticeClient
import LatticeProtocol
import Synchronization
import UnixSignals

struct PresenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presence",
        abstract: "Presence from the command line.",
        subcommands: [PresenceSetCommand.self]
    )
}

struct PresenceSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Join a stream's presence with a JSON state and stay there until interrupted.",
        discussion: """
            Subscribes to STREAM, sets this connection's presence to STATE (one JSON object, e.g. \
            '{"status":"online"}'), prints `present in STREAM as SESSION` and keeps the connection \
            open: presence lives only as long as the connection. Reconnects with backoff capped at \
            2 s and sets the state again after a reconnect. Leaves (closes the connection, so the \
            others see a leave) on SIGINT or SIGTERM, or after --for seconds (status 0). Exit \
            status 1: the server cannot be reached (or reconnecting gave up); 2: the server refused \
            the subscribe or the state; 3: the server refused or ended the token; 64: bad usage.
            """)

    @Argument(help: "Stream name, e.g. channel/acme/general.") var stream: String
    @Argument(help: "The presence state: one JSON object.") var state: String
    @Option(help: "Server WebSocket address.") var url = "ws://127.0.0.1:8080/ws"
    @OptionGroup var auth: TokenOption
    @Option(name: .customLong("for"), help: "Leave after this many seconds instead of waiting for a signal.")
    var forSeconds: Double?

    func validate() throws {
        guard let value = RawJSON(validating: state), value.isObject else {
            // One line, not argument-parser's usage block: the state is what is wrong.
            printError("lattice presence set: STATE is not a JSON object: \(state.count > 60 ? String(state.prefix(60)) + "…" : state). "
                       + "Give one object, e.g. '{\"status\":\"online\"}'.")
            throw ExitCode.validationFailure
        }
        if let forSeconds, !(forSeconds > 0) { throw ValidationError("--for must be a positive number of seconds") }
    }

    func run() async throws {
        guard let target = WebSocketURL(url) else { throw ValidationError("--url must look like ws://host:port/ws") }
        let session = LatticeSession(url: target, options: LatticeSessionOptions(token: try auth.resolved(),
                                                                                 reconnect: tailReconnectPolicy))
        let stopper = await CLISessionSupport.closeOnSignals(session)
        defer { stopper.cancel() }

        let welcome: ServerMessage.Welcome
        do {
            welcome = try await session.connect()
        } catch let error as LatticeClientError {
            printError("lattice presence set: cannot connect to \(target): \(error)")
            throw ClientExit.code(for: error)
        }
        let subscription: LatticeSubscription
        do {
            subscription = try await session.subscribe(stream)
            try await session.setPresence(stream, state: state)
        } catch let error as LatticeClientError {
            printError("lattice presence set: \(stream): \(error)")
            await session.close()
            throw ClientExit.code(for: error)
        }
        let statusTask = CLISessionSupport.reportStatus(of: session, reconnected: "; presence set again")
        defer { statusTask.cancel() }
        printLine("present in \(stream) as \(welcome.session)")

        let timer = Task {
            guard let forSeconds = self.forSeconds else { return }
            try await Task.sleep(for: .milliseconds(Int64(forSeconds * 1000)))
            await session.close()
        }
        defer { timer.cancel() }

        // The subscription ends when the session closes (signal, --for) or fails.
        var failure: LatticeClientError?
        for await item in subscription.events {
            if case .failed(let error) = item { failure = error }
        }
        try await CLISessionSupport.finish("presence set", session, failure: failure, status: statusTask)
    }
}
