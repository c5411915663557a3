/// The table the server uses to hand `task` nodes to bot workers.
///
/// A value with no clock and no callbacks: every change takes `now` (milliseconds since 1970)
/// and returns the actions the server carries out (`task.assign`, `task.cancel`, reports of
/// lost attempts to the executor). The table never offers a task again by itself: a lost
/// attempt goes back to the executor, whose machine retries it as a new attempt or fails it.
///
/// - Offers wait in one FIFO queue per capability and go to a registered worker with that
///   capability and a free slot: the least loaded, ties by registration order.
/// - A lease lasts `leaseMillis` from its assignment or its last heartbeat.
/// - A report on a lease that is unknown, held by another worker or already ended is refused.
public struct WorkerLeases: Sendable {
    struct Worker: Sendable {
        var capabilities: Set<String>
        var concurrency: Int
        /// Registration order (kept by a re-register): breaks ties between equally loaded workers.
        var order: UInt64
        var leases: Set<String> = []

        var hasFreeSlot: Bool { leases.count < concurrency }
    }

    struct Queued: Sendable {
        /// Arrival order across every capability, so a worker serving several takes the oldest.
        var seq: UInt64
        var offer: TaskOffer
    }

    struct LiveLease: Sendable {
        var lease: Lease
        var number: UInt64
    }

    /// How long a lease lasts without a heartbeat.
    public let leaseMillis: Int64
    /// Lease ids are this prefix and a counter: the server makes the prefix unique per process
    /// start so that a worker's report from before a restart can never name a new lease.
    public let leasePrefix: String
    let firstLeaseNumber: UInt64

    var workers: [WorkerID: Worker] = [:]
    var queues: [String: [Queued]] = [:]
    /// Where each queued attempt waits (its capability).
    var queued: [TaskAttempt: String] = [:]
    var live: [String: LiveLease] = [:]
    var leaseOf: [TaskAttempt: String] = [:]
    var nextLeaseNumber: UInt64
    var nextOrder: UInt64 = 0
    var nextSeq: UInt64 = 0

    public init(leaseMillis: Int64 = 30_000, leasePrefix: String = "l_", firstLeaseNumber: UInt64 = 1) {
        self.leaseMillis = leaseMillis
        self.leasePrefix = leasePrefix
        self.firstLeaseNumber = firstLeaseNumber
        self.nextLeaseNumber = firstLeaseNumber
    }

    // MARK: Workers

    /// Adds a worker (or updates one already registered: its capabilities and concurrency
    /// change, its place in the registration order and its current leases stay), then hands it
    /// queued tasks. A concurrency below 1 counts as 1. A worker whose new limits no longer fit
    /// its current leases keeps them, and gets nothing new until it is back under its limit.
    public mutating func register(worker id: WorkerID, capabilities: Set<String>, concurrency: Int, now: Int64) -> [LeaseAction] {
        let slots = max(1, concurrency)
        if var worker = workers[id] {
            worker.capabilities = capabilities
            worker.concurrency = slots
            workers[id] = worker
        } else {
            workers[id] = Worker(capabilities: capabilities, concurrency: slots, order: nextOrder)
            nextOrder += 1
        }
        return dispatch(now: now)
    }

    /// Drops a worker (it disconnected): each lease it held is lost. Nothing else changes, so
    /// nothing else is assigned.
    public mutating func unregister(worker id: WorkerID, now: Int64) -> [LeaseAction] {
        guard let worker = workers.removeValue(forKey: id) else { return [] }
        return worker.leases.compactMap { live[$0] }.sorted { $0.number < $1.number }.map { entry in
            end(entry.lease.id)
            return .lost(run: entry.lease.run, node: entry.lease.node, attempt: entry.lease.attempt, reason: .workerGone)
        }
    }

    // MARK: Offers

    /// Queues the task and assigns it at once if a worker can take it. An attempt already
    /// queued or leased is ignored (the executor offers each attempt once).
    public mutating func offer(_ offer: TaskOffer, now: Int64) -> [LeaseAction] {
        let task = TaskAttempt(run: offer.run, node: offer.node, attempt: offer.attempt)
        guard queued[task] == nil, leaseOf[task] == nil else { return [] }
        queues[offer.capability, default: []].append(Queued(seq: nextSeq, offer: offer))
        queued[task] = offer.capability
        nextSeq += 1
        return dispatch(now: now)
    }

    /// The executor cancels an attempt: a queued one is withdrawn silently; a leased one ends
    /// and its worker is told to stop (a later report from it is refused as `leaseEnded`), and
    /// the freed slot takes the next queued task.
    public mutating func cancel(run: String, node: String, attempt: Int, now: Int64) -> [LeaseAction] {
        let task = TaskAttempt(run: run, node: node, attempt: attempt)
        if let capability = queued.removeValue(forKey: task) {
            queues[capability]?.removeAll { $0.offer.run == run && $0.offer.node == node && $0.offer.attempt == attempt }
            if queues[capability]?.isEmpty == true { queues[capability] = nil }
            return []
        }
        guard let id = leaseOf[task], let lease = end(id) else { return [] }
        return [.cancel(worker: lease.worker, lease: lease)] + dispatch(now: now)
    }

    // MARK: Worker reports

    /// A heartbeat (`task.progress`): the lease lasts `leaseMillis` from now.
    public mutating func progress(lease id: String, worker: WorkerID, now: Int64) throws(LeaseRefusal) -> Lease {
        try check(id, worker)
        live[id]!.lease.expiresAt = now + leaseMillis
        return live[id]!.lease
    }

    /// `task.complete`: the lease ends and the worker's slot takes the next queued task.
    public mutating func complete(lease id: String, worker: WorkerID, now: Int64) throws(LeaseRefusal) -> EndedLease {
        try finish(id, worker, now: now)
    }

    /// `task.fail`: the same as `complete` for the table; the executor decides about a retry.
    public mutating func fail(lease id: String, worker: WorkerID, now: Int64) throws(LeaseRefusal) -> EndedLease {
        try finish(id, worker, now: now)
    }

    // MARK: Time

    /// Ends every lease that ran out by `now` (oldest first): its worker is told to stop (it may
    /// still be working, slowly) and the attempt is lost. Freed slots take queued tasks.
    public mutating func expire(now: Int64) -> [LeaseAction] {
        let due = live.values.filter { $0.lease.expiresAt <= now }
            .sorted { ($0.lease.expiresAt, $0.number) < ($1.lease.expiresAt, $1.number) }
        guard !due.isEmpty else { return [] }
        var actions: [LeaseAction] = []
        for entry in due {
            let lease = entry.lease
            end(lease.id)
            actions.append(.cancel(worker: lease.worker, lease: lease))
            actions.append(.lost(run: lease.run, node: lease.node, attempt: lease.attempt, reason: .expired))
        }
        return actions + dispatch(now: now)
    }

    /// When the next lease runs out: the one timer the server keeps for `expire`.
    public var nextExpiry: Int64? {
        live.values.map(\.lease.expiresAt).min()
    }

    // MARK: Internals

    /// Refuses a report on a lease `worker` does not hold.
    func check(_ id: String, _ worker: WorkerID) throws(LeaseRefusal) {
        guard let entry = live[id] else {
            throw wasGivenOut(id) ? .leaseEnded(id) : .unknownLease(id)
        }
        guard entry.lease.worker == worker else { throw .notYourLease(id) }
    }

    /// Whether `id` is one of the table's ids (every id it gave out that is not live has ended).
    func wasGivenOut(_ id: String) -> Bool {
        guard id.hasPrefix(leasePrefix), let number = UInt64(id.dropFirst(leasePrefix.count)),
              String(number) == id.dropFirst(leasePrefix.count) else { return false }
        return number >= firstLeaseNumber && number < nextLeaseNumber
    }

    mutating func finish(_ id: String, _ worker: WorkerID, now: Int64) throws(LeaseRefusal) -> EndedLease {
        try check(id, worker)
        let lease = end(id)!
        return EndedLease(lease: lease, actions: dispatch(now: now))
    }

    /// Removes a live lease and frees its worker's slot.
    @discardableResult
    mutating func end(_ id: String) -> Lease? {
        guard let entry = live.removeValue(forKey: id) else { return nil }
        leaseOf[entry.lease.task] = nil
        workers[entry.lease.worker]?.leases.remove(id)
        return entry.lease
    }

    /// Assigns queued tasks while a worker can take one, oldest first across capabilities.
    mutating func dispatch(now: Int64) -> [LeaseAction] {
        var actions: [LeaseAction] = []
        while true {
            var best: (capability: String, seq: UInt64, worker: WorkerID)?
            for (capability, queue) in queues {
                guard let head = queue.first, best.map({ head.seq < $0.seq }) ?? true,
                      let worker = leastLoadedWorker(for: capability) else { continue }
                best = (capability, head.seq, worker)
            }
            guard let best else { return actions }
            let offer = queues[best.capability]!.removeFirst().offer
            if queues[best.capability]!.isEmpty { queues[best.capability] = nil }
            actions.append(assign(offer, to: best.worker, now: now))
        }
    }

    func leastLoadedWorker(for capability: String) -> WorkerID? {
        var best: (id: WorkerID, load: Int, order: UInt64)?
        for (id, worker) in workers where worker.hasFreeSlot && worker.capabilities.contains(capability) {
            let load = worker.leases.count
            if best.map({ (load, worker.order) < ($0.load, $0.order) }) ?? true {
                best = (id, load, worker.order)
            }
        }
        return best?.id
    }

    mutating func assign(_ offer: TaskOffer, to worker: WorkerID, now: Int64) -> LeaseAction {
        let number = nextLeaseNumber
        nextLeaseNumber += 1
        let lease = Lease(id: leasePrefix + String(number), worker: worker, run: offer.run, node: offer.node,
                          attempt: offer.attempt, capability: offer.capability, input: offer.input,
                          expiresAt: now + leaseMillis)
        let task = lease.task
        queued[task] = nil
        live[lease.id] = LiveLease(lease: lease, number: number)
        leaseOf[task] = lease.id
        workers[worker]!.leases.insert(lease.id)
        return .assign(worker: worker, lease: lease)
    }
}
