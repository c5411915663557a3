import LatticeCRDT
import NIOCore

/// What the executor holds for its runs; lives on its loop only.
struct ExecutorState {
    var runs: [String: ActiveRun] = [:]
    /// Queued runs in the order they were created.
    var queue: [String] = []
}

/// One run the executor drives.
struct ActiveRun {
    var machine: RunMachine
    var timers: [RunTimer: Scheduled<Void>] = [:]
    /// Whether it holds one of the `maxRunning` slots.
    var holdsSlot = false
    /// The commit of the newest event appended so far: the next step's actions wait for it.
    var lastCommit: EventLoopFuture<Void>?

    var workspace: String { machine.record.header.workspace }
}

extension RunExecutor {
    /// A new run: `run.created`, then queued until a slot is free.
    func create(_ record: RunRecord, definition: WorkflowDefinition) -> EventLoopFuture<RunRecord> {
        // The reserved row is the fold of `run.created` alone.
        var run = ActiveRun(machine: RunMachine(definition: definition, record: record, cancelGraceMillis: limits.cancelGraceMillis))
        let created = RunEvent(at: record.createdAt, .created(record.header))
        let committed = append([created], from: record, run: &run)
        state.value.runs[record.id] = run
        state.value.queue.append(record.id)
        return committed.map { _ in
            self.startQueued()
            return self.state.value.runs[record.id]?.machine.record ?? record
        }
    }

    /// A run found active in the store at start-up.
    func adopt(_ record: RunRecord, definition: WorkflowDefinition?) -> EventLoopFuture<RunRecord> {
        guard let definition else {
            // Its definition is gone from the store: nothing can continue it.
            var run = ActiveRun(machine: RunMachine(definition: WorkflowDefinition(name: "", nodes: []), record: record))
            let event = RunEvent(at: clock(), .finished(.interrupted, reason: "its definition version is missing"))
            var row = record
            row.apply(event)
            let after = row
            return append([event], from: record, run: &run).map { _ in after }
        }
        state.value.runs[record.id] = ActiveRun(machine: RunMachine(definition: definition, record: record,
                                                                   cancelGraceMillis: limits.cancelGraceMillis))
        if record.status == .queued { state.value.queue.append(record.id) }
        return handle(.recover, run: record.id).map { $0 ?? record }
    }

    /// Hands `input` to the run's machine. nil when the run is not active here.
    func handle(_ input: RunMachine.Input, run id: String) -> EventLoopFuture<RunRecord?> {
        guard var run = state.value.runs[id] else { return loop.makeSucceededFuture(nil) }
        let before = run.machine.record
        let step: RunMachine.Step
        do {
            step = try run.machine.handle(input, now: clock())
        } catch {
            return loop.makeFailedFuture(RunCommandError.refused(error))
        }
        let committed = append(step.events, from: before, run: &run)
        state.value.runs[id] = run
        let record = run.machine.record
        return committed.map { _ in
            self.carry(step.actions, run: id)
            self.rebalance(id)
            return record
        }.flatMapErrorThrowing { error in
            // The store did not take the events: the run must not go on from a state that is not
            // on disk. It stays as its row says until the next start-up reconciles it.
            self.drop(id)
            throw error
        }
    }

    /// Appends `events` in order, each with the row after it; the future succeeds when the last
    /// one is committed (and after every earlier append of the run).
    func append(_ events: [RunEvent], from record: RunRecord, run: inout ActiveRun) -> EventLoopFuture<Void> {
        guard !events.isEmpty else { return run.lastCommit ?? loop.makeSucceededVoidFuture() }
        var row = record
        var last: EventLoopFuture<Void> = loop.makeSucceededVoidFuture()
        for event in events {
            row.apply(event)
            let promise = loop.makePromise(of: Void.self)
            log.append(event, row: RunRowWrite(record: row)) { result in
                switch result {
                case .success: promise.succeed(())
                case .failure(let error): promise.fail(RunCommandError.storeFailed("\(error)"))
                }
            }
            last = promise.futureResult
        }
        if let previous = run.lastCommit { last = previous.and(last).map { _ in } }
        run.lastCommit = last
        return last
    }

    /// Carries out a step's actions (its events are committed).
    func carry(_ actions: [RunMachine.Action], run id: String) {
        for action in actions {
            switch action {
            case .schedule(let timer, let at):
                let delay = max(0, at - clock())
                let scheduled = loop.scheduleTask(in: .milliseconds(delay)) { [self] in
                    state.value.runs[id]?.timers[timer] = nil
                    _ = handle(.timer(timer), run: id)
                }
                state.value.runs[id]?.timers[timer]?.cancel()
                state.value.runs[id]?.timers[timer] = scheduled
            case .offerTask(let offer):
                tasks.offer(offer)
            case .cancelTask(let node, let attempt):
                tasks.cancel(run: id, node: node, attempt: attempt)
            case .finished:
                drop(id)
            }
        }
    }

    /// Forgets a run: its timers are cancelled and it leaves the queue.
    func drop(_ id: String) {
        if let run = state.value.runs.removeValue(forKey: id) {
            for timer in run.timers.values { timer.cancel() }
        }
        state.value.queue.removeAll { $0 == id }
    }

    /// Frees or takes the run's slot as its status asks, then starts what the queue can.
    func rebalance(_ id: String) {
        // A run that only waits for approvals gives its slot up; one that goes on after a
        // decision takes one again at once, even over the limit (it was admitted before).
        if var run = state.value.runs[id] {
            let wantsSlot = run.machine.status == .running || run.machine.status == .cancelling
            if run.holdsSlot != wantsSlot {
                run.holdsSlot = wantsSlot
                state.value.runs[id] = run
            }
        }
        startQueued()
    }

    /// Starts queued runs, oldest first, while slots are free (a run whose workspace is full
    /// waits without holding up the others).
    func startQueued() {
        var index = 0
        while index < state.value.queue.count {
            let running = state.value.runs.values.filter(\.holdsSlot)
            guard running.count < limits.maxRunning else { return }
            let id = state.value.queue[index]
            guard var run = state.value.runs[id], run.machine.status == .queued else {
                state.value.queue.remove(at: index)
                continue
            }
            guard running.filter({ $0.workspace == run.workspace }).count < limits.maxRunningPerWorkspace else {
                index += 1
                continue
            }
            state.value.queue.remove(at: index)
            run.holdsSlot = true
            state.value.runs[id] = run
            _ = handle(.start, run: id)
        }
    }
}
