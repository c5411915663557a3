import Foundation
import LatticeAuth
public import ServiceLifecycle

/// Applies identity changes made anywhere to this server's live sessions: the store records
/// every change to memberships, users and tokens (v3 triggers), whoever made it — this
/// server's REST API (which also applies its own changes at once), `lattice admin` writing the
/// database beside the running server, or another server on the same database. It also ends
/// the sessions of tokens that expire while connected. A service of `lattice serve`'s group:
/// it polls until the group shuts it down.
public struct IdentityChangeWatcher: Service {
    /// How long changes are kept in the store: far longer than any poll interval.
    static let retention: TimeInterval = 24 * 3600
    static let pruneEvery: TimeInterval = 3600
    static let batch = 500

    let access: AccessControl
    let interval: Duration
    let start: Int64?

    /// Polls every `interval` for the changes after `start` (the store's head when the server
    /// began serving: earlier changes are already in what each handshake loads); with nil, for
    /// the changes after the head read at its first poll.
    public init(access: AccessControl, interval: Duration, after start: Int64?) {
        self.access = access
        self.interval = interval
        self.start = start
    }

    /// The store's newest change now, or nil when it cannot be read (the first poll reads it then).
    public static func head(of access: AccessControl) async -> Int64? {
        try? await access.store.identityChangeHead()
    }

    public func run() async {
        await cancelWhenGracefulShutdown { await poll() }
    }

    /// Runs until cancelled.
    private func poll() async {
        let store = access.store
        var last = start
        var lastPrune = Date.distantPast
        var reportedFailure = false
        while !Task.isCancelled {
            do {
                if let seen = last {
                    var position = seen
                    while true {
                        let changes = try await store.identityChanges(after: position, limit: Self.batch)
                        // Several changes of one subject in a batch are applied once.
                        var applied: Set<IdentityChange.Subject> = []
                        for change in changes where applied.insert(change.subject).inserted {
                            await access.apply(change)
                        }
                        position = changes.last?.seq ?? position
                        last = position
                        if changes.count < Self.batch { break }
                    }
                } else {
                    last = try await store.identityChangeHead()
                }
                let now = Date()
                if now.timeIntervalSince(lastPrune) >= Self.pruneEvery {
                    _ = try await store.pruneIdentityChanges(before: now.addingTimeInterval(-Self.retention))
                    lastPrune = now
                }
                reportedFailure = false
            } catch {
                if Task.isCancelled { break }  // the server is stopping; its store may be closed already
                // The store is unavailable: report once, keep trying; nothing is skipped
                // because the position only moves past changes that were applied.
                if !reportedFailure {
                    FileHandle.standardError.write(Data("lattice: reading identity changes failed: \(error)\n".utf8))
                    reportedFailure = true
                }
            }
            access.endExpiredSessions()
            try? await Task.sleep(for: interval)
        }
    }
}
