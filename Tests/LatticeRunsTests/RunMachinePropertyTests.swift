import LatticeCRDT
import LatticeRuns
import PropertyBased
import Testing

/// Random valid definitions, driven by random workers (complete, fail, vanish, answer late,
/// answer twice), random decisions, cancels and restarts: every run ends, no node finishes
/// twice, every node of a finished run is resolved, and the history rebuilds the row.
@Suite struct RunMachinePropertyTests {
    @Test func everyRunTerminatesAndItsHistoryRebuildsItsRow() async {
        let seeds = Generator<UInt64, Shrink.None<UInt64>> { rng in rng.next() }
        await propertyCheck(count: 400, input: seeds) { seed in
            var random = SplitMix(seed: seed)
            var driver = RunDriver(definition: RandomDefinitions.make(&random), random: random)
            driver.drive()
        }
    }
}

/// A small deterministic generator, so a failing seed can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum RandomDefinitions {
    /// A DAG of 1–9 nodes: edges only go from lower to higher index, and every node but the
    /// first has a predecessor, so node 0 is the only entry.
    static func make(_ random: inout SplitMix) -> WorkflowDefinition {
        let count = Int.random(in: 1...9, using: &random)
        var successors = Array(repeating: [String](), count: count)
        for index in 1..<max(1, count) {
            successors[Int.random(in: 0..<index, using: &random)].append("n\(index)")
            for earlier in 0..<index where Int.random(in: 0..<5, using: &random) == 0 {
                if !successors[earlier].contains("n\(index)") { successors[earlier].append("n\(index)") }
            }
        }
        var nodes: [WorkflowNode] = []
        for index in 0..<count {
            let id = "n\(index)"
            let next = successors[index]
            var node: WorkflowNode
            switch Int.random(in: 0..<7, using: &random) {
            case 0: node = WorkflowNode(id: id, kind: .emit(data: .int(Int64(index))), next: next)
            case 1: node = WorkflowNode(id: id, kind: .delay(millis: Int64.random(in: 0...500, using: &random)), next: next)
            case 2:
                let split = Int.random(in: 0...next.count, using: &random)
                node = WorkflowNode(id: id, kind: .condition(Condition(left: .object(["$ref": .string("inputs.flag")]), op: .truthy),
                                                             whenTrue: Array(next[..<split]), whenFalse: Array(next[split...])))
            case 3: node = WorkflowNode(id: id, kind: .approval(prompt: "?"), next: next)
            case 4: node = WorkflowNode(id: id, kind: .output(value: nil), next: next)
            default: node = WorkflowNode(id: id, kind: .task(capability: "work", input: .object([:])), next: next)
            }
            node.retries = Int.random(in: 0...2, using: &random)
            node.backoffMillis = Int64.random(in: 0...300, using: &random)
            if Int.random(in: 0..<3, using: &random) == 0 { node.timeoutMillis = Int64.random(in: 1...2_000, using: &random) }
            node.continueOnFailure = Int.random(in: 0..<4, using: &random) == 0
            nodes.append(node)
        }
        return WorkflowDefinition(name: "random", nodes: nodes, resumable: Bool.random(using: &random),
                                  maxVisits: Int.random(in: 3...40, using: &random))
    }
}

/// Plays the executor and the workers around one machine.
struct RunDriver {
    var machine: RunMachine
    var random: SplitMix
    var events: [RunEvent]
    var now: Int64 = 0
    var timers: [(RunTimer, Int64)] = []
    /// Attempts out with a worker.
    var tasks: [(node: String, attempt: Int)] = []
    /// Attempts a worker was told to stop and has not confirmed.
    var stopping: [(node: String, attempt: Int)] = []
    /// Attempts that ended, for late answers.
    var ended: [(node: String, attempt: Int)] = []

    init(definition: WorkflowDefinition, random: SplitMix) {
        var random = random
        let flag = random.next() % 2 == 0
        self.random = random
        let header = RunHeader(id: "r", workspace: "w", definitionID: "d", version: 1,
                               inputs: .object(["flag": .bool(flag)]), actor: "u", key: nil)
        let (machine, created) = RunMachine.create(header, definition: definition, at: 0, cancelGraceMillis: 1_000)
        self.machine = machine
        events = [created]
    }

    mutating func drive() {
        send(.start)
        var steps = 0
        while !machine.status.isTerminal {
            steps += 1
            guard steps < 5_000 else {
                Issue.record("the run did not end within 5000 steps: \(machine.record.json)")
                return
            }
            guard let input = nextInput() else {
                Issue.record("the run is stuck (\(machine.status.rawValue)): nothing can move it. \(machine.record.json)")
                return
            }
            send(input)
        }
        check()
        // A finished run refuses everything.
        for input: RunMachine.Input in [.start, .cancel(reason: "", by: "u"), .recover,
                                        .decide(node: nil, approved: true, by: "u", comment: nil)] {
            do {
                _ = try machine.handle(input, now: now)
                Issue.record("a finished run accepted \(input)")
            } catch {
                #expect(error == .finished(machine.status))
            }
        }
    }

    var waitingApprovals: [String] {
        machine.definition.nodes.filter { node in
            if case .approval = node.kind { return machine.record.node(node.id).status == .waiting }
            return false
        }.map(\.id)
    }

    mutating func pick(_ n: Int) -> Int { Int.random(in: 0..<n, using: &random) }

    mutating func nextInput() -> RunMachine.Input? {
        var choices: [RunMachine.Input] = []
        if let task = tasks.randomElement(using: &random) {
            choices.append(.taskCompleted(node: task.node, attempt: task.attempt, output: .int(Int64(pick(100)))))
            choices.append(.taskFailed(node: task.node, attempt: task.attempt, error: "worker error", retryable: pick(2) == 0))
            choices.append(.taskFailed(node: task.node, attempt: task.attempt, error: "lease expired", retryable: true))
            choices.append(.taskProgress(node: task.node, attempt: task.attempt, data: .int(1)))
        }
        if let stop = stopping.randomElement(using: &random) {
            choices.append(.taskStopped(node: stop.node, attempt: stop.attempt))
        }
        if let soonest = timers.min(by: { $0.1 < $1.1 }) { choices.append(.timer(soonest.0)) }
        if let node = waitingApprovals.randomElement(using: &random) {
            choices.append(.decide(node: node, approved: pick(3) != 0, by: "u", comment: nil))
        }
        if choices.isEmpty { return nil }
        if pick(25) == 0, machine.status != .cancelling { return .cancel(reason: "random", by: "u") }
        if pick(30) == 0 { return .recover }
        return choices[pick(choices.count)]
    }

    mutating func send(_ input: RunMachine.Input) {
        if case .recover = input {
            // What was in flight died with the server.
            timers.removeAll()
            ended += tasks + stopping
            tasks.removeAll()
            stopping.removeAll()
        }
        if case .timer(let timer) = input {
            if let index = timers.firstIndex(where: { $0.0 == timer }) {
                now = max(now, timers[index].1)
                timers.remove(at: index)
            }
        }
        now += 1
        let before = machine.record
        do {
            let step = try machine.handle(input, now: now)
            events += step.events
            carry(step.actions)
            if case .taskCompleted(let node, let attempt, _) = input { retire(node, attempt) }
            if case .taskFailed(let node, let attempt, _, _) = input { retire(node, attempt) }
            if case .taskStopped(let node, let attempt) = input { retire(node, attempt) }
        } catch {
            #expect(machine.record == before, "a refused input changed the run")
            if case .taskCompleted(let node, let attempt, _) = input { retire(node, attempt) }
        }
        lateAnswer()
    }

    /// Now and then a worker answers for an attempt that already ended: always refused.
    mutating func lateAnswer() {
        guard !machine.status.isTerminal, let old = ended.randomElement(using: &random), pick(4) == 0 else { return }
        let current = machine.record.node(old.node)
        guard current.attempt != old.attempt || current.status != .running else { return }
        let before = machine.record
        do {
            _ = try machine.handle(.taskCompleted(node: old.node, attempt: old.attempt, output: .int(-1)), now: now)
            Issue.record("a late answer for \(old.node)#\(old.attempt) was accepted")
        } catch {
            #expect(error == .stale(node: old.node, attempt: old.attempt))
            #expect(machine.record == before)
        }
    }

    mutating func retire(_ node: String, _ attempt: Int) {
        tasks.removeAll { $0 == (node, attempt) }
        stopping.removeAll { $0 == (node, attempt) }
        ended.append((node, attempt))
    }

    mutating func carry(_ actions: [RunMachine.Action]) {
        for action in actions {
            switch action {
            case .schedule(let timer, let at): timers.append((timer, at))
            case .offerTask(let offer):
                #expect(!tasks.contains { $0.node == offer.node }, "two attempts of \(offer.node) out at once")
                tasks.append((offer.node, offer.attempt))
            case .cancelTask(let node, let attempt):
                if tasks.contains(where: { $0 == (node, attempt) }) {
                    tasks.removeAll { $0 == (node, attempt) }
                    // Some workers confirm; some answer anyway; some stay silent (the grace ends it).
                    if machine.status == .cancelling, pick(3) != 0 { stopping.append((node, attempt)) } else { ended.append((node, attempt)) }
                }
            case .finished: timers.removeAll()
            }
        }
    }

    func check() {
        let record = machine.record
        #expect(RunRecord.replay(events) == record, "the history does not rebuild the row")
        #expect(events.allSatisfy { (try? RunEvent(json: $0.json)) == $0 })
        #expect(events.last.map { if case .finished = $0.change { true } else { false } } == true)
        var finishedNodes = Set<String>()
        var lastAttempt: [String: Int] = [:]
        for event in events {
            if case .nodeFinished(let node, _, _) = event.change {
                #expect(finishedNodes.insert(node).inserted, "node \(node) finished twice")
            }
            if case .nodeStarted(let node, let attempt) = event.change {
                #expect(attempt > lastAttempt[node, default: 0], "node \(node) reused attempt \(attempt)")
                #expect(!finishedNodes.contains(node), "node \(node) started after it finished")
                lastAttempt[node] = attempt
            }
        }
        for node in machine.definition.nodes {
            #expect(record.node(node.id).status.isResolved, "node \(node.id) is \(record.node(node.id).status) in a finished run")
        }
        #expect(record.visits <= machine.definition.maxVisits)
        if record.status == .ok || record.status == .retriedOK {
            #expect(!machine.definition.nodes.contains { record.node($0.id).status == .failed || record.node($0.id).status == .cancelled })
        }
    }
}
