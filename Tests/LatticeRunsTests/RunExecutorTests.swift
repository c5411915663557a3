import LatticeCRDT
import LatticeRuns
import Testing

@Suite struct RunExecutorTests {
    @Test func aRunGoesFromStartToOkAndItsStreamIsItsRow() async throws {
        let fixture = ExecutorFixture()
        let definition = try await fixture.define([emit("a", .object(["n": ref("inputs.n")]), next: ["w"]), delay("w", 30, next: ["out"]),
                                                   output("out", ref("nodes.a.output.n"))])
        let started = try await fixture.start(definition, inputs: .object(["n": .int(4)]))
        #expect(started.header.version == 1)
        let done = try await fixture.waitForStatus(started.id, .ok)
        #expect(done.outputs == ["out": .int(4)])
        try await fixture.checkHistory(started.id)
        #expect(await fixture.executor.activeRunCount() == 0)
        try await fixture.shutdown()
    }

    @Test func theSameKeyStartsOneRun() async throws {
        let fixture = ExecutorFixture()
        let definition = try await fixture.define([approval("x")])
        let first = try await fixture.start(definition, key: "k1")
        let second = try await fixture.start(definition, key: "k1")
        let other = try await fixture.start(definition, key: "k2")
        #expect(first.id == second.id)
        #expect(other.id != first.id)
        #expect(try await fixture.history(first.id).filter { $0.type == "run.created" }.count == 1)
        try await fixture.shutdown()
    }

    @Test func startRefusesWhatCannotRun() async throws {
        let fixture = ExecutorFixture()
        await #expect(throws: RunCommandError.definitionNotFound("nope")) { try await fixture.start("nope") }
        let definition = try await fixture.define([emit("a")])
        await #expect(throws: RunCommandError.definitionNotFound(definition)) { try await fixture.start(definition, workspace: "other") }
        await #expect(throws: RunCommandError.badInputs("inputs must be a JSON object")) { try await fixture.start(definition, inputs: .int(1)) }
        let big = Value.object(["s": .string(String(repeating: "x", count: 70_000))])
        await #expect(throws: RunCommandError.self) { try await fixture.start(definition, inputs: big) }
        let cyclic = try await fixture.define([emit("a", next: ["b"]), emit("b", next: ["a"]), emit("c", next: ["a"])])
        do {
            _ = try await fixture.start(cyclic)
            Issue.record("a cyclic definition started")
        } catch RunCommandError.invalidDefinition(let errors) {
            #expect(errors.contains { $0.code == .cycle })
        }
        try await fixture.shutdown()
    }

    @Test func cancelStopsADelayAtOnceAndASecondCancelIsAnswered() async throws {
        let fixture = ExecutorFixture()
        let definition = try await fixture.define([emit("a", .int(1), next: ["w"]), delay("w", 60_000)])
        let run = try await fixture.start(definition)
        _ = try await fixture.waitForStatus(run.id, .running)
        let cancelled = try await fixture.executor.cancel(run: run.id, reason: "stop", by: "u2")
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.node("a").output == .int(1))
        await #expect(throws: RunCommandError.refused(.finished(.cancelled))) {
            try await fixture.executor.cancel(run: run.id, reason: "", by: "u2")
        }
        await #expect(throws: RunCommandError.runNotFound("run_nope")) {
            try await fixture.executor.cancel(run: "run_nope", reason: "", by: "u2")
        }
        try await fixture.checkHistory(run.id)
        try await fixture.shutdown()
    }

    @Test func ofTwoConcurrentDecisionsExactlyOneWins() async throws {
        let fixture = ExecutorFixture()
        let definition = try await fixture.define([approval("gate", next: ["b"]), emit("b")])
        let run = try await fixture.start(definition)
        _ = try await fixture.waitForStatus(run.id, .awaitingApproval)
        async let yes = outcome { () async throws(RunCommandError) in try await fixture.executor.decide(run: run.id, node: "gate", approved: true, by: "u2", comment: nil) }
        async let no = outcome { () async throws(RunCommandError) in try await fixture.executor.decide(run: run.id, node: "gate", approved: false, by: "u3", comment: nil) }
        let results = await [yes, no]
        #expect(results.filter { if case .success = $0 { true } else { false } }.count == 1)
        let refusal = results.compactMap { if case .failure(let error) = $0 { error } else { nil } }.first
        let allowed: [RunCommandError] = [.refused(.notWaiting(node: "gate")), .refused(.finished(.ok)), .refused(.finished(.rejected))]
        #expect(refusal.map(allowed.contains) == true)
        let final = try await fixture.waitFor(run.id, "finished") { $0.status.isTerminal }
        #expect(final.status == .ok || final.status == .rejected)
        try await fixture.checkHistory(run.id)
        try await fixture.shutdown()
    }

    @Test func tasksAreOfferedAndTheirCompletionCountsOnce() async throws {
        let fixture = ExecutorFixture()
        let definition = try await fixture.define([task("t", "summarize", input: .object(["x": ref("inputs.x")]), next: ["out"]), output("out")])
        let run = try await fixture.start(definition, inputs: .object(["x": .string("hi")]))
        _ = try await fixture.waitFor(run.id, "offered") { _ in !fixture.tasks.offered.isEmpty }
        let offer = try #require(fixture.tasks.offered.first)
        #expect(offer.capability == "summarize" && offer.input == .object(["x": .string("hi")]))
        _ = try await fixture.executor.taskProgress(run: run.id, node: "t", attempt: 1, data: .int(50))
        let done = try await fixture.executor.taskCompleted(run: run.id, node: "t", attempt: 1, output: .string("summary"))
        #expect(done.status == .ok)
        #expect(done.outputs == ["out": .string("summary")])
        await #expect(throws: RunCommandError.refused(.finished(.ok))) {
            try await fixture.executor.taskCompleted(run: run.id, node: "t", attempt: 1, output: .string("again"))
        }
        try await fixture.checkHistory(run.id)
        try await fixture.shutdown()
    }

    @Test func cancellingATaskTellsTheDispatcher() async throws {
        let fixture = ExecutorFixture()
        let definition = try await fixture.define([task("t")])
        let run = try await fixture.start(definition)
        _ = try await fixture.waitFor(run.id, "offered") { _ in !fixture.tasks.offered.isEmpty }
        let cancelling = try await fixture.executor.cancel(run: run.id, reason: "", by: "u1")
        #expect(cancelling.status == .cancelling)
        #expect(fixture.tasks.cancelled == ["\(run.id)/t#1"])
        let stopped = try await fixture.executor.taskStopped(run: run.id, node: "t", attempt: 1)
        #expect(stopped.status == .cancelled)
        try await fixture.shutdown()
    }

    @Test func beyondTheLimitRunsWaitQueuedInOrder() async throws {
        let fixture = ExecutorFixture(limits: RunLimits(maxRunning: 1, maxRunningPerWorkspace: 1))
        let definition = try await fixture.define([delay("w", 60_000)])
        let first = try await fixture.start(definition)
        let second = try await fixture.start(definition)
        let third = try await fixture.start(definition)
        _ = try await fixture.waitForStatus(first.id, .running)
        #expect(try await fixture.runs.run(id: second.id)?.status == .queued)
        _ = try await fixture.executor.cancel(run: first.id, reason: "", by: "u1")
        _ = try await fixture.waitForStatus(second.id, .running)
        #expect(try await fixture.runs.run(id: third.id)?.status == .queued)
        // A queued run can be cancelled; it never starts.
        _ = try await fixture.executor.cancel(run: third.id, reason: "", by: "u1")
        #expect(try await fixture.runs.run(id: third.id)?.status == .cancelled)
        try await fixture.shutdown()
    }

    @Test func aRunWaitingForApprovalDoesNotHoldASlot() async throws {
        let fixture = ExecutorFixture(limits: RunLimits(maxRunning: 1, maxRunningPerWorkspace: 1))
        let gated = try await fixture.define([approval("x")])
        let quick = try await fixture.define([delay("w", 10)])
        let waiting = try await fixture.start(gated)
        _ = try await fixture.waitForStatus(waiting.id, .awaitingApproval)
        let run = try await fixture.start(quick)
        _ = try await fixture.waitForStatus(run.id, .ok)
        try await fixture.shutdown()
    }

    @Test func afterARestartRunsAreInterruptedOrKeepWaiting() async throws {
        let fixture = ExecutorFixture()
        let gated = try await fixture.define([approval("x", next: ["b"]), emit("b")])
        let slow = try await fixture.define([delay("w", 60_000)])
        let resumable = try await fixture.define([delay("w", 3_000, next: ["b"]), emit("b")], resumable: true)
        let waiting = try await fixture.start(gated)
        let running = try await fixture.start(slow)
        let resuming = try await fixture.start(resumable)
        _ = try await fixture.waitForStatus(waiting.id, .awaitingApproval)
        _ = try await fixture.waitForStatus(running.id, .running)
        // On a loaded machine the delay may be over before the "restart": then it is simply ok.
        let resumingBefore = try await fixture.waitFor(resuming.id, "started") { $0.status == .running || $0.status == .ok }
        try await fixture.shutdown()

        let restarted = fixture.restarted()
        let recovered = try await restarted.executor.recover()
        let expected: Set<String> = resumingBefore.status == .ok ? [waiting.id, running.id] : [waiting.id, running.id, resuming.id]
        #expect(Set(recovered.map(\.id)) == expected)
        #expect(try await restarted.runs.run(id: running.id)?.status == .interrupted)
        #expect(try await restarted.runs.run(id: waiting.id)?.status == .awaitingApproval)
        _ = try await restarted.executor.decide(run: waiting.id, node: nil, approved: true, by: "u2", comment: nil)
        _ = try await restarted.waitForStatus(waiting.id, .ok)
        _ = try await restarted.waitForStatus(resuming.id, .ok)
        #expect(try await restarted.history(resuming.id).filter { $0.change == .nodeStarted(node: "w", attempt: 1) }.count == 1)
        for id in [waiting.id, running.id, resuming.id] { try await restarted.checkHistory(id) }
        try await restarted.shutdown()
    }
}
