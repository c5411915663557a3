import LatticeCRDT
import LatticeProtocol
public import LatticeRuns
import NIOCore
import Synchronization

/// What a connected bot worker is sent: the server side of `task.assign` and `task.cancel`.
public enum WorkerDelivery: Sendable, Equatable {
    /// `capability` is the worker's own name for it (without the workspace).
    case assign(Lease, capability: String)
    case cancel(Lease, reason: String)
}

/// Why a worker's request about a lease was refused.
public enum WorkerReportError: Error, Sendable, Equatable {
    case lease(LeaseRefusal)
    /// The lease was fine but the executor refused the report (the run moved on).
    case run(RunCommandError)
}

/// The executor's `TaskDispatcher` on the server: the worker lease table (`WorkerLeases`) of
/// every bot worker connected to this server, and the one timer that expires its leases. All
/// of it lives on the executor's event loop.
///
/// Workers serve one workspace: capabilities are kept as `workspace/capability`, so a task of a
/// run is only ever leased to a worker registered in the run's workspace.
public final class WorkerDispatcher: TaskDispatcher, Sendable {
    struct State {
        var leases: WorkerLeases
        var sinks: [WorkerID: @Sendable (WorkerDelivery) -> Void] = [:]
        var timer: Scheduled<Void>?
        var timerAt: Int64?
    }

    let loop: any EventLoop
    let clock: @Sendable () -> Int64
    private let state: NIOLoopBoundBox<State>
    /// Set once, right after the executor is made (each needs the other).
    private let attached = Mutex<RunExecutor?>(nil)

    init(loop: any EventLoop, leaseMillis: Int64, leasePrefix: String,
         clock: @escaping @Sendable () -> Int64) {
        self.loop = loop
        self.clock = clock
        state = .makeBoxSendingValue(State(leases: WorkerLeases(leaseMillis: leaseMillis, leasePrefix: leasePrefix)),
                                     as: State.self, eventLoop: loop)
    }

    /// Where lost attempts and worker reports go (set once, before the executor starts).
    func attach(_ executor: RunExecutor) {
        attached.withLock { $0 = executor }
    }

    static func key(_ workspace: String, _ capability: String) -> String { "\(workspace)/\(capability)" }

    static func ownName(_ key: String) -> String {
        key.firstIndex(of: "/").map { String(key[key.index(after: $0)...]) } ?? key
    }

    // MARK: TaskDispatcher

    public func offer(_ task: TaskOffer) {
        loop.execute {
            var keyed = task
            keyed.capability = Self.key(task.workspace, task.capability)
            self.apply { $0.offer(keyed, now: self.clock()) }
        }
    }

    /// The executor cancels an attempt: its worker is sent `task.cancel` (or the queued offer is
    /// withdrawn), and the attempt counts as stopped at once: whatever the worker sends about
    /// it later is refused, so it cannot complete the node.
    public func cancel(run: String, node: String, attempt: Int) {
        loop.execute {
            self.apply { $0.cancel(run: run, node: node, attempt: attempt, now: self.clock()) }
            guard let executor = self.attached.withLock({ $0 }) else { return }
            Task { _ = try? await executor.taskStopped(run: run, node: node, attempt: attempt) }
        }
    }

    // MARK: Workers

    /// A worker connection registers (or changes) its capabilities in `workspace`; `sink` gets
    /// its assignments and cancels, on any thread.
    func register(_ worker: WorkerID, workspace: String, capabilities: Set<String>, concurrency: Int,
                  sink: @escaping @Sendable (WorkerDelivery) -> Void) {
        loop.execute {
            self.state.value.sinks[worker] = sink
            let keyed = Set(capabilities.map { Self.key(workspace, $0) })
            self.apply { $0.register(worker: worker, capabilities: keyed, concurrency: concurrency, now: self.clock()) }
        }
    }

    /// The worker's connection closed: its leases are lost (retried or failed by the executor).
    func unregister(_ worker: WorkerID) {
        loop.execute {
            self.apply { $0.unregister(worker: worker, now: self.clock()) }
            self.state.value.sinks[worker] = nil
        }
    }

    /// `task.progress`: a heartbeat, and a `node.progress` event with `data` when it has some.
    func progress(lease: String, worker: WorkerID, data: Value?) async throws(WorkerReportError) {
        let held = try await onLoop { state throws(LeaseRefusal) in try state.leases.progress(lease: lease, worker: worker, now: self.clock()) }
        guard let data else { return }
        let executor = try executor()
        do { _ = try await executor.taskProgress(run: held.run, node: held.node, attempt: held.attempt, data: data) } catch {
            throw .run(error)
        }
    }

    /// `task.complete`: the lease ends and the node's output is the worker's.
    func complete(lease: String, worker: WorkerID, output: Value) async throws(WorkerReportError) -> RunRecord {
        let ended = try await end(lease, worker) { leases, now throws(LeaseRefusal) in try leases.complete(lease: lease, worker: worker, now: now) }
        let executor = try executor()
        do { return try await executor.taskCompleted(run: ended.run, node: ended.node, attempt: ended.attempt, output: output) } catch {
            throw .run(error)
        }
    }

    /// `task.fail`: the lease ends; the executor retries the node or fails it.
    func fail(lease: String, worker: WorkerID, error message: String, retryable: Bool) async throws(WorkerReportError) -> RunRecord {
        let ended = try await end(lease, worker) { leases, now throws(LeaseRefusal) in try leases.fail(lease: lease, worker: worker, now: now) }
        let executor = try executor()
        do {
            return try await executor.taskFailed(run: ended.run, node: ended.node, attempt: ended.attempt, error: message, retryable: retryable)
        } catch {
            throw .run(error)
        }
    }

    // MARK: On the loop

    private func executor() throws(WorkerReportError) -> RunExecutor {
        // Attached before the server accepts connections; a worker cannot report earlier.
        guard let executor = attached.withLock({ $0 }) else { throw .run(.storeFailed("the executor is not running")) }
        return executor
    }

    private func end(_ lease: String, _ worker: WorkerID,
                     _ body: @escaping @Sendable (inout WorkerLeases, Int64) throws(LeaseRefusal) -> EndedLease) async throws(WorkerReportError) -> Lease {
        try await onLoop { state throws(LeaseRefusal) in
            let ended = try body(&state.leases, self.clock())
            self.perform(ended.actions, &state)
            return ended.lease
        }
    }

    /// Runs `body` on the loop with the state; a lease refusal comes back as `.lease`.
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (inout State) throws(LeaseRefusal) -> T) async throws(WorkerReportError) -> T {
        let result: Result<T, LeaseRefusal> = await withCheckedContinuation { continuation in
            loop.execute {
                do throws(LeaseRefusal) {
                    let value = try body(&self.state.value)
                    self.reschedule(&self.state.value)
                    continuation.resume(returning: .success(value))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.mapError(WorkerReportError.lease).get()
    }

    /// Applies a change of the table and carries out its actions (on the loop).
    private func apply(_ change: (inout WorkerLeases) -> [LeaseAction]) {
        let actions = change(&state.value.leases)
        perform(actions, &state.value)
        reschedule(&state.value)
    }

    private func perform(_ actions: [LeaseAction], _ state: inout State) {
        for action in actions {
            switch action {
            case .assign(let worker, let lease):
                state.sinks[worker]?(.assign(lease, capability: Self.ownName(lease.capability)))
            case .cancel(let worker, let lease):
                state.sinks[worker]?(.cancel(lease, reason: "the task was cancelled or its lease ended"))
            case .lost(let run, let node, let attempt, let reason):
                guard let executor = attached.withLock({ $0 }) else { continue }
                Task { _ = try? await executor.taskFailed(run: run, node: node, attempt: attempt, error: reason.description, retryable: true) }
            }
        }
    }

    /// Keeps one timer, at the earliest lease expiry.
    private func reschedule(_ state: inout State) {
        let next = state.leases.nextExpiry
        guard next != state.timerAt else { return }
        state.timer?.cancel()
        state.timer = nil
        state.timerAt = next
        guard let next else { return }
        let delay = max(0, next - clock())
        state.timer = loop.scheduleTask(in: .milliseconds(delay)) {
            self.state.value.timerAt = nil
            self.state.value.timer = nil
            self.apply { $0.expire(now: self.clock()) }
        }
    }
}
