import LatticeCRDT
import PropertyBased
import Testing

@testable import LatticeRuns

/// Random sequences of registers, disconnects, offers, heartbeats, completions, failures,
/// cancels and expiries, checked against a model built only from the table's actions.
@Suite struct WorkerLeasesPropertyTests {
    @Test func theTableKeepsItsInvariantsUnderAnySequence() async {
        let seeds = Generator<UInt64, Shrink.None<UInt64>> { rng in rng.next() }
        await propertyCheck(count: 300, input: seeds) { seed in
            var random = SplitMix(seed: seed)
            var driver = LeaseDriver()
            for _ in 0..<Int.random(in: 1...200, using: &random) {
                driver.step(&random)
            }
        }
    }
}

/// Plays the server and the workers around one table and checks every answer.
struct LeaseDriver {
    struct ModelWorker {
        var capabilities: Set<String>
        var concurrency: Int
        /// Leases held when the worker last re-registered: a lower limit does not take them away.
        var carried: Int
        var generation: Int
    }

    struct ModelLease {
        var worker: WorkerID
        var task: TaskAttempt
        var capability: String
        /// The worker's registration generation when the lease was given.
        var generation: Int
    }

    var table = WorkerLeases(leaseMillis: 100)
    var now: Int64 = 0
    var workers: [WorkerID: ModelWorker] = [:]
    var live: [String: ModelLease] = [:]
    var ended: Set<String> = []
    /// Attempts offered and neither withdrawn, lost nor answered.
    var outstanding: [TaskAttempt: String] = [:]
    var nextAttempt: [String: Int] = [:]
    var completions = 0

    let workerNames: [WorkerID] = ["w0", "w1", "w2", "w3"]
    let capabilityNames = ["shell", "fetch", "gpu"]
    let nodeNames = ["a", "b", "c", "d", "e", "f"]

    mutating func step(_ random: inout SplitMix) {
        now += Int64.random(in: 0...40, using: &random)
        switch Int.random(in: 0..<10, using: &random) {
        case 0:
            let id = workerNames.randomElement(using: &random)!
            let caps = Set(capabilityNames.filter { _ in Bool.random(using: &random) })
            let concurrency = Int.random(in: 0...3, using: &random)
            let actions = table.register(worker: id, capabilities: caps, concurrency: concurrency, now: now)
            let load = live.values.filter { $0.worker == id }.count
            let generation = (workers[id]?.generation ?? 0) + 1
            workers[id] = ModelWorker(capabilities: caps, concurrency: max(1, concurrency), carried: load, generation: generation)
            apply(actions, cause: "register")
        case 1:
            let id = workerNames.randomElement(using: &random)!
            let actions = table.unregister(worker: id, now: now)
            let held = Set(live.filter { $0.value.worker == id }.map(\.value.task))
            #expect(Set(actions.compactMap(lostTask)) == held, "a disconnect loses exactly the worker's leases")
            #expect(actions.allSatisfy { if case .lost(_, _, _, .workerGone) = $0 { true } else { false } }, "\(actions)")
            workers[id] = nil
            apply(actions, cause: "unregister")
        case 2, 3:
            let node = nodeNames.randomElement(using: &random)!
            let attempt = (nextAttempt[node] ?? 0) + 1
            nextAttempt[node] = attempt
            let capability = capabilityNames.randomElement(using: &random)!
            let task = TaskAttempt(run: "r", node: node, attempt: attempt)
            outstanding[task] = capability
            apply(table.offer(TaskOffer(workspace: "ws", run: "r", node: node, attempt: attempt, capability: capability,
                                        input: .int(Int64(attempt)), deadline: nil), now: now), cause: "offer")
        case 4, 5, 6:
            report(&random)
        case 7:
            guard let task = outstanding.keys.randomElement(using: &random) else { return }
            let leased = live.first { $0.value.task == task }
            let actions = table.cancel(run: task.run, node: task.node, attempt: task.attempt, now: now)
            if let leased {
                if case .cancel(let worker, let lease) = actions.first {
                    #expect(worker == leased.value.worker && lease.id == leased.key, "a leased cancel tells its worker")
                } else {
                    Issue.record("a leased cancel tells the worker first: \(actions)")
                }
            } else {
                #expect(actions == [], "a queued cancel is silent")
            }
            outstanding[task] = nil
            apply(actions, cause: "cancel")
        default:
            now += Int64.random(in: 0...120, using: &random)
            let due = Set(live.keys.filter { table.lease($0)!.expiresAt <= now })
            let actions = table.expire(now: now)
            let cancelled = Set(actions.compactMap { if case .cancel(_, let lease) = $0 { lease.id } else { nil } })
            #expect(cancelled == due, "expire ends exactly the leases that ran out")
            apply(actions, cause: "expire")
        }
        checkInvariants()
    }

    /// A worker's report: on one of its leases, someone else's, an ended one, or an unknown id.
    mutating func report(_ random: inout SplitMix) {
        var candidates = Array(live.keys) + Array(ended)
        candidates.append("l_\(Int.random(in: 1000...2000, using: &random))")
        candidates.append("junk")
        let id = candidates.randomElement(using: &random)!
        let holder = live[id]?.worker
        let worker = Bool.random(using: &random) ? (holder ?? workerNames[0]) : workerNames.randomElement(using: &random)!
        let expected: LeaseRefusal?
        if let holder {
            expected = holder == worker ? nil : .notYourLease(id)
        } else {
            expected = ended.contains(id) ? .leaseEnded(id) : .unknownLease(id)
        }
        let kind = Int.random(in: 0..<3, using: &random)
        do throws(LeaseRefusal) {
            switch kind {
            case 0:
                let lease = try table.progress(lease: id, worker: worker, now: now)
                #expect(expected == nil, "progress accepted on \(id)")
                #expect(lease.expiresAt == now + 100)
            default:
                let result = kind == 1 ? try table.complete(lease: id, worker: worker, now: now)
                                       : try table.fail(lease: id, worker: worker, now: now)
                #expect(expected == nil, "report accepted on \(id), expected \(String(describing: expected))")
                // Accepted only on a live lease held by this worker.
                #expect(live[id]?.worker == worker)
                #expect(result.lease.id == id)
                endLease(id, cause: "report")
                outstanding[result.lease.task] = nil
                completions += 1
                apply(result.actions, cause: "report")
            }
        } catch {
            #expect(error == expected, "report on \(id) by \(worker)")
        }
    }

    func lostTask(_ action: LeaseAction) -> TaskAttempt? {
        if case .lost(let run, let node, let attempt, _) = action { TaskAttempt(run: run, node: node, attempt: attempt) } else { nil }
    }

    mutating func endLease(_ id: String, cause: String) {
        #expect(live[id] != nil, "\(cause) ends \(id), which is not live")
        #expect(!ended.contains(id), "\(cause) ends \(id) a second time")
        live[id] = nil
        ended.insert(id)
    }

    /// Folds the table's actions into the model, checking each against it.
    mutating func apply(_ actions: [LeaseAction], cause: String) {
        var previous: LeaseAction?
        for action in actions {
            defer { previous = action }
            switch action {
            case .assign(let worker, let lease):
                let model = workers[worker]
                #expect(model != nil, "\(cause): assigned to unregistered \(worker)")
                #expect(model?.capabilities.contains(lease.capability) == true, "\(cause): \(worker) lacks \(lease.capability)")
                let load = live.values.filter { $0.worker == worker }.count
                #expect(load < (model?.concurrency ?? 0), "\(cause): \(worker) is full")
                #expect(outstanding[lease.task] == lease.capability, "\(cause): \(lease.task) was not waiting")
                #expect(!live.values.contains { $0.task == lease.task }, "\(cause): \(lease.task) leased twice")
                #expect(live[lease.id] == nil && !ended.contains(lease.id), "\(cause): lease id \(lease.id) reused")
                #expect(lease.expiresAt == now + 100)
                #expect(lease.input == .int(Int64(lease.attempt)))
                live[lease.id] = ModelLease(worker: worker, task: lease.task, capability: lease.capability,
                                            generation: model?.generation ?? 0)
            case .cancel(let worker, let lease):
                #expect(live[lease.id]?.worker == worker, "\(cause): cancel of \(lease.id) not held by \(worker)")
                endLease(lease.id, cause: cause)
            case .lost(let run, let node, let attempt, _):
                let task = TaskAttempt(run: run, node: node, attempt: attempt)
                if let id = live.first(where: { $0.value.task == task })?.key {
                    endLease(id, cause: cause)
                } else if case .cancel(_, let lease) = previous, lease.task == task {
                    // An expiry: the worker was told to stop, then the attempt is lost.
                } else {
                    Issue.record("\(cause): \(task) lost without a lease")
                }
                outstanding[task] = nil
            }
        }
    }

    func checkInvariants() {
        // The table and the model agree on who holds what.
        let tableLeases = Dictionary(uniqueKeysWithValues: table.activeLeases.map { ($0.id, $0) })
        #expect(Set(tableLeases.keys) == Set(live.keys))
        for (id, lease) in tableLeases {
            #expect(lease.worker == live[id]?.worker)
            #expect(lease.task == live[id]?.task)
            // Every lease is held by a registered worker that had the capability when it got it.
            #expect(workers[lease.worker] != nil, "\(id) held by unregistered \(lease.worker)")
        }
        for (id, worker) in workers {
            let held = table.leases(of: id).count
            #expect(held == live.values.filter { $0.worker == id }.count)
            #expect(held <= max(worker.concurrency, worker.carried), "\(id) holds \(held) over \(worker.concurrency)")
            for lease in live.values where lease.worker == id && lease.generation == worker.generation {
                #expect(worker.capabilities.contains(lease.capability))
            }
        }
        #expect(table.workerCount == workers.count)
        // Each attempt is queued or leased, never both; every outstanding one is one of them.
        for (task, capability) in outstanding {
            let queued = table.isQueued(task)
            let leased = table.lease(for: task) != nil
            #expect(queued != leased, "\(task): queued \(queued), leased \(leased)")
            if queued {
                // A task waits only when no worker with its capability has a free slot.
                let free = workers.contains { id, w in
                    w.capabilities.contains(capability) && table.leases(of: id).count < w.concurrency
                }
                #expect(!free, "\(task) waits while a worker is free")
            }
        }
        #expect(table.queuedCount + table.activeLeaseCount == outstanding.count)
        #expect(table.nextExpiry == table.activeLeases.map(\.expiresAt).min())
    }
}
