import Foundation
public import LatticeAuth
import LatticeProtocol
import LatticeStreams
import NIOCore
public import ServiceLifecycle

/// Publishes the workspace activity the store recorded (`IdentityStore.pendingActivity`) on
/// its `workspace/{ws}` stream, oldest first, one at a time (so a stream's events keep their
/// order). Each append removes its outbox entry in the transaction that stores the event, so
/// every entry is published once, including those recorded while the server was down (or by
/// `lattice admin` beside it). A service of `lattice serve`'s group: it polls every `interval`
/// until the group shuts it down.
public struct ActivityRelay: Service {
    static let batch = 100

    let store: any IdentityStore
    let hub: StreamHub
    let interval: Duration

    public init(store: any IdentityStore, hub: StreamHub, interval: Duration) {
        self.store = store
        self.hub = hub
        self.interval = interval
    }

    /// Why an outbox entry cannot be published (a bug: the store writes only valid ones).
    struct UnpublishableEntry: Error, CustomStringConvertible {
        let seq: Int64
        let why: String
        var description: String { "activity outbox entry \(seq): \(why)" }
    }

    public func run() async {
        await cancelWhenGracefulShutdown { await poll() }
    }

    /// Publishes everything pending now; returns how many entries it published.
    @discardableResult
    public func relayPending() async throws -> Int {
        var published = 0
        while true {
            let entries = try await store.pendingActivity(limit: Self.batch)
            for entry in entries {
                guard case .success(let stream) = StreamName.parse(entry.stream) else {
                    throw UnpublishableEntry(seq: entry.seq, why: "bad stream name \(entry.stream)")
                }
                guard let data = RawJSON(validating: ByteBuffer(bytes: entry.data)) else {
                    throw UnpublishableEntry(seq: entry.seq, why: "its data is not JSON")
                }
                _ = try await hub.append(stream, data: data, attachment: OutboxRelay(seq: entry.seq))
                published += 1
            }
            if entries.count < Self.batch { return published }
        }
    }

    private func poll() async {
        var reportedFailure = false
        while !Task.isCancelled {
            do {
                try await relayPending()
                reportedFailure = false
            } catch {
                if Task.isCancelled { break }  // stopping: the store may be closed already
                // Nothing is lost: an entry leaves the outbox only with its event's commit.
                if !reportedFailure {
                    FileHandle.standardError.write(Data("lattice: publishing workspace activity failed: \(error)\n".utf8))
                    reportedFailure = true
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
