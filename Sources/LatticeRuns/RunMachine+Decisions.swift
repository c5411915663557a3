import LatticeCRDT

extension RunMachine {
    /// The approval node a decision is for.
    func waitingApproval(_ node: String?) throws(RunRefusal) -> String {
        let waiting = definition.nodes.filter { node in
            if case .approval = node.kind { return record.node(node.id).status == .waiting }
            return false
        }.map(\.id)
        if let node {
            guard definition.node(node) != nil else { throw .unknownNode(node) }
            guard waiting.contains(node) else { throw .notWaiting(node: node) }
            return node
        }
        switch waiting.count {
        case 0: throw .notWaiting(node: nil)
        case 1: return waiting[0]
        default: throw .ambiguous(waiting)
        }
    }

    /// Approval continues the run from the node; a denial fails the node, which ends the run
    /// `rejected` (unless the node may fail: then the run goes on and ends `partial`).
    mutating func decide(_ id: String, approved: Bool, by: String, comment: String?) {
        emit(.nodeDecided(node: id, approved: approved, by: by, comment: comment))
        if approved {
            emit(.nodeOutput(node: id, output: .object([
                "approved": .bool(true), "by": .string(by), "comment": comment.map(Value.string) ?? .null,
            ]), collected: false))
            succeed(id)
            return
        }
        let reason = "approval \"\(id)\" denied by \(by)" + (comment.map { ": \($0)" } ?? "")
        emit(.nodeFinished(node: id, status: .failed, error: reason))
        if definition.node(id)?.continueOnFailure == true {
            advance(from: id)
        } else {
            failRun(reason, status: .rejected)
        }
    }

    /// Stops the run now: waits (delays, approvals, backoffs) end at once; running tasks are
    /// told to stop, and the run is `cancelling` until their workers confirm (or the grace
    /// period ends). The outputs the run has are kept.
    mutating func cancel(reason: String, by: String) {
        let why = "cancelled by \(by)" + (reason.isEmpty ? "" : ": \(reason)")
        var tasksRunning = false
        for id in openNodes {
            if case .task? = definition.node(id)?.kind, record.node(id).status == .running {
                act(.cancelTask(node: id, attempt: record.node(id).attempt))
                tasksRunning = true
            } else {
                emit(.nodeFinished(node: id, status: .cancelled, error: why))
            }
        }
        if tasksRunning {
            emit(.status(.cancelling, reason: why))
            act(.schedule(RunTimer(.cancelGrace, node: nil, attempt: 0), at: now + cancelGraceMillis))
        } else {
            finish(.cancelled, reason: why)
        }
    }

    /// After a restart. A queued run stays queued, and a run that only waits for approvals
    /// stays waiting (its timeouts scheduled again). A run of a resumable definition continues:
    /// delays and backoffs resume with the time they had left, tasks are offered again, and no
    /// completed node runs twice. Any other active run ends `interrupted`.
    mutating func recover() {
        switch record.status {
        case .queued:
            return
        case .awaitingApproval:
            rescheduleTimers(restartTasks: false)
        case .running where definition.resumable:
            rescheduleTimers(restartTasks: true)
        case .cancelling:
            closeOpenNodes(error: "the server restarted while the run was cancelling")
            finish(.cancelled, reason: record.reason)
        default:
            let reason = "the server restarted while the run was \(record.status.rawValue)"
            closeOpenNodes(error: reason)
            finish(.interrupted, reason: reason)
        }
    }

    private mutating func rescheduleTimers(restartTasks: Bool) {
        for id in openNodes {
            guard let node = definition.node(id) else { continue }
            let current = record.node(id)
            switch (current.status, node.kind) {
            case (.retrying, _):
                act(.schedule(RunTimer(.retry, node: id, attempt: current.attempt), at: current.retryAt ?? now))
            case (.running, .delay(let millis)):
                act(.schedule(RunTimer(.delay, node: id, attempt: current.attempt), at: (current.startedAt ?? now) + millis))
            case (.running, .task) where restartTasks:
                // The lease died with the server; the attempt starts again and uses no retry.
                activate(id)
            case (.waiting, _), (.running, _):
                if let timeout = node.timeoutMillis {
                    act(.schedule(RunTimer(.timeout, node: id, attempt: current.attempt), at: (current.startedAt ?? now) + timeout))
                }
            default:
                break
            }
        }
    }
}
