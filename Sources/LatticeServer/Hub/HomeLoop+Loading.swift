import LatticeProtocol
import LatticeStreams
import NIOCore

/// Loading and unloading streams on their home loop. A stream is loaded at its first use
/// (`HomeLoop.stream(_:)`); here it leaves memory again — when nobody has used it for a while,
/// or when its class changes (docs/streams.md, "Loaded streams").
extension HomeLoop {
    /// Unloads every stream unused for longer than it may be (`HubStream.unloadAfter`).
    func unloadIdleStreams(now: NIODeadline) {
        let idle = hub.settings.idleStreamTimeout
        let due = streams.values.filter { $0.isUnused && $0.lastActivity + $0.unloadAfter(idle: idle) <= now }
        for stream in due { streams.removeValue(forKey: stream.name) }
    }

    /// The stream's class changed (a channel made durable, coalescing or ephemeral): if it is loaded with the
    /// old class, end its subscriptions with `unsubscribed` `reconfigured` and unload it, so the
    /// next use loads it with the new one. A resume then answers `recovered: false` (new epoch).
    func reclassify(_ name: StreamName) {
        let newClass = hub.streamClass(of: name)
        guard let stream = streams[name], stream.log.streamClass != newClass else { return }
        guard stream.pendingCommits == 0 else {
            // Acknowledgements are on their way back to this stream: let them land first.
            loop.assumeIsolated().scheduleTask(in: .milliseconds(20)) { self.reclassify(name) }
            return
        }
        stream.presenceTimer?.cancel()
        stream.presenceTimer = nil
        streams.removeValue(forKey: name)
        let message = "'\(name)' is now \(newClass); subscribe again"
        var ended = stream.subscribers.map { ($0.key, $0.value.ref) }
        ended += stream.catchingUp.map { ($0.key, $0.value) }
        ended += stream.snapshotWaiters.map { ($0.sub, $0.ref) }
        for (sub, ref) in ended {
            hub.onSubscriber(ref, from: index) { $0.hubEnded(stream: name, sub: sub, code: .reconfigured, message: message) }
        }
    }
}
