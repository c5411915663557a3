import ArgumentParser
import LatticeClient
import Synchronization
import UnixSignals

/// What `lattice tail` and `lattice presence set` share around their `LatticeSession`.
enum CLISessionSupport {
    /// How the server ended a session without our asking: the reason and the exit status.
    struct Ended: Sendable {
        var reason: String
        var status: Int32
    }

    /// Closes `session` at SIGINT or SIGTERM. Trapped before connecting, so a signal at any
    /// later moment closes the session cleanly; cancel the task when done.
    static func closeOnSignals(_ session: LatticeSession) async -> Task<Void, Never> {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        return Task {
            for await _ in signals {
                await session.close()
                return
            }
        }
    }

    /// Prints the session's status changes on standard error as `# …` lines until it closes;
    /// the task's value says how the server ended it (nil: we closed it). `reconnected` is
    /// added to the `# connected` line (what the session did again after a reconnect).
    static func reportStatus(of session: LatticeSession, reconnected: String = "") -> Task<Ended?, Never> {
        Task {
            var ended: Ended?
            for await status in session.statusUpdates {
                switch status {
                case .disconnected(let reason): printError("# disconnected: \(reason)")
                case .reconnecting(let attempt, let delay): printError("# reconnecting (attempt \(attempt), in \(seconds(delay)))")
                case .connected(let id): printError("# connected (session \(id))\(reconnected)")
                case .gaveUp:
                    printError("# gave up reconnecting")
                    ended = Ended(reason: "gave up reconnecting", status: ClientExit.unreachable)
                case .credentialEnded(let reason):
                    printError("# the server ended this token: \(reason); not reconnecting")
                    ended = Ended(reason: "the server ended the token (\(reason))", status: ClientExit.credential)
                case .terminalClose(let code, let reason):
                    printError("# the server closed the connection with \(code) \(reason); not reconnecting")
                    ended = Ended(reason: "the server closed the connection (\(code) \(reason))", status: ClientExit.unreachable)
                case .closed: break
                }
            }
            return ended
        }
    }

    /// After the subscription's events ended: closes the session and exits with the status of
    /// what ended it — a subscription failure, the server ending the session, or (status 0) us.
    static func finish(_ command: String, _ session: LatticeSession, failure: LatticeClientError?,
                       status: Task<Ended?, Never>) async throws {
        await session.close()
        if let failure, failure != .closed {
            printError("lattice \(command): \(failure)")
            throw ClientExit.code(for: failure)
        }
        if let ended = await status.value {
            printError("lattice \(command): \(ended.reason)")
            throw ExitCode(ended.status)
        }
    }
}
