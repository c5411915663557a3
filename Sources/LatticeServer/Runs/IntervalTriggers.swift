import LatticeCRDT
import LatticeRuns
import NIOCore

/// The interval triggers of every definition on this server (docs/runs.md, "Triggers"): one
/// timer per trigger on the executor's loop, at the start of each period. Each period's run has
/// an idempotency key naming the definition and the period, so a restart (or another server
/// arming the same trigger) never starts a period twice; periods that passed while the server
/// was down are not made up.
final class IntervalTriggers: Sendable {
    private struct Armed {
        /// By definition, then by the trigger's index in it.
        var timers: [String: [Int: Scheduled<Void>]] = [:]
        /// Bumped on every re-arm of a definition: a timer of an older arming does nothing.
        var generation: [String: Int] = [:]
    }

    let loop: any EventLoop
    private let state: NIOLoopBoundBox<Armed>
    private let start: @Sendable (RunStartRequest) async -> Void

    init(loop: any EventLoop, start: @escaping @Sendable (RunStartRequest) async -> Void) {
        self.loop = loop
        self.start = start
        state = .makeBoxSendingValue(Armed(), as: Armed.self, eventLoop: loop)
    }

    /// Arms `stored`'s triggers (replacing those of its earlier versions); a deleted definition
    /// or one without triggers is disarmed.
    func arm(_ stored: StoredDefinition) {
        loop.execute {
            self.disarmOnLoop(stored.id)
            guard stored.deletedAt == nil else { return }
            let generation = self.state.value.generation[stored.id, default: 0]
            for (index, trigger) in stored.definition.triggers.enumerated() {
                switch trigger {
                case .interval(let every, let inputs):
                    self.schedule(definition: stored.id, index: index, workspace: stored.workspace, every: every, inputs: inputs,
                                  generation: generation)
                case .event:
                    break  // EventTriggers
                }
            }
        }
    }

    func disarm(_ definition: String) {
        loop.execute { self.disarmOnLoop(definition) }
    }

    private func disarmOnLoop(_ definition: String) {
        for timer in (state.value.timers.removeValue(forKey: definition) ?? [:]).values { timer.cancel() }
        state.value.generation[definition, default: 0] += 1
    }

    private func schedule(definition: String, index: Int, workspace: String, every: Int64, inputs: Value, generation: Int) {
        let now = RunService.now()
        let at = WorkflowTrigger.nextPeriod(everyMillis: every, after: now)
        let timer = loop.scheduleTask(in: .milliseconds(at - now)) {
            guard self.state.value.generation[definition, default: 0] == generation else { return }
            let request = RunStartRequest(workspace: workspace, definitionID: definition, inputs: inputs, actor: "trigger:interval",
                                          key: "trigger:\(definition):\(WorkflowTrigger.intervalKey(everyMillis: every, now: at))",
                                          actorName: "interval trigger", actorKind: "trigger")
            let start = self.start
            Task { await start(request) }
            self.schedule(definition: definition, index: index, workspace: workspace, every: every, inputs: inputs, generation: generation)
        }
        state.value.timers[definition, default: [:]][index] = timer
    }
}
