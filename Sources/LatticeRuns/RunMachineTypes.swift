public import LatticeCRDT

/// A wake-up the executor schedules for a run and hands back as `RunMachine.Input.timer`.
/// A timer that fires after its node moved on is ignored (it names the attempt it was for).
public struct RunTimer: Sendable, Hashable {
    public enum Purpose: String, Sendable, Hashable {
        /// A `delay` node's wait is over.
        case delay
        /// A node's backoff is over: its next attempt starts.
        case retry
        /// A node's attempt ran out of time.
        case timeout
        /// Workers had their time to confirm a cancel.
        case cancelGrace
    }

    public var purpose: Purpose
    /// nil for `cancelGrace`.
    public var node: String?
    public var attempt: Int

    public init(_ purpose: Purpose, node: String?, attempt: Int) {
        self.purpose = purpose
        self.node = node
        self.attempt = attempt
    }
}

/// A task the executor must lease to a worker with `capability`.
public struct TaskOffer: Sendable, Equatable {
    /// The run's workspace: only workers registered there may take the task.
    public var workspace: String
    public var run: String
    public var node: String
    public var attempt: Int
    public var capability: String
    /// The node's input with its references resolved.
    public var input: Value
    /// When the attempt times out (the node's `timeoutMs`), if it has a limit.
    public var deadline: Int64?

    public init(workspace: String, run: String, node: String, attempt: Int, capability: String, input: Value, deadline: Int64?) {
        self.workspace = workspace
        self.run = run
        self.node = node
        self.attempt = attempt
        self.capability = capability
        self.input = input
        self.deadline = deadline
    }
}

/// Why the machine refused an input; nothing changed.
public enum RunRefusal: Error, Sendable, Equatable {
    /// The run has ended (with this status).
    case finished(RunStatus)
    case alreadyCancelling
    /// `start` of a run that is not queued.
    case notQueued(RunStatus)
    /// A decision on a node that does not wait for one (already decided: a concurrent decision won).
    case notWaiting(node: String?)
    /// A decision without a node while several approvals wait.
    case ambiguous([String])
    case unknownNode(String)
    /// A worker's report on an attempt that is no longer current (its lease ended, the node moved on).
    case stale(node: String, attempt: Int)
}

extension RunMachine {
    /// What happened to a run, as the executor hands it in.
    public enum Input: Sendable, Equatable {
        /// A slot is free: the queued run begins.
        case start
        case timer(RunTimer)
        case taskProgress(node: String, attempt: Int, data: Value)
        case taskCompleted(node: String, attempt: Int, output: Value)
        /// The attempt failed; `retryable` false fails the node at once, retries left or not.
        /// A lease that expired or a worker that vanished is a retryable failure.
        case taskFailed(node: String, attempt: Int, error: String, retryable: Bool)
        /// The worker confirmed it stopped a cancelled task.
        case taskStopped(node: String, attempt: Int)
        /// A member's decision; `node` may be left out when only one approval waits.
        case decide(node: String?, approved: Bool, by: String, comment: String?)
        case cancel(reason: String, by: String)
        /// The server restarted: what was in flight is gone (start-up reconciliation).
        case recover
    }

    /// What the executor must do after an input, besides appending `events`.
    public enum Action: Sendable, Equatable {
        case schedule(RunTimer, at: Int64)
        case offerTask(TaskOffer)
        /// Tell the worker holding this attempt to stop it (`task.cancel`), and end its lease.
        case cancelTask(node: String, attempt: Int)
        /// The run ended: drop its timers and free its slot.
        case finished(RunStatus)
    }

    /// The result of one input: the events to append to `run/{id}` (in order; the last one
    /// carries the new row) and the actions to carry out once they are stored.
    public struct Step: Sendable, Equatable {
        public var events: [RunEvent] = []
        public var actions: [Action] = []
    }
}
