import LatticeCRDT
import LatticeRuns
import Testing

@Suite struct RunMachineTests {
    // MARK: Proceeding

    @Test func aLinearRunEmitsWaitsAndCollectsItsOutput() throws {
        var run = RunHarness([emit("a", .object(["n": ref("inputs.n")]), next: ["b"]), delay("b", 500, next: ["c"]),
                              output("c", ref("nodes.a.output.n"))], inputs: .object(["n": .int(7)]))
        #expect(run.status == .queued)
        try run.send(.start)
        #expect(run.status == .running)
        #expect(run.node("a").output == .object(["n": .int(7)]))
        #expect(run.timers(.delay).map(\.1) == [1_500])
        try run.fireTimers()
        #expect(run.status == .ok)
        #expect(run.record.outputs == ["c": .int(7)])
        #expect(run.actions.contains(.finished(.ok)))
        #expect(run.types == ["run.created", "run.status", "node.started", "node.output", "node.finished", "node.started",
                              "node.finished", "node.started", "node.output", "node.finished", "run.finished"])
        run.checkReplay()
    }

    @Test func parallelBranchesRunTogetherAndTheJoinStartsOnce() throws {
        var run = RunHarness([emit("a", next: ["b", "c"]), task("b", next: ["d"]), task("c", next: ["d"]), output("d", .string("done"))])
        try run.send(.start)
        #expect(run.offers.map(\.node).sorted() == ["b", "c"])
        try run.send(.taskCompleted(node: "b", attempt: 1, output: .int(1)))
        #expect(run.node("d").status == .pending)
        try run.send(.taskCompleted(node: "c", attempt: 1, output: .int(2)))
        #expect(run.node("d").status == .ok)
        #expect(run.events.filter { $0.change == .nodeStarted(node: "d", attempt: 1) }.count == 1)
        #expect(run.status == .ok)
        run.checkReplay()
    }

    @Test func aConditionTakesOneBranchAndSkipsTheOther() throws {
        for (n, taken, skipped) in [(Int64(5), "big", "small"), (Int64(1), "small", "big")] {
            var run = RunHarness([condition("c", ref("inputs.n"), .greater, .int(3), then: ["big"], else: ["small"]),
                                  emit("big", .string("big"), next: ["join"]), emit("small", .string("small"), next: ["join"]),
                                  output("join")], inputs: .object(["n": .int(n)]))
            try run.send(.start)
            #expect(run.status == .ok)
            #expect(run.node(taken).status == .ok)
            #expect(run.node(skipped).status == .skipped)
            #expect(run.record.outputs == ["join": .string(taken)])
            run.checkReplay()
        }
    }

    @Test func skippingFlowsDownAWholeBranch() throws {
        var run = RunHarness([condition("c", .bool(false), .truthy, then: ["x"], else: []), emit("x", next: ["y"]), emit("y")])
        try run.send(.start)
        #expect(run.node("x").status == .skipped)
        #expect(run.node("y").status == .skipped)
        #expect(run.status == .ok)
    }

    @Test func tasksGetTheirInputResolved() throws {
        var run = RunHarness([emit("a", .object(["v": .string("x")]), next: ["t"]),
                              task("t", "summarize", input: .object(["text": ref("nodes.a.output.v"), "k": ref("inputs.k"), "missing": ref("inputs.nope")]), timeout: 2_000)],
                             inputs: .object(["k": .array([.int(1)])]))
        try run.send(.start)
        let offer = try #require(run.offers.first)
        #expect(offer.capability == "summarize")
        #expect(offer.input == .object(["text": .string("x"), "k": .array([.int(1)]), "missing": .null]))
        #expect(offer.deadline == 3_000)
        #expect(offer.run == "run_1")
    }

    @Test func progressIsAnEvent() throws {
        var run = RunHarness([task("t")])
        try run.send(.start)
        try run.send(.taskProgress(node: "t", attempt: 1, data: .object(["pct": .int(40)])))
        #expect(run.node("t").progress == .object(["pct": .int(40)]))
        #expect(run.types.last == "node.progress")
    }

    // MARK: Retries, failures, timeouts

    @Test func aFailedAttemptIsRetriedAfterABackoffThatDoubles() throws {
        var run = RunHarness([task("t", retries: 2, backoff: 100)])
        try run.send(.start)
        try run.send(.taskFailed(node: "t", attempt: 1, error: "busy", retryable: true))
        #expect(run.node("t").status == .retrying)
        #expect(run.timers(.retry).map(\.1) == [run.now + 100])
        try run.fireTimers()
        #expect(run.offers.map(\.attempt) == [2])
        try run.send(.taskFailed(node: "t", attempt: 2, error: "busy", retryable: true))
        #expect(run.timers(.retry).map(\.1) == [run.now + 200])
        try run.fireTimers()
        try run.send(.taskCompleted(node: "t", attempt: 3, output: .string("ok")))
        #expect(run.status == .retriedOK)
        #expect(run.record.visits == 3)
        run.checkReplay()
    }

    @Test func retriesRunOutAndTheRunFails() throws {
        var run = RunHarness([task("t", retries: 1)])
        try run.send(.start)
        try run.send(.taskFailed(node: "t", attempt: 1, error: "e1", retryable: true))
        try run.fireTimers()
        try run.send(.taskFailed(node: "t", attempt: 2, error: "e2", retryable: true))
        #expect(run.status == .failed)
        #expect(run.record.reason == "node \"t\" failed: e2")
        run.checkReplay()
    }

    @Test func aFailureThatIsNotRetryableFailsAtOnceAndCancelsTheOtherBranches() throws {
        var run = RunHarness([emit("a", next: ["t", "u", "w"]), task("t", retries: 3), task("u"), delay("w", 10_000)])
        try run.send(.start)
        try run.send(.taskFailed(node: "t", attempt: 1, error: "bad input", retryable: false))
        #expect(run.status == .failed)
        #expect(run.cancelledTasks == ["u"])
        #expect(run.node("u").status == .cancelled)
        #expect(run.node("w").status == .cancelled)
        run.checkReplay()
    }

    @Test func aNodeThatMayFailLetsTheRunEndPartial() throws {
        var run = RunHarness([emit("a", next: ["t", "b"]), task("t", next: ["after"], mayFail: true), emit("after"), emit("b")])
        try run.send(.start)
        try run.send(.taskFailed(node: "t", attempt: 1, error: "nope", retryable: false))
        #expect(run.node("after").status == .skipped)
        #expect(run.status == .partial)
        run.checkReplay()
    }

    @Test func aTimedOutTaskIsCancelledAndRetried() throws {
        var run = RunHarness([task("t", retries: 1, timeout: 1_000)])
        try run.send(.start)
        #expect(run.timers(.timeout).map(\.1) == [2_000])
        try run.fireTimers()
        #expect(run.cancelledTasks == ["t"])
        #expect(run.node("t").error == "timed out after 1000 ms")
        try run.fireTimers()
        #expect(run.offers.map(\.attempt) == [2])
        #expect(run.refusal(.taskCompleted(node: "t", attempt: 1, output: .null)) == .stale(node: "t", attempt: 1))
        try run.send(.taskCompleted(node: "t", attempt: 2, output: .null))
        #expect(run.status == .retriedOK)
    }

    @Test func aStaleTimerChangesNothing() throws {
        var run = RunHarness([task("t", retries: 1, timeout: 1_000)])
        try run.send(.start)
        let timeout = RunTimer(.timeout, node: "t", attempt: 1)
        try run.send(.taskCompleted(node: "t", attempt: 1, output: .null))
        #expect(run.refusal(.timer(timeout)) == .finished(.ok))
    }

    @Test func theVisitCapFailsTheRun() throws {
        var run = RunHarness([task("t", retries: 5)], maxVisits: 2)
        try run.send(.start)
        try run.send(.taskFailed(node: "t", attempt: 1, error: "x", retryable: true))
        try run.fireTimers()
        try run.send(.taskFailed(node: "t", attempt: 2, error: "x", retryable: true))
        try run.fireTimers()
        #expect(run.status == .failed)
        #expect(run.record.reason == "the run reached its cap of 2 node visits at node \"t\"")
        run.checkReplay()
    }

    // MARK: Workers

    @Test func aLateOrRepeatedCompletionIsRefused() throws {
        var run = RunHarness([task("t", next: ["u"]), task("u")])
        try run.send(.start)
        try run.send(.taskCompleted(node: "t", attempt: 1, output: .int(1)))
        #expect(run.refusal(.taskCompleted(node: "t", attempt: 1, output: .int(2))) == .stale(node: "t", attempt: 1))
        #expect(run.refusal(.taskFailed(node: "t", attempt: 1, error: "x", retryable: true)) == .stale(node: "t", attempt: 1))
        #expect(run.refusal(.taskCompleted(node: "u", attempt: 2, output: .null)) == .stale(node: "u", attempt: 2))
        #expect(run.refusal(.taskCompleted(node: "nope", attempt: 1, output: .null)) == .unknownNode("nope"))
        #expect(run.node("t").output == .int(1))
    }

    // MARK: Approvals

    @Test func anApprovalPausesTheRunAndApprovingContinuesIt() throws {
        var run = RunHarness([emit("a", next: ["ok?"]), approval("ok?", next: ["b"]), output("b", ref("nodes.ok?.output.comment"))])
        try run.send(.start)
        #expect(run.status == .awaitingApproval)
        #expect(run.node("ok?").status == .waiting)
        try run.send(.decide(node: nil, approved: true, by: "u2", comment: "ship it"))
        #expect(run.status == .ok)
        #expect(run.node("ok?").decision == ApprovalDecision(approved: true, by: "u2", comment: "ship it", at: run.now))
        #expect(run.record.outputs == ["b": .string("ship it")])
        run.checkReplay()
    }

    @Test func aDenialEndsTheRunRejected() throws {
        var run = RunHarness([approval("gate", next: ["b"]), emit("b")])
        try run.send(.start)
        try run.send(.decide(node: "gate", approved: false, by: "u2", comment: "no"))
        #expect(run.status == .rejected)
        #expect(run.record.reason == "approval \"gate\" denied by u2: no")
        #expect(run.node("b").status == .skipped)
        run.checkReplay()
    }

    @Test func theSecondOfTwoDecisionsIsRefused() throws {
        var run = RunHarness([approval("gate", next: ["t"]), task("t")])
        try run.send(.start)
        try run.send(.decide(node: "gate", approved: true, by: "u2", comment: nil))
        #expect(run.refusal(.decide(node: "gate", approved: false, by: "u3", comment: nil)) == .notWaiting(node: "gate"))
        #expect(run.refusal(.decide(node: nil, approved: false, by: "u3", comment: nil)) == .notWaiting(node: nil))
        #expect(run.refusal(.decide(node: "zz", approved: true, by: "u3", comment: nil)) == .unknownNode("zz"))
        #expect(run.status == .running)
    }

    @Test func aDecisionWithoutANodeMustBeUnambiguous() throws {
        var run = RunHarness([emit("a", next: ["x", "y"]), approval("x"), approval("y")])
        try run.send(.start)
        #expect(run.refusal(.decide(node: nil, approved: true, by: "u", comment: nil)) == .ambiguous(["x", "y"]))
        try run.send(.decide(node: "x", approved: true, by: "u", comment: nil))
        #expect(run.status == .awaitingApproval)
        try run.send(.decide(node: nil, approved: true, by: "u", comment: nil))
        #expect(run.status == .ok)
    }

    @Test func theStatusIsRunningWhileAnythingButApprovalsIsOpen() throws {
        var run = RunHarness([emit("a", next: ["x", "t"]), approval("x"), task("t")])
        try run.send(.start)
        #expect(run.status == .running)
        try run.send(.taskCompleted(node: "t", attempt: 1, output: .null))
        #expect(run.status == .awaitingApproval)
        #expect(run.events.last?.change == .status(.awaitingApproval, reason: nil))
    }

    @Test func anApprovalTimesOutWithoutRetry() throws {
        var run = RunHarness([approval("x", timeout: 60_000)])
        try run.send(.start)
        try run.fireTimers()
        #expect(run.status == .failed)
        #expect(run.node("x").error == "no decision within 60000 ms")
    }

    // MARK: Cancellation

    @Test func cancellingAQueuedRunEndsItAtOnce() throws {
        var run = RunHarness([emit("a")])
        try run.send(.cancel(reason: "", by: "u1"))
        #expect(run.status == .cancelled)
        #expect(run.record.reason == "cancelled by u1")
        #expect(run.refusal(.start) == .finished(.cancelled))
    }

    @Test func cancellingADelayOrAnApprovalStopsItAtOnce() throws {
        for node in [delay("w", 60_000, next: ["after"]), approval("w", next: ["after"])] {
            var run = RunHarness([emit("a", .int(1), next: ["w"]), node, emit("after")])
            try run.send(.start)
            try run.send(.cancel(reason: "changed my mind", by: "u1"))
            #expect(run.status == .cancelled)
            #expect(run.record.reason == "cancelled by u1: changed my mind")
            #expect(run.node("w").status == .cancelled)
            #expect(run.node("a").output == .int(1))
            #expect(run.actions.contains(.finished(.cancelled)))
            run.checkReplay()
        }
    }

    @Test func cancellingATaskTellsTheWorkerAndWaitsForItsConfirmation() throws {
        var run = RunHarness([emit("a", next: ["t", "u"]), task("t"), task("u")], grace: 5_000)
        try run.send(.start)
        try run.send(.cancel(reason: "", by: "u1"))
        #expect(run.status == .cancelling)
        #expect(run.cancelledTasks.sorted() == ["t", "u"])
        #expect(run.timers(.cancelGrace).map(\.1) == [run.now + 5_000])
        #expect(run.refusal(.cancel(reason: "", by: "u1")) == .alreadyCancelling)
        #expect(run.refusal(.decide(node: nil, approved: true, by: "u1", comment: nil)) == .alreadyCancelling)
        try run.send(.taskStopped(node: "t", attempt: 1))
        #expect(run.status == .cancelling)
        // A completion that was already on its way is kept, and starts nothing.
        try run.send(.taskCompleted(node: "u", attempt: 1, output: .string("late")))
        #expect(run.status == .cancelled)
        #expect(run.node("u").output == .string("late"))
        #expect(run.refusal(.cancel(reason: "", by: "u1")) == .finished(.cancelled))
        run.checkReplay()
    }

    @Test func workersThatNeverConfirmAreGivenUpOnAfterTheGrace() throws {
        var run = RunHarness([task("t")], grace: 5_000)
        try run.send(.start)
        try run.send(.cancel(reason: "", by: "u1"))
        try run.fireTimers()
        #expect(run.status == .cancelled)
        #expect(run.node("t").error == "the worker did not confirm the cancel in time")
    }

    @Test func aFailureReportedWhileCancellingEndsTheNodeCancelled() throws {
        var run = RunHarness([task("t", retries: 3)])
        try run.send(.start)
        try run.send(.cancel(reason: "", by: "u1"))
        try run.send(.taskFailed(node: "t", attempt: 1, error: "killed", retryable: true))
        #expect(run.status == .cancelled)
        #expect(run.node("t").status == .cancelled)
    }

    // MARK: Restart

    @Test func afterARestartAnActiveRunIsInterrupted() throws {
        var run = RunHarness([task("t")])
        try run.send(.start)
        try run.send(.recover)
        #expect(run.status == .interrupted)
        #expect(run.record.reason == "the server restarted while the run was running")
        #expect(run.node("t").status == .cancelled)
        run.checkReplay()
    }

    @Test func afterARestartQueuedRunsAndApprovalsWait() throws {
        var queued = RunHarness([emit("a")])
        try queued.send(.recover)
        #expect(queued.status == .queued)
        var waiting = RunHarness([approval("x", timeout: 10_000)])
        try waiting.send(.start)
        try waiting.send(.recover, after: 4_000)
        #expect(waiting.status == .awaitingApproval)
        #expect(waiting.timers(.timeout).map(\.1) == [waiting.now + 6_000])
        try waiting.send(.decide(node: "x", approved: true, by: "u", comment: nil))
        #expect(waiting.status == .ok)
    }

    @Test func aResumableRunContinuesWithoutRunningACompletedNodeTwice() throws {
        var run = RunHarness([task("a", next: ["w"]), delay("w", 10_000, next: ["t"]), task("t", next: ["r"]), task("r", retries: 1)],
                             resumable: true)
        try run.send(.start)
        try run.send(.taskCompleted(node: "a", attempt: 1, output: .int(1)))
        try run.send(.recover, after: 3_000)
        #expect(run.status == .running)
        #expect(run.timers(.delay).map(\.1) == [run.now + 7_000])
        try run.fireTimers()
        try run.send(.recover)
        #expect(run.offers.map(\.node) == ["t"])
        #expect(run.offers.map(\.attempt) == [2])
        try run.send(.taskCompleted(node: "t", attempt: 2, output: .null))
        try run.send(.taskFailed(node: "r", attempt: 1, error: "x", retryable: true))
        try run.send(.recover)
        #expect(run.timers(.retry).count == 1)
        try run.fireTimers()
        try run.send(.taskCompleted(node: "r", attempt: 2, output: .null))
        #expect(run.status == .retriedOK)
        #expect(run.events.filter { $0.change == .nodeStarted(node: "a", attempt: 1) }.count == 1)
        run.checkReplay()
    }

    @Test func aRunCancellingAtARestartEndsCancelled() throws {
        var run = RunHarness([task("t")], resumable: true)
        try run.send(.start)
        try run.send(.cancel(reason: "", by: "u"))
        try run.send(.recover)
        #expect(run.status == .cancelled)
    }

    @Test func startingTwiceIsRefused() throws {
        var run = RunHarness([task("t")])
        try run.send(.start)
        #expect(run.refusal(.start) == .notQueued(.running))
    }
}
