import LatticeCRDT
import LatticeProtocol
import LatticeRuns
import LatticeStreams
import LatticeWebSocket
import NIOCore

/// The event triggers of every definition on this server (docs/runs.md, "Triggers"): one hub
/// subscription per channel that some definition watches, held by this server component on the
/// executor's loop. Each matching event starts a run whose idempotency key names the
/// definition and the event (epoch and offset), so an event never starts two runs of one
/// definition. Events published while the server is down are not seen.
final class EventTriggers: HubSubscriber {
    struct Watch {
        var workspace: String
        var type: String?
        var inputs: Value
    }

    struct Watched {
        var sub: SubscriberID
        /// By definition; a definition may watch one stream with several triggers.
        var watchers: [String: [Watch]] = [:]
    }

    let hub: StreamHub
    let loop: any EventLoop
    private var ref: SubscriberRef?
    private var streams: [StreamName: Watched] = [:]
    private var seq: UInt64 = 0
    private var parser = WebSocketFrameParser(role: .client)
    private let start: @Sendable (RunStartRequest) async -> Void

    /// Made on `loop` (one of the hub's), where it lives.
    init(hub: StreamHub, loop: any EventLoop, start: @escaping @Sendable (RunStartRequest) async -> Void) {
        self.hub = hub
        self.loop = loop
        self.start = start
    }

    /// Binds it to its loop; call once, on the loop.
    func attach() {
        ref = SubscriberRef(subscriber: NIOLoopBound(self, eventLoop: loop), loopIndex: hub.index(of: loop),
                            conn: ConnectionID(UInt64.max - 1))
    }

    /// Watches the streams of `stored`'s event triggers (instead of its earlier version's); a
    /// deleted definition watches nothing. On the loop.
    func arm(_ stored: StoredDefinition) {
        disarm(stored.id)
        guard stored.deletedAt == nil else { return }
        for trigger in stored.definition.triggers {
            guard case .event(let stream, let type, let inputs) = trigger,
                  case .success(let name) = StreamName.parse(stream), name.workspace.map(String.init) == stored.workspace else { continue }
            watch(name, definition: stored.id, Watch(workspace: stored.workspace, type: type, inputs: inputs))
        }
    }

    /// The definition watches nothing any more (deleted). On the loop.
    func disarm(_ definition: String) {
        for name in Array(streams.keys) { drop(definition, from: name) }
    }

    private func watch(_ name: StreamName, definition: String, _ watch: Watch) {
        guard let ref else { return }
        if streams[name] == nil {
            let sub = hub.makeSubscriberID()
            streams[name] = Watched(sub: sub)
            seq += 1
            hub.subscribe(name, sub: sub, ref: ref, since: nil, snapshot: false, requestID: nil, seq: seq)
        }
        streams[name]?.watchers[definition, default: []].append(watch)
    }

    private func drop(_ definition: String, from name: StreamName) {
        guard var watched = streams[name], watched.watchers.removeValue(forKey: definition) != nil else { return }
        if watched.watchers.isEmpty, let ref {
            streams.removeValue(forKey: name)
            seq += 1
            hub.unsubscribe(name, sub: watched.sub, ref: ref, requestID: nil, seq: seq)
        } else {
            streams[name] = watched
        }
    }

    /// One event of a watched channel: a run for each definition whose trigger matches it.
    private func received(_ frame: ByteBuffer, stream: StreamName, sub: SubscriberID) {
        guard let watched = streams[stream], watched.sub == sub else { return }
        var buffer = frame
        var payload: ByteBuffer?
        try? parser.parse(&buffer) { event in
            if case .frame(let decoded) = event { payload = decoded.payload }
        }
        guard let payload, case .success(.event(let event)) = ServerMessage.decode(payload),
              let data = try? Value.parseJSON(event.data.text) else { return }
        for (definition, watches) in watched.watchers {
            for watch in watches where WorkflowTrigger.matches(type: watch.type, data: data) {
                let request = RunStartRequest(workspace: watch.workspace, definitionID: definition,
                                              inputs: WorkflowTrigger.eventInputs(watch.inputs, data: data, offset: event.offset),
                                              actor: "trigger:event",
                                              key: "trigger:\(definition):event:\(event.epoch.rawValue):\(event.offset)",
                                              actorName: "event trigger (\(stream.name))", actorKind: "trigger")
                let start = self.start
                Task { await start(request) }
            }
        }
    }

    // MARK: HubSubscriber

    func hubReply(seq: UInt64, _ reply: HubReply) {}

    func hubDeliver(_ item: Delivery.Item, stream: StreamName, sub: SubscriberID, epoch: StreamEpoch) {
        if case .flow(.event(let event)) = item { received(event.payload, stream: stream, sub: sub) }
    }

    func hubDrained(stream: StreamName, sub: SubscriberID, epoch: StreamEpoch, items: [Delivery.Item], more: Bool) {
        for item in items { hubDeliver(item, stream: stream, sub: sub, epoch: epoch) }
        if more { hub.drain(stream, sub: sub) }
    }

    func hubCaughtUp(stream: StreamName, sub: SubscriberID, frames: [ByteBuffer], next: UInt64?) {}

    /// The channel changed class (or the hub ended the subscription otherwise): watch it again.
    func hubEnded(stream: StreamName, sub: SubscriberID, code: ErrorCode, message: String) {
        guard let watched = streams.removeValue(forKey: stream), watched.sub == sub else { return }
        for (definition, watches) in watched.watchers {
            for watch in watches { self.watch(stream, definition: definition, watch) }
        }
    }
}
