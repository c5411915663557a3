/// Where the executor appends run events: the durable stream `run/{id}` (the server implements
/// it with the hub's server-side append, which also fans each event out to subscribers).
///
/// Appends to one run are stored in the order they are made. Each event carries the run's row
/// as it is after that event (`RunRowWrite`), written in the transaction that stores the event.
public protocol RunEventLog: Sendable {
    /// `completion` gets the event's offset once it is committed, or the error; it may be called
    /// on any thread.
    func append(_ event: RunEvent, row: RunRowWrite,
                completion: @escaping @Sendable (Result<UInt64, any Error>) -> Void)
}

/// Where the executor sends the tasks of `task` nodes: the worker leases (docs/runs.md).
/// Whatever happens to a task comes back through `RunExecutor`'s task methods.
public protocol TaskDispatcher: Sendable {
    /// Lease the task to a worker with its capability (now, or when one is free).
    func offer(_ task: TaskOffer)
    /// Tell the worker holding the attempt to stop (`task.cancel`), or withdraw the offer.
    func cancel(run: String, node: String, attempt: Int)
}

/// The executor's limits (docs/runs.md, "Limits").
public struct RunLimits: Sendable, Equatable {
    /// Runs that may be running at once on this server; beyond it, runs wait `queued`, in order.
    /// A run waiting only for approvals does not hold a slot.
    public var maxRunning: Int
    /// The same, per workspace.
    public var maxRunningPerWorkspace: Int
    /// Inputs larger than this (bytes of JSON) are refused at start.
    public var maxInputBytes: Int
    /// How long workers get to confirm a cancelled task.
    public var cancelGraceMillis: Int64

    public init(maxRunning: Int = 64, maxRunningPerWorkspace: Int = 16, maxInputBytes: Int = 65_536,
                cancelGraceMillis: Int64 = 10_000) {
        self.maxRunning = maxRunning
        self.maxRunningPerWorkspace = maxRunningPerWorkspace
        self.maxInputBytes = maxInputBytes
        self.cancelGraceMillis = cancelGraceMillis
    }
}
