import LatticeProtocol
import LatticeStreams
import NIOCore

/// Rebuilding a reducer's state when a durable stream with events is loaded: its events are
/// read from the store, oldest first, and applied; subscribes with `snapshot: true` wait until
/// the state has caught up with the log (docs/streams.md, "Snapshots").
extension HomeLoop {
    /// Reads the next chunk of events after what the reducer has applied.
    func hydrate(_ stream: HubStream) {
        guard let store = hub.durable?.store, let reduction = stream.reduction else { return }
        stream.isHydrating = true
        let home = hub.homes[index]
        let loop = self.loop
        let name = stream.name
        let after = reduction.appliedThrough
        let streamName = name.name
        let chunk = Self.catchUpChunk
        Task {
            let result = await StoreRead.events(store, stream: streamName, after: after, limit: chunk)
            loop.execute { home.value.hydrated(name, after: after, result) }
        }
    }

    private func hydrated(_ name: StreamName, after: UInt64, _ result: Result<[StoredStreamEvent], any Error>) {
        guard let stream = streams[name], let reduction = stream.reduction, stream.isHydrating else { return }
        switch result {
        case .success(let events) where events.first?.offset == after + 1:
            for event in events {
                reduction.apply(ReducerEvent(offset: event.offset, data: RawJSON(trusted: event.data), key: event.key))
            }
            if reduction.appliedThrough < stream.log.newestOffset { return hydrate(stream) }
            stream.isHydrating = false
            let waiters = stream.snapshotWaiters
            stream.snapshotWaiters = []
            for waiter in waiters {
                subscribeWithSnapshot(stream, reduction, sub: waiter.sub, ref: waiter.ref, requestID: waiter.requestID, seq: waiter.seq)
            }
        case .success:
            fail(stream, because: "its events from offset \(after + 1) are no longer stored")
        case .failure(let error):
            fail(stream, because: "the store could not be read (\(error))")
        }
    }

    /// The state cannot be rebuilt: snapshot subscribes are refused with the reason (plain ones
    /// still work); the next load of the stream tries again.
    private func fail(_ stream: HubStream, because reason: String) {
        let name = stream.name
        stream.isHydrating = false
        stream.reduction = nil
        stream.reductionFailure = reason
        let waiters = stream.snapshotWaiters
        stream.snapshotWaiters = []
        for waiter in waiters {
            let error = ProtocolError(.internal, "no snapshot of '\(name)' can be built: \(reason)", id: waiter.requestID, stream: name)
            reply(waiter.ref, seq: waiter.seq, HubReply(frames: [ServerFrames.error(error)], failed: (name, waiter.sub)))
        }
    }
}
