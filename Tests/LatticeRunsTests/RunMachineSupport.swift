import LatticeCRDT
import LatticeRuns
import Testing

/// Drives one run's machine in tests, keeping every event, so each test can check the row
/// against a replay of its history.
struct RunHarness {
    var machine: RunMachine
    var events: [RunEvent]
    var actions: [RunMachine.Action] = []
    var now: Int64 = 1_000

    init(_ nodes: [WorkflowNode], resumable: Bool = false, maxVisits: Int = 100,
         inputs: Value = .object([:]), grace: Int64 = 10_000) {
        let definition = WorkflowDefinition(name: "test", nodes: nodes, resumable: resumable, maxVisits: maxVisits)
        let header = RunHeader(id: "run_1", workspace: "w", definitionID: "d", version: 1, inputs: inputs, actor: "u1", key: nil)
        let (machine, created) = RunMachine.create(header, definition: definition, at: 1_000, cancelGraceMillis: grace)
        self.machine = machine
        events = [created]
    }

    var status: RunStatus { machine.status }
    var record: RunRecord { machine.record }
    func node(_ id: String) -> NodeRecord { machine.record.node(id) }

    /// Handles `input` at `now + after`; returns the step's actions.
    @discardableResult
    mutating func send(_ input: RunMachine.Input, after: Int64 = 0) throws(RunRefusal) -> [RunMachine.Action] {
        now += after
        let step = try machine.handle(input, now: now)
        events += step.events
        actions = step.actions
        return step.actions
    }

    /// The refusal of `input`; checks that it changed nothing.
    mutating func refusal(_ input: RunMachine.Input) -> RunRefusal? {
        let before = machine.record
        do {
            _ = try machine.handle(input, now: now)
            return nil
        } catch {
            #expect(machine.record == before)
            return error
        }
    }

    /// Fires every timer of the last step (the soonest first), advancing the clock to each.
    mutating func fireTimers() throws(RunRefusal) {
        let timers = actions.compactMap { action -> (RunTimer, Int64)? in
            if case .schedule(let timer, let at) = action { return (timer, at) }
            return nil
        }.sorted { $0.1 < $1.1 }
        for (timer, at) in timers {
            now = max(now, at)
            try send(.timer(timer))
        }
    }

    var offers: [TaskOffer] {
        actions.compactMap { if case .offerTask(let offer) = $0 { return offer } else { return nil } }
    }

    var cancelledTasks: [String] {
        actions.compactMap { if case .cancelTask(let node, _) = $0 { return node } else { return nil } }
    }

    func timers(_ purpose: RunTimer.Purpose) -> [(RunTimer, Int64)] {
        actions.compactMap { if case .schedule(let timer, let at) = $0, timer.purpose == purpose { return (timer, at) } else { return nil } }
    }

    /// The stored row is the fold of the run's history.
    func checkReplay() {
        #expect(RunRecord.replay(events) == machine.record)
        let decoded = events.map { try? RunEvent(json: $0.json) }
        #expect(decoded == events.map(Optional.some))
    }

    var types: [String] { events.map(\.type) }
}

func emit(_ id: String, _ data: Value = .null, next: [String] = []) -> WorkflowNode {
    WorkflowNode(id: id, kind: .emit(data: data), next: next)
}

func delay(_ id: String, _ millis: Int64, next: [String] = []) -> WorkflowNode {
    WorkflowNode(id: id, kind: .delay(millis: millis), next: next)
}

func task(_ id: String, _ capability: String = "work", input: Value = .object([:]), next: [String] = [],
          retries: Int = 0, backoff: Int64 = 100, timeout: Int64? = nil, mayFail: Bool = false) -> WorkflowNode {
    WorkflowNode(id: id, kind: .task(capability: capability, input: input), next: next, retries: retries,
                 backoffMillis: backoff, timeoutMillis: timeout, continueOnFailure: mayFail)
}

func approval(_ id: String, next: [String] = [], timeout: Int64? = nil, mayFail: Bool = false) -> WorkflowNode {
    WorkflowNode(id: id, kind: .approval(prompt: "go on?"), next: next, timeoutMillis: timeout, continueOnFailure: mayFail)
}

func output(_ id: String, _ value: Value? = nil) -> WorkflowNode {
    WorkflowNode(id: id, kind: .output(value: value))
}

func condition(_ id: String, _ left: Value, _ op: Condition.Operator, _ right: Value = .null,
               then whenTrue: [String], else whenFalse: [String]) -> WorkflowNode {
    WorkflowNode(id: id, kind: .condition(Condition(left: left, op: op, right: right), whenTrue: whenTrue, whenFalse: whenFalse))
}

func ref(_ path: String) -> Value { .object(["$ref": .string(path)]) }
