import Foundation
public import LatticeRuns
import LatticeProtocol
public import LatticeStreams
import NIOCore
import Synchronization

/// Runs as a part of `lattice serve`: the executor on one of the hub's loops, its events on
/// `run/{id}` through the hub, and every run known to the access check (`ResourceDirectory`)
/// so its monitors are checked against its workspace. REST and lattice.v1 requests both come
/// here (docs/runs.md).
public final class RunService: Sendable {
    public let store: any RunStore
    public let executor: RunExecutor
    /// The bot workers connected to this server and the tasks leased to them.
    public let workers: WorkerDispatcher
    let resources: ResourceDirectory
    /// Set once at start (the triggers start runs through this service).
    private let triggerBox = Mutex<IntervalTriggers?>(nil)
    private let eventTriggerBox = Mutex<NIOLoopBound<EventTriggers>?>(nil)
    let streams: any DurableStreamStore

    init(store: any RunStore, executor: RunExecutor, workers: WorkerDispatcher, resources: ResourceDirectory,
         streams: any DurableStreamStore) {
        self.streams = streams
        self.store = store
        self.executor = executor
        self.workers = workers
        self.resources = resources
    }

    /// Wall-clock milliseconds: what run rows and events record.
    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// Loads the run directory, then reconciles what was active when the server last stopped
    /// (docs/runs.md, "Start-up"), before the server accepts a connection.
    static func start(store: any RunStore, streams: any DurableStreamStore, hub: StreamHub, resources: ResourceDirectory,
                      limits: RunLimits, leaseMillis: Int64 = 30_000) async throws -> RunService {
        for (run, workspace) in try await store.runWorkspaces() {
            resources.register(.run, id: run, workspace: workspace)
        }
        let loop = hub.loops[0]
        // Lease ids differ from one server start to the next: a worker's report about a lease of
        // an earlier start can never name a new one.
        let prefix = "l_\(String(UInt32.random(in: .min ... .max), radix: 36))_"
        let workers = WorkerDispatcher(loop: loop, leaseMillis: leaseMillis, leasePrefix: prefix,
                                       clock: { RunService.now() })
        let executor = RunExecutor(store: store, log: HubRunEventLog(hub: hub), tasks: workers, loop: loop,
                                   limits: limits, clock: { RunService.now() })
        workers.attach(executor)
        let service = RunService(store: store, executor: executor, workers: workers, resources: resources, streams: streams)
        _ = try await executor.recover()
        let triggers = IntervalTriggers(loop: loop) { [weak service] request in
            _ = try? await service?.start(request)
        }
        service.triggerBox.withLock { $0 = triggers }
        let events = try await loop.submit { [weak service] () -> NIOLoopBound<EventTriggers> in
            let events = EventTriggers(hub: hub, loop: loop) { [weak service] request in _ = try? await service?.start(request) }
            events.attach()
            return NIOLoopBound(events, eventLoop: loop)
        }.get()
        service.eventTriggerBox.withLock { $0 = events }
        for stored in try await store.triggeredDefinitions() { service.definitionChanged(stored) }
        return service
    }

    /// Starts a run (idempotent by `request.key`); the run is known to the access check before
    /// anyone learns its id.
    public func start(_ request: RunStartRequest) async throws(RunCommandError) -> (record: RunRecord, isNew: Bool) {
        let started = try await executor.begin(request)
        resources.register(.run, id: started.record.id, workspace: started.record.header.workspace)
        return started
    }

    /// Where a monitor of the run reads from: its stream's epoch and newest offset (a
    /// `subscribe` with `since: {epoch, offset: 0}` replays it all).
    public func head(ofRun id: String) -> DurableStreamHead {
        streams.head(of: "run/\(id)")
    }

    /// A definition was created, edited or deleted: its triggers follow its newest version.
    public func definitionChanged(_ stored: StoredDefinition) {
        triggerBox.withLock { $0 }?.arm(stored)
        if let events = eventTriggerBox.withLock({ $0 }) {
            executor.loop.execute { events.value.arm(stored) }
        }
    }

    public func definitionDeleted(_ id: String) {
        triggerBox.withLock { $0 }?.disarm(id)
        if let events = eventTriggerBox.withLock({ $0 }) {
            executor.loop.execute { events.value.disarm(id) }
        }
    }

    /// The workspace of a run, nil when there is no such run.
    public func workspace(ofRun id: String) -> String? {
        resources.workspace(of: .run, id: id)
    }
}
