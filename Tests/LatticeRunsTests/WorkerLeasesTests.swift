import LatticeCRDT
import Testing

@testable import LatticeRuns

/// An offer of attempt `attempt` of node `node` of run "r".
func taskOffer(_ node: String, _ capability: String = "shell", attempt: Int = 1, run: String = "r",
               input: Value = .object([:])) -> TaskOffer {
    TaskOffer(workspace: "ws", run: run, node: node, attempt: attempt, capability: capability, input: input, deadline: nil)
}

/// The (worker, node) of each assignment among `actions`.
func assigned(_ actions: [LeaseAction]) -> [String] {
    actions.compactMap {
        if case .assign(let worker, let lease) = $0 { "\(worker):\(lease.node)" } else { nil }
    }
}

/// The lease of the single assignment among `actions`.
func onlyLease(_ actions: [LeaseAction], sourceLocation: SourceLocation = #_sourceLocation) -> Lease? {
    let leases = actions.compactMap { if case .assign(_, let lease) = $0 { lease } else { nil } }
    #expect(leases.count == 1, "\(actions)", sourceLocation: sourceLocation)
    return leases.first
}

@Suite struct WorkerLeasesTests {
    // MARK: Assignment

    @Test func anOfferGoesToAWorkerWithItsCapability() throws {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.register(worker: "b", capabilities: ["fetch"], concurrency: 1, now: 0)
        let actions = table.offer(taskOffer("n", "fetch", input: .object(["url": .string("x")])), now: 100)
        let lease = try #require(onlyLease(actions))
        #expect(actions == [.assign(worker: "b", lease: lease)])
        #expect(lease == Lease(id: "l_1", worker: "b", run: "r", node: "n", attempt: 1, capability: "fetch",
                               input: .object(["url": .string("x")]), expiresAt: 30_100))
        #expect(table.activeLeaseCount == 1)
        #expect(table.queuedCount == 0)
    }

    @Test func anOfferNoWorkerCanTakeWaits() {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        #expect(table.offer(taskOffer("n", "gpu"), now: 0) == [])
        #expect(table.queuedByCapability == ["gpu": 1])
        #expect(table.isQueued(TaskAttempt(run: "r", node: "n", attempt: 1)))
        #expect(table.activeLeaseCount == 0)
    }

    @Test func aQueuedTaskGoesToTheFirstWorkerThatRegistersWithItsCapability() {
        var table = WorkerLeases()
        _ = table.offer(taskOffer("a"), now: 0)
        _ = table.offer(taskOffer("b", "fetch"), now: 0)
        #expect(table.register(worker: "w1", capabilities: ["other"], concurrency: 4, now: 10) == [])
        #expect(assigned(table.register(worker: "w2", capabilities: ["fetch"], concurrency: 4, now: 20)) == ["w2:b"])
        let actions = table.register(worker: "w3", capabilities: ["shell"], concurrency: 4, now: 30)
        #expect(assigned(actions) == ["w3:a"])
        #expect(onlyLease(actions)?.expiresAt == 30_030)
        #expect(table.queuedCount == 0)
    }

    @Test func aWorkerHoldsAtMostItsConcurrency() throws {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 2, now: 0)
        #expect(assigned(table.offer(taskOffer("1"), now: 0)) == ["a:1"])
        #expect(assigned(table.offer(taskOffer("2"), now: 0)) == ["a:2"])
        #expect(table.offer(taskOffer("3"), now: 0) == [])
        #expect(table.leases(of: "a").map(\.node) == ["1", "2"])
        #expect(table.queuedTasks(capability: "shell") == [TaskAttempt(run: "r", node: "3", attempt: 1)])
        let ended = try table.complete(lease: "l_1", worker: "a", now: 50)
        #expect(ended.lease.node == "1")
        #expect(assigned(ended.actions) == ["a:3"])
        #expect(table.leases(of: "a").map(\.node) == ["2", "3"])
    }

    @Test func aConcurrencyBelowOneCountsAsOne() {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 0, now: 0)
        #expect(table.worker("a")?.concurrency == 1)
        #expect(assigned(table.offer(taskOffer("1"), now: 0)) == ["a:1"])
        #expect(table.offer(taskOffer("2"), now: 0) == [])
    }

    @Test func queuedTasksOfACapabilityGoOutInTheOrderTheyCame() throws {
        var table = WorkerLeases()
        for node in ["1", "2", "3"] { _ = table.offer(taskOffer(node), now: 0) }
        #expect(assigned(table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)) == ["a:1"])
        #expect(assigned(try table.complete(lease: "l_1", worker: "a", now: 1).actions) == ["a:2"])
        #expect(assigned(try table.fail(lease: "l_2", worker: "a", now: 2).actions) == ["a:3"])
        #expect(try table.complete(lease: "l_3", worker: "a", now: 3).actions == [])
    }

    @Test func aWorkerOfSeveralCapabilitiesTakesTheOldestTaskItCanServe() throws {
        var table = WorkerLeases()
        _ = table.offer(taskOffer("fetch1", "fetch"), now: 0)
        _ = table.offer(taskOffer("shell1", "shell"), now: 0)
        _ = table.offer(taskOffer("gpu1", "gpu"), now: 0)
        _ = table.offer(taskOffer("fetch2", "fetch"), now: 0)
        _ = table.offer(taskOffer("shell2", "shell"), now: 0)
        #expect(assigned(table.register(worker: "a", capabilities: ["shell", "fetch"], concurrency: 3, now: 0))
            == ["a:fetch1", "a:shell1", "a:fetch2"])
        #expect(table.queuedByCapability == ["gpu": 1, "shell": 1])
    }

    @Test func theLeastLoadedWorkerGetsTheTaskAndTiesGoByRegistrationOrder() throws {
        var table = WorkerLeases()
        _ = table.register(worker: "b", capabilities: ["shell"], concurrency: 3, now: 0)
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 3, now: 0)
        var order: [String] = []
        for node in ["1", "2", "3", "4"] { order += assigned(table.offer(taskOffer(node), now: 0)) }
        #expect(order == ["b:1", "a:2", "b:3", "a:4"])
        // a finishes one: a holds 1, b holds 2 — a is the least loaded.
        _ = try table.complete(lease: "l_2", worker: "a", now: 1)
        #expect(assigned(table.offer(taskOffer("5"), now: 1)) == ["a:5"])
        // A newcomer with no load goes first.
        _ = table.register(worker: "c", capabilities: ["shell"], concurrency: 1, now: 2)
        #expect(assigned(table.offer(taskOffer("6"), now: 2)) == ["c:6"])
        #expect(table.workerIDs == ["b", "a", "c"])
    }

    @Test func anAttemptAlreadyOfferedIsIgnored() {
        var table = WorkerLeases()
        _ = table.offer(taskOffer("q", "gpu"), now: 0)
        #expect(table.offer(taskOffer("q", "gpu"), now: 0) == [])
        #expect(table.queuedCount == 1)
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.offer(taskOffer("n"), now: 0)
        #expect(table.offer(taskOffer("n"), now: 0) == [])
        #expect(table.activeLeaseCount == 1)
        // A new attempt of the same node is another offer.
        #expect(table.offer(taskOffer("n", attempt: 2), now: 0) == [])
        #expect(table.queuedCount == 2)
    }

    // MARK: Re-registering

    @Test func aReRegisterUpdatesCapabilitiesAndConcurrencyAndKeepsOrderAndLeases() throws {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.register(worker: "b", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.offer(taskOffer("1"), now: 0)  // a
        _ = table.offer(taskOffer("2"), now: 0)  // b
        _ = table.offer(taskOffer("3"), now: 0)  // queued
        _ = table.offer(taskOffer("f", "fetch"), now: 0)  // queued
        // More slots: the queued shell task goes out at once.
        #expect(assigned(table.register(worker: "a", capabilities: ["shell"], concurrency: 2, now: 5)) == ["a:3"])
        // A new capability: the fetch task too (a keeps its shell leases).
        #expect(assigned(table.register(worker: "a", capabilities: ["fetch"], concurrency: 3, now: 6)) == ["a:f"])
        #expect(table.worker("a")?.capabilities == ["fetch"])
        #expect(table.worker("a")?.concurrency == 3)
        #expect(table.leases(of: "a").map(\.node) == ["1", "3", "f"])
        #expect(table.workerIDs == ["a", "b"])
        // Fewer slots: a keeps what it holds but gets nothing new until it is under the limit.
        _ = table.register(worker: "a", capabilities: ["fetch", "shell"], concurrency: 1, now: 7)
        _ = try table.complete(lease: "l_2", worker: "b", now: 8)
        #expect(assigned(table.offer(taskOffer("4"), now: 8)) == ["b:4"])
        #expect(table.offer(taskOffer("5"), now: 8) == [])
        _ = try table.complete(lease: "l_1", worker: "a", now: 9)
        _ = try table.complete(lease: "l_3", worker: "a", now: 9)
        #expect(assigned(try table.complete(lease: "l_4", worker: "a", now: 9).actions) == ["a:5"])
        // Leases held under an old capability stay valid.
        #expect(table.workerCount == 2)
    }

    // MARK: Heartbeats and expiry

    @Test func aHeartbeatExtendsTheLease() throws {
        var table = WorkerLeases(leaseMillis: 1_000)
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.offer(taskOffer("n"), now: 0)
        #expect(table.nextExpiry == 1_000)
        let lease = try table.progress(lease: "l_1", worker: "a", now: 800)
        #expect(lease.expiresAt == 1_800)
        #expect(table.nextExpiry == 1_800)
        #expect(table.expire(now: 1_000) == [])
        #expect(table.activeLeaseCount == 1)
        _ = try table.progress(lease: "l_1", worker: "a", now: 1_700)
        #expect(table.expire(now: 2_699) == [])
        #expect(table.expire(now: 2_700).count == 2)
    }

    @Test func anExpiredLeaseIsLostItsWorkerToldToStopAndTheSlotReused() throws {
        var table = WorkerLeases(leaseMillis: 1_000)
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        let first = try #require(onlyLease(table.offer(taskOffer("1"), now: 0)))
        _ = table.offer(taskOffer("2"), now: 500)
        let actions = table.expire(now: 1_000)
        #expect(actions.count == 3)
        #expect(actions.prefix(2) == [.cancel(worker: "a", lease: first),
                                      .lost(run: "r", node: "1", attempt: 1, reason: .expired)])
        let second = try #require(onlyLease(Array(actions.dropFirst(2))))
        #expect(second.node == "2")
        #expect(second.expiresAt == 2_000)
        #expect(table.nextExpiry == 2_000)
    }

    @Test func leasesExpireOldestFirst() {
        var table = WorkerLeases(leaseMillis: 100)
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 3, now: 0)
        _ = table.offer(taskOffer("late"), now: 50)
        _ = table.offer(taskOffer("early"), now: 10)
        _ = table.offer(taskOffer("tie"), now: 50)
        _ = try? table.progress(lease: "l_1", worker: "a", now: 60)  // late: 160
        let lost = table.expire(now: 1_000).compactMap { if case .lost(_, let node, _, _) = $0 { node } else { nil } }
        #expect(lost == ["early", "tie", "late"])
        #expect(table.nextExpiry == nil)
    }

    @Test func nextExpiryIsTheEarliestLease() throws {
        var table = WorkerLeases(leaseMillis: 100)
        #expect(table.nextExpiry == nil)
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 2, now: 0)
        _ = table.offer(taskOffer("1"), now: 10)
        _ = table.offer(taskOffer("2"), now: 20)
        #expect(table.nextExpiry == 110)
        _ = try table.complete(lease: "l_1", worker: "a", now: 30)
        #expect(table.nextExpiry == 120)
    }

    // MARK: Disconnects

    @Test func aDisconnectLosesTheWorkersLeasesAndFreesNothingElse() throws {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 2, now: 0)
        _ = table.register(worker: "b", capabilities: ["shell"], concurrency: 1, now: 0)
        for node in ["1", "2", "3", "4"] { _ = table.offer(taskOffer(node), now: 0) }  // a:1 b:2 a:3, 4 queued
        let actions = table.unregister(worker: "a", now: 10)
        #expect(actions == [.lost(run: "r", node: "1", attempt: 1, reason: .workerGone),
                            .lost(run: "r", node: "3", attempt: 1, reason: .workerGone)])
        #expect(table.workerCount == 1)
        #expect(table.activeLeases.map(\.node) == ["2"])
        #expect(table.queuedTasks(capability: "shell").map(\.node) == ["4"])
        #expect(table.unregister(worker: "a", now: 11) == [])
        #expect(throws: LeaseRefusal.leaseEnded("l_1")) { try table.complete(lease: "l_1", worker: "a", now: 12) }
        #expect(table.worker("a") == nil)
        #expect(table.leases(of: "a") == [])
    }

    // MARK: Refusals

    @Test func reportsOnAnUnknownLeaseAreRefused() {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.offer(taskOffer("n"), now: 0)
        for id in ["l_2", "l_0", "x", "", "l_", "l_01", "l_+1", "l_99999999999999999999", "m_1"] {
            #expect(throws: LeaseRefusal.unknownLease(id)) { try table.complete(lease: id, worker: "a", now: 1) }
            #expect(throws: LeaseRefusal.unknownLease(id)) { try table.fail(lease: id, worker: "a", now: 1) }
            #expect(throws: LeaseRefusal.unknownLease(id)) { try table.progress(lease: id, worker: "a", now: 1) }
        }
        #expect(table.activeLeaseCount == 1)
    }

    @Test func reportsOnAnotherWorkersLeaseAreRefused() throws {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.register(worker: "b", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.offer(taskOffer("n"), now: 0)
        #expect(throws: LeaseRefusal.notYourLease("l_1")) { try table.complete(lease: "l_1", worker: "b", now: 1) }
        #expect(throws: LeaseRefusal.notYourLease("l_1")) { try table.fail(lease: "l_1", worker: "b", now: 1) }
        #expect(throws: LeaseRefusal.notYourLease("l_1")) { try table.progress(lease: "l_1", worker: "b", now: 1) }
        #expect(throws: LeaseRefusal.notYourLease("l_1")) { try table.complete(lease: "l_1", worker: "stranger", now: 1) }
        #expect(table.lease("l_1")?.expiresAt == 30_000)
        #expect(try table.complete(lease: "l_1", worker: "a", now: 2).lease.node == "n")
    }

    @Test func aLeaseCompletesOnce() throws {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.offer(taskOffer("n"), now: 0)
        _ = try table.complete(lease: "l_1", worker: "a", now: 1)
        #expect(throws: LeaseRefusal.leaseEnded("l_1")) { try table.complete(lease: "l_1", worker: "a", now: 2) }
        #expect(throws: LeaseRefusal.leaseEnded("l_1")) { try table.fail(lease: "l_1", worker: "a", now: 2) }
        #expect(throws: LeaseRefusal.leaseEnded("l_1")) { try table.progress(lease: "l_1", worker: "a", now: 2) }
        #expect(throws: LeaseRefusal.leaseEnded("l_1")) { try table.complete(lease: "l_1", worker: "b", now: 2) }
    }

    @Test func aLateCompletionAfterExpiryIsRefused() throws {
        var table = WorkerLeases(leaseMillis: 100)
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.offer(taskOffer("n"), now: 0)
        _ = table.expire(now: 100)
        #expect(throws: LeaseRefusal.leaseEnded("l_1")) { try table.complete(lease: "l_1", worker: "a", now: 101) }
        #expect(throws: LeaseRefusal.leaseEnded("l_1")) { try table.progress(lease: "l_1", worker: "a", now: 101) }
        // The executor offers a new attempt: a new lease, which the worker may complete.
        let retry = try #require(onlyLease(table.offer(taskOffer("n", attempt: 2), now: 102)))
        #expect(retry.id == "l_2")
        #expect(try table.complete(lease: "l_2", worker: "a", now: 103).lease.attempt == 2)
    }

    @Test func aLateCompletionAfterCancelIsRefused() throws {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.offer(taskOffer("n"), now: 0)
        _ = table.cancel(run: "r", node: "n", attempt: 1, now: 1)
        #expect(throws: LeaseRefusal.leaseEnded("l_1")) { try table.complete(lease: "l_1", worker: "a", now: 2) }
        #expect(throws: LeaseRefusal.leaseEnded("l_1")) { try table.fail(lease: "l_1", worker: "a", now: 2) }
    }

    @Test func leaseIdsUseThePrefixAndTheCounterGiven() throws {
        var table = WorkerLeases(leasePrefix: "l_boot7_", firstLeaseNumber: 40)
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 2, now: 0)
        #expect(onlyLease(table.offer(taskOffer("1"), now: 0))?.id == "l_boot7_40")
        #expect(onlyLease(table.offer(taskOffer("2"), now: 0))?.id == "l_boot7_41")
        _ = try table.complete(lease: "l_boot7_40", worker: "a", now: 1)
        #expect(throws: LeaseRefusal.leaseEnded("l_boot7_40")) { try table.complete(lease: "l_boot7_40", worker: "a", now: 2) }
        // Ids of another process start are unknown, not ended.
        #expect(throws: LeaseRefusal.unknownLease("l_39")) { try table.complete(lease: "l_39", worker: "a", now: 2) }
        #expect(throws: LeaseRefusal.unknownLease("l_boot7_39")) { try table.complete(lease: "l_boot7_39", worker: "a", now: 2) }
    }

    // MARK: Cancels

    @Test func cancellingAQueuedTaskWithdrawsItSilently() {
        var table = WorkerLeases()
        _ = table.offer(taskOffer("1"), now: 0)
        _ = table.offer(taskOffer("2"), now: 0)
        #expect(table.cancel(run: "r", node: "1", attempt: 1, now: 1) == [])
        #expect(table.queuedTasks(capability: "shell").map(\.node) == ["2"])
        _ = table.cancel(run: "r", node: "2", attempt: 1, now: 1)
        #expect(table.queuedByCapability == [:])
        #expect(table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 2) == [])
    }

    @Test func cancellingALeasedTaskTellsItsWorkerAndFreesTheSlot() throws {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        let lease = try #require(onlyLease(table.offer(taskOffer("1"), now: 0)))
        _ = table.offer(taskOffer("2"), now: 0)
        let actions = table.cancel(run: "r", node: "1", attempt: 1, now: 5)
        #expect(actions.first == .cancel(worker: "a", lease: lease))
        #expect(assigned(Array(actions.dropFirst())) == ["a:2"])
        #expect(table.lease(for: TaskAttempt(run: "r", node: "1", attempt: 1)) == nil)
        #expect(table.lease(for: TaskAttempt(run: "r", node: "2", attempt: 1))?.id == "l_2")
    }

    @Test func cancellingAnAttemptTheTableDoesNotHoldDoesNothing() {
        var table = WorkerLeases()
        _ = table.register(worker: "a", capabilities: ["shell"], concurrency: 1, now: 0)
        _ = table.offer(taskOffer("1"), now: 0)
        #expect(table.cancel(run: "r", node: "1", attempt: 2, now: 1) == [])
        #expect(table.cancel(run: "other", node: "1", attempt: 1, now: 1) == [])
        #expect(table.activeLeaseCount == 1)
    }

    @Test func refusalsDescribeThemselves() {
        #expect(LeaseRefusal.unknownLease("l_9").description == "no lease 'l_9' was given out")
        #expect(LeaseRefusal.notYourLease("l_9").description == "lease 'l_9' is held by another worker")
        #expect(LeaseRefusal.leaseEnded("l_9").description == "lease 'l_9' has ended")
        #expect(LeaseRefusal.leaseEnded("l_9").lease == "l_9")
        #expect(LeaseLoss.expired.description.contains("expired"))
        #expect(LeaseLoss.workerGone.description.contains("disconnected"))
    }
}
