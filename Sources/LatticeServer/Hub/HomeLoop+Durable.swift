import Foundation
import LatticeProtocol
import LatticeStreams
import NIOCore

/// Durable streams on their home loop: publish after commit, and replay from the store for
/// subscribers whose position is older than the memory tail (docs/streams.md, "Durable streams").
extension HomeLoop {
    /// Events read from the store per step of a catch-up.
    static let catchUpChunk = 512

    /// Hands the event to the store's group commit; once committed it is published exactly like
    /// a memory event (offset = the store's, which is always `newest + 1`: the store is the only
    /// writer and completes in commit order) and only then acknowledged.
    func storeThenPublish(_ stream: HubStream, data: RawJSON, key: String?, attachment: (any DurableAppendAttachment)?,
                          origin: PublishOrigin) {
        guard let store = hub.durable?.store else {
            return publishNow(stream, data: data, key: key, origin: origin)
        }
        let home = hub.homes[index]
        let loop = self.loop
        let name = stream.name
        stream.pendingCommits += 1
        store.append(stream: name.name, data: data.bytes, key: key, attachment: attachment) { result in
            loop.execute {
                home.value.committed(name, result, data: data, key: key, origin: origin)
            }
        }
    }

    private func committed(_ name: StreamName, _ result: Result<UInt64, DurableAppendError>, data: RawJSON, key: String?,
                           origin: PublishOrigin) {
        let stream = self.stream(name)
        stream.pendingCommits = max(0, stream.pendingCommits - 1)
        switch result {
        case .success(let offset):
            if offset != stream.log.newestOffset + 1 {
                // Cannot happen with one writer; if it does, follow the store rather than stop.
                FileHandle.standardError.write(Data("stream \(name): store offset \(offset) after \(stream.log.newestOffset); resynchronising\n".utf8))
                let limits = stream.log.policy.history
                stream.log.updateHistory { history in
                    history = TieredStreamHistory(limits: limits, newestOffset: offset - 1, storeOldestOffset: history.storeOldestOffset)
                }
            }
            publishNow(stream, data: data, key: key, origin: origin)
        case .failure(.storeFailed(let why)):
            answer(origin, .failure(.notStored(why)), stream: name)
        }
    }

    /// Retention raises a stream's oldest stored offset in the store's head cache; a resume must
    /// be judged against that, or it would answer `recovered: true` and then find the events
    /// gone. The head cache is in memory, so this costs a lock, not a read.
    func refreshStoreOldest(_ stream: HubStream) {
        guard stream.isDurable, let store = hub.durable?.store else { return }
        let oldest = store.head(of: stream.name.name).oldestOffset
        if stream.log.history.storeOldestOffset != oldest {
            stream.log.updateHistory { $0.storeOldestOffset = oldest }
        }
    }

    /// One step of a subscribe's replay from the store: read the next chunk after `after`.
    func catchUp(_ name: StreamName, sub: SubscriberID, ref: SubscriberRef, after: UInt64) {
        guard let store = hub.durable?.store, let stream = streams[name], stream.catchingUp[sub] != nil else { return }
        let home = hub.homes[index]
        let loop = self.loop
        let streamName = name.name
        let chunk = Self.catchUpChunk
        Task {
            let result = await StoreRead.events(store, stream: streamName, after: after, limit: chunk)
            loop.execute { home.value.caughtUp(name, sub: sub, ref: ref, after: after, result) }
        }
    }

    private func caughtUp(_ name: StreamName, sub: SubscriberID, ref: SubscriberRef, after: UInt64,
                          _ result: Result<[StoredStreamEvent], any Error>) {
        guard let stream = streams[name], stream.catchingUp[sub] != nil else { return }
        let now = self.now
        let epoch = stream.log.epoch
        var frames: [ByteBuffer] = []
        var since: StreamPosition? = nil
        if case .success(let events) = result, let first = events.first, first.offset == after + 1 {
            frames.reserveCapacity(events.count + 2)
            for event in events { frames.append(Self.frame(name, epoch: epoch, event)) }
            since = StreamPosition(epoch: epoch, offset: events[events.count - 1].offset)
        } else {
            // The store failed or retention removed these events meanwhile: say so plainly and
            // continue live from the newest offset (the client refetches).
            frames.append(ServerFrames.recovered(stream: name, recovered: false, epoch: epoch, offset: stream.log.newestOffset))
        }
        do {
            switch try stream.log.attach(sub, since: since, now: now) {
            case .attached(let attachment):
                stream.catchingUp.removeValue(forKey: sub)
                for event in attachment.backlog { frames.append(event.payload) }
                flushPresence(stream, now: now)
                frames.append(ServerFrames.presence(stream: name, members: stream.presence.fullState(), names: stream.names))
                stream.subscribers[sub] = HubStream.Subscriber(ref: ref)
                send(frames, to: ref, stream: name, sub: sub, next: nil)
            case .needsStore(let range):
                send(frames, to: ref, stream: name, sub: sub, next: range.lowerBound - 1)
            }
        } catch {
            stream.catchingUp.removeValue(forKey: sub)
            frames.append(ServerFrames.unsubscribed(stream: name, code: .subscriberLimit, message: "stream '\(name)' is at its subscriber limit"))
            send(frames, to: ref, stream: name, sub: sub, next: nil)
        }
    }

    private func send(_ frames: [ByteBuffer], to ref: SubscriberRef, stream: StreamName, sub: SubscriberID, next: UInt64?) {
        hub.onSubscriber(ref, from: index) { $0.hubCaughtUp(stream: stream, sub: sub, frames: frames, next: next) }
    }

    /// A paused durable subscriber fell behind the memory tail: read `range` (a chunk of it)
    /// from the store, write it, and carry on with the flow's next step.
    func fetchForDrain(_ stream: HubStream, sub: SubscriberID, range: ClosedRange<UInt64>, prefix: [Delivery.Item]) {
        guard let store = hub.durable?.store else { return }
        let home = hub.homes[index]
        let loop = self.loop
        let name = stream.name
        let limit = Int(min(UInt64(Self.catchUpChunk), range.upperBound - range.lowerBound + 1))
        let streamName = name.name
        Task {
            let result = await StoreRead.events(store, stream: streamName, after: range.lowerBound - 1, limit: limit)
            loop.execute { home.value.fetchedForDrain(name, sub: sub, range: range, result, prefix: prefix) }
        }
    }

    private func fetchedForDrain(_ name: StreamName, sub: SubscriberID, range: ClosedRange<UInt64>,
                                 _ result: Result<[StoredStreamEvent], any Error>, prefix: [Delivery.Item]) {
        guard let stream = streams[name], stream.subscribers[sub] != nil else { return }
        var items = prefix
        let epoch = stream.log.epoch
        if case .success(let events) = result, let first = events.first, first.offset == range.lowerBound {
            for event in events { items.append(.frame(Self.frame(name, epoch: epoch, event))) }
            let next = stream.log.fetched(sub, through: events[events.count - 1].offset, now: now)
            return deliverDrain(stream, sub: sub, next, prefix: items)
        }
        // The store cannot give these events any more: a gap notice, then live from the newest.
        let newest = stream.log.newestOffset
        items.append(.frame(ServerFrames.recovered(stream: name, recovered: false, epoch: epoch, offset: newest)))
        let next = stream.log.fetched(sub, through: newest, now: now)
        deliverDrain(stream, sub: sub, next, prefix: items)
    }

    static func frame(_ name: StreamName, epoch: StreamEpoch, _ event: StoredStreamEvent) -> ByteBuffer {
        ServerFrames.event(stream: name, epoch: epoch, offset: event.offset, data: RawJSON(trusted: event.data), key: event.key)
    }
}

/// A store read as a value, run off the event loops.
enum StoreRead {
    static func events(_ store: any DurableStreamStore, stream: String, after: UInt64, limit: Int) async
        -> Result<[StoredStreamEvent], any Error> {
        do { return .success(try await store.read(stream: stream, after: after, limit: limit)) } catch { return .failure(error) }
    }
}
