// What the table holds, for status pages, metrics and tests.

extension WorkerLeases {
    /// Registered workers.
    public var workerCount: Int { workers.count }

    /// The registered workers, in registration order.
    public var workerIDs: [WorkerID] {
        workers.sorted { $0.value.order < $1.value.order }.map(\.key)
    }

    /// A registered worker's capabilities and concurrency, nil when it is not registered.
    public func worker(_ id: WorkerID) -> (capabilities: Set<String>, concurrency: Int)? {
        workers[id].map { ($0.capabilities, $0.concurrency) }
    }

    /// Tasks waiting for a worker, per capability (capabilities with none are left out).
    public var queuedByCapability: [String: Int] {
        queues.mapValues(\.count)
    }

    /// Tasks waiting for a worker.
    public var queuedCount: Int { queued.count }

    /// The attempts waiting for a worker with `capability`, oldest first.
    public func queuedTasks(capability: String) -> [TaskAttempt] {
        (queues[capability] ?? []).map { TaskAttempt(run: $0.offer.run, node: $0.offer.node, attempt: $0.offer.attempt) }
    }

    public func isQueued(_ task: TaskAttempt) -> Bool { queued[task] != nil }

    /// Leases held now.
    public var activeLeaseCount: Int { live.count }

    /// The leases held now, in the order they were given out.
    public var activeLeases: [Lease] {
        live.values.sorted { $0.number < $1.number }.map(\.lease)
    }

    /// The live lease with this id.
    public func lease(_ id: String) -> Lease? { live[id]?.lease }

    /// The live lease of an attempt.
    public func lease(for task: TaskAttempt) -> Lease? { leaseOf[task].flatMap { live[$0]?.lease } }

    /// The leases a worker holds now, in the order they were given out.
    public func leases(of worker: WorkerID) -> [Lease] {
        (workers[worker]?.leases ?? []).compactMap { live[$0] }.sorted { $0.number < $1.number }.map(\.lease)
    }
}
