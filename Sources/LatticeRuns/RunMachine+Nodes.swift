import LatticeCRDT

extension RunMachine {
    /// Begins the next attempt of `id`.
    mutating func activate(_ id: String) {
        guard let node = definition.node(id) else { return failRun("node \"\(id)\" is not in the definition") }
        guard record.visits < definition.maxVisits else {
            return failRun("the run reached its cap of \(definition.maxVisits) node visits at node \"\(id)\"")
        }
        let attempt = record.node(id).attempt + 1
        emit(.nodeStarted(node: id, attempt: attempt))
        let inputs = record.header.inputs
        let outputs = record.nodeOutputs
        switch node.kind {
        case .emit(let data):
            emit(.nodeOutput(node: id, output: ValueReference.resolve(data, inputs: inputs, outputs: outputs), collected: false))
            succeed(id)
        case .delay(let millis):
            act(.schedule(RunTimer(.delay, node: id, attempt: attempt), at: now + max(0, millis)))
        case .condition(let condition, _, _):
            let result = condition.evaluate(inputs: inputs, outputs: outputs)
            emit(.nodeOutput(node: id, output: .bool(result), collected: false))
            succeed(id)
        case .approval(let prompt):
            emit(.nodeWaiting(node: id, prompt: prompt))
            scheduleTimeout(node, attempt: attempt)
        case .task(let capability, let input):
            let resolved = ValueReference.resolve(input, inputs: inputs, outputs: outputs)
            act(.offerTask(TaskOffer(workspace: record.header.workspace, run: record.id, node: id, attempt: attempt, capability: capability, input: resolved,
                                     deadline: node.timeoutMillis.map { now + $0 })))
            scheduleTimeout(node, attempt: attempt)
        case .output(let value):
            let collected = value.map { ValueReference.resolve($0, inputs: inputs, outputs: outputs) }
                ?? (predecessors[id] ?? []).lazy.compactMap { outputs[$0] }.first ?? .null
            emit(.nodeOutput(node: id, output: collected, collected: true))
            succeed(id)
        }
    }

    private mutating func scheduleTimeout(_ node: WorkflowNode, attempt: Int) {
        if let timeout = node.timeoutMillis {
            act(.schedule(RunTimer(.timeout, node: node.id, attempt: attempt), at: now + timeout))
        }
    }

    /// `id` finished ok: its successors that are now ready start (or are skipped).
    mutating func succeed(_ id: String) {
        emit(.nodeFinished(node: id, status: .ok, error: nil))
        advance(from: id)
    }

    /// Starts or skips every successor of `id` whose predecessors are all resolved. A node
    /// starts when at least one predecessor led to it (finished ok, and for a condition, on the
    /// branch taken); otherwise it is skipped, and so on down its own successors.
    mutating func advance(from id: String) {
        guard let node = definition.node(id), !record.status.isTerminal, record.status != .cancelling else { return }
        for successor in Self.unique(node.successors) where record.node(successor).status == .pending {
            let incoming = predecessors[successor] ?? []
            guard incoming.allSatisfy({ record.node($0).status.isResolved }) else { continue }
            if incoming.contains(where: { leads($0, to: successor) }) {
                activate(successor)
            } else {
                emit(.nodeFinished(node: successor, status: .skipped, error: nil))
                advance(from: successor)
            }
            if record.status.isTerminal { return }
        }
    }

    /// Whether the resolved node `from` leads on to `to`.
    func leads(_ from: String, to: String) -> Bool {
        guard let node = definition.node(from), record.node(from).status == .ok else { return false }
        if case .condition(_, let whenTrue, let whenFalse) = node.kind {
            return (record.node(from).output == .bool(true) ? whenTrue : whenFalse).contains(to)
        }
        return node.next.contains(to)
    }

    static func unique(_ ids: [String]) -> [String] {
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// The current attempt of `id` failed: retry after the backoff while retries are left;
    /// then the node fails, and with it the run, unless the node may fail (`continueOnFailure`).
    mutating func failAttempt(_ id: String, error: String, retryable: Bool) {
        guard let node = definition.node(id) else { return }
        let current = record.node(id)
        if retryable, current.retriesUsed < node.retries {
            let retryAt = now + node.backoff(beforeRetry: current.retriesUsed + 1)
            emit(.nodeRetrying(node: id, attempt: current.attempt, error: error, retryAt: retryAt))
            act(.schedule(RunTimer(.retry, node: id, attempt: current.attempt), at: retryAt))
            return
        }
        emit(.nodeFinished(node: id, status: .failed, error: error))
        if node.continueOnFailure {
            advance(from: id)
        } else {
            failRun("node \"\(id)\" failed: \(error)")
        }
    }

    /// Ends the run `failed` (or `rejected`): open nodes are cancelled, running tasks told to stop.
    mutating func failRun(_ reason: String, status: RunStatus = .failed) {
        closeOpenNodes(error: reason)
        finish(status, reason: reason)
    }

    /// Cancels every open node; running tasks get `cancelTask`.
    mutating func closeOpenNodes(error: String?) {
        for id in openNodes {
            if case .task? = definition.node(id)?.kind, record.node(id).status == .running {
                act(.cancelTask(node: id, attempt: record.node(id).attempt))
            }
            emit(.nodeFinished(node: id, status: .cancelled, error: error))
        }
    }

    mutating func fire(_ timer: RunTimer) {
        if timer.purpose == .cancelGrace {
            guard record.status == .cancelling else { return }
            for id in openNodes {
                emit(.nodeFinished(node: id, status: .cancelled, error: "the worker did not confirm the cancel in time"))
            }
            return
        }
        guard let id = timer.node, let node = definition.node(id) else { return }
        let current = record.node(id)
        guard current.attempt == timer.attempt, record.status != .cancelling else { return }
        switch timer.purpose {
        case .delay:
            if current.status == .running { succeed(id) }
        case .retry:
            if current.status == .retrying { activate(id) }
        case .timeout:
            guard current.status == .running || current.status == .waiting else { return }
            if case .task = node.kind { act(.cancelTask(node: id, attempt: current.attempt)) }
            let limit = node.timeoutMillis ?? 0
            if case .approval = node.kind {
                failAttempt(id, error: "no decision within \(limit) ms", retryable: false)
            } else {
                failAttempt(id, error: "timed out after \(limit) ms", retryable: true)
            }
        case .cancelGrace:
            break
        }
    }
}
