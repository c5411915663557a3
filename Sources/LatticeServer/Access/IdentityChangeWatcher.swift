import Foundation
import LatticeAuth

/// Applies identity changes made anywhere to this server's live sessions: the store records
/// every change to memberships, users and tokens (v3 triggers), whoever made it — this
/// server's REST API (which also applies its own changes at once), `lattice admin` writing the
/// database beside the running server, or another server on the same database. It also ends
/// the sessions of tokens that expire while connected. Runs as one task per server.
enum IdentityChangeWatcher {
    /// How long changes are kept in the store: far longer than any poll interval.
    static let retention: TimeInterval = 24 * 3600
    static let pruneEvery: TimeInterval = 3600
    static let batch = 500

    /// Starts polling every `interval`; cancel the task to stop it.
    static func start(access: AccessControl, interval: Duration) -> Task<Void, Never> {
        Task {
            let store = access.store
            // Changes made before this server started are already in what it loads at each
            // handshake; only later ones concern live sessions.
            var last: Int64?
            var lastPrune = Date.distantPast
            var reportedFailure = false
            while !Task.isCancelled {
                do {
                    if let seen = last {
                        var position = seen
                        while true {
                            let changes = try await store.identityChanges(after: position, limit: batch)
                            // Several changes of one subject in a batch are applied once.
                            var applied: Set<IdentityChange.Subject> = []
                            for change in changes where applied.insert(change.subject).inserted {
                                await access.apply(change)
                            }
                            position = changes.last?.seq ?? position
                            last = position
                            if changes.count < batch { break }
                        }
                    } else {
                        last = try await store.identityChangeHead()
                    }
                    let now = Date()
                    if now.timeIntervalSince(lastPrune) >= pruneEvery {
                        _ = try await store.pruneIdentityChanges(before: now.addingTimeInterval(-retention))
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
}
