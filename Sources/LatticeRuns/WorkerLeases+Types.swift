public import LatticeCRDT

/// A bot worker as the leases know it: its connection's id, chosen by the server.
public struct WorkerID: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String

    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        self.rawValue = value
    }

    public var description: String { rawValue }

    public static func < (a: WorkerID, b: WorkerID) -> Bool { a.rawValue < b.rawValue }
}

/// One attempt of one `task` node: what an offer, a lease and a cancel are about.
public struct TaskAttempt: Sendable, Hashable {
    public var run: String
    public var node: String
    public var attempt: Int

    public init(run: String, node: String, attempt: Int) {
        self.run = run
        self.node = node
        self.attempt = attempt
    }
}

/// A task handed to one worker until `expiresAt` (milliseconds since 1970); heartbeats move
/// `expiresAt` on. What `task.assign` tells the worker.
public struct Lease: Sendable, Equatable {
    /// Unique in the table ("l_1", "l_2", …, with the table's prefix).
    public var id: String
    public var worker: WorkerID
    public var run: String
    public var node: String
    public var attempt: Int
    public var capability: String
    /// The node's input with its references resolved.
    public var input: Value
    public var expiresAt: Int64

    public init(id: String, worker: WorkerID, run: String, node: String, attempt: Int, capability: String,
                input: Value, expiresAt: Int64) {
        self.id = id
        self.worker = worker
        self.run = run
        self.node = node
        self.attempt = attempt
        self.capability = capability
        self.input = input
        self.expiresAt = expiresAt
    }

    public var task: TaskAttempt { TaskAttempt(run: run, node: node, attempt: attempt) }
}

/// Why a leased task was taken from its worker without an answer.
public enum LeaseLoss: Sendable, Hashable, CustomStringConvertible {
    /// No heartbeat came before the lease ran out.
    case expired
    /// The worker disconnected (or unregistered) while it held the lease.
    case workerGone

    /// The error the server reports to the executor (a retryable failure of the attempt).
    public var description: String {
        switch self {
        case .expired: "the worker's lease expired without a heartbeat"
        case .workerGone: "the worker disconnected"
        }
    }
}

/// What the server must do after a change of the table.
public enum LeaseAction: Sendable, Equatable {
    /// Send `task.assign` with the lease to the worker.
    case assign(worker: WorkerID, lease: Lease)
    /// Send `task.cancel` for the lease to the worker; the lease has already ended.
    case cancel(worker: WorkerID, lease: Lease)
    /// The attempt lost its worker: report it to the executor (`taskFailed`, retryable), which
    /// decides whether a new attempt is offered.
    case lost(run: String, node: String, attempt: Int, reason: LeaseLoss)
}

/// Why a worker's report on a lease was refused; nothing changed.
public enum LeaseRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The table never gave out this lease.
    case unknownLease(String)
    /// The lease is live, but another worker holds it.
    case notYourLease(String)
    /// The lease was completed, failed, cancelled, expired or lost with its worker: the
    /// attempt is no longer this worker's, so a node completes exactly once.
    case leaseEnded(String)

    public var lease: String {
        switch self {
        case .unknownLease(let id), .notYourLease(let id), .leaseEnded(let id): id
        }
    }

    public var description: String {
        switch self {
        case .unknownLease(let id): "no lease '\(id)' was given out"
        case .notYourLease(let id): "lease '\(id)' is held by another worker"
        case .leaseEnded(let id): "lease '\(id)' has ended"
        }
    }
}

/// A lease a worker ended with `complete` or `fail`, and what the freed slot led to.
public struct EndedLease: Sendable, Equatable {
    public var lease: Lease
    /// Queued tasks assigned to the slot that became free.
    public var actions: [LeaseAction]

    public init(lease: Lease, actions: [LeaseAction]) {
        self.lease = lease
        self.actions = actions
    }
}
