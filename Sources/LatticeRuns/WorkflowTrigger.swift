public import LatticeCRDT

/// What starts runs of a definition besides a member's start (docs/runs.md, "Triggers"). A
/// triggered run goes through the executor like any other: a queued row, cancellable, with the
/// trigger as its actor.
public enum WorkflowTrigger: Sendable, Equatable {
    /// A run every `everyMillis`, with `inputs`. Each period starts at most one run, whatever
    /// the number of restarts (its idempotency key names the period).
    case interval(everyMillis: Int64, inputs: Value)

    public static let minIntervalMillis: Int64 = 1_000
    public static let maxIntervalMillis: Int64 = 30 * 86_400_000
    /// The most triggers a definition may have.
    public static let maxCount = 16

    public var kindName: String {
        switch self {
        case .interval: "interval"
        }
    }

    public var value: Value {
        switch self {
        case .interval(let every, let inputs):
            var object: [String: Value] = ["kind": .string(kindName), "everyMs": .int(every)]
            if inputs != .object([:]) { object["inputs"] = inputs }
            return .object(object)
        }
    }

    /// The idempotency key of the run an interval trigger starts in the period holding `now`.
    public static func intervalKey(everyMillis: Int64, now: Int64) -> String {
        "trigger:interval:\(everyMillis):\(now / everyMillis)"
    }

    /// When the period after the one holding `now` begins.
    public static func nextPeriod(everyMillis: Int64, after now: Int64) -> Int64 {
        (now / everyMillis + 1) * everyMillis
    }
}

extension DefinitionReader {
    /// Reads `triggers`, every problem reported with its path (`bad_trigger`).
    mutating func triggers(_ value: Value?) -> [WorkflowTrigger] {
        guard let value else { return [] }
        guard case .array(let items) = value else {
            triggerError("triggers", "triggers must be an array of trigger objects")
            return []
        }
        if items.count > WorkflowTrigger.maxCount {
            triggerError("triggers", "a definition has at most \(WorkflowTrigger.maxCount) triggers, not \(items.count)")
        }
        return items.enumerated().compactMap { trigger($0.element, path: "triggers[\($0.offset)]") }
    }

    mutating func trigger(_ value: Value, path: String) -> WorkflowTrigger? {
        guard case .object(let object) = value, case .string(let kind)? = object["kind"] else {
            triggerError(path, "\(path) must be an object with a kind (interval)")
            return nil
        }
        switch kind {
        case "interval":
            for key in object.keys.sorted() where !["kind", "everyMs", "inputs"].contains(key) {
                triggerError("\(path).\(key)", "unknown field \"\(key)\" for an interval trigger")
            }
            guard case .int(let every)? = object["everyMs"],
                  (WorkflowTrigger.minIntervalMillis...WorkflowTrigger.maxIntervalMillis).contains(every) else {
                triggerError("\(path).everyMs", "\(path).everyMs must be an integer from \(WorkflowTrigger.minIntervalMillis) to \(WorkflowTrigger.maxIntervalMillis)")
                return nil
            }
            let inputs = object["inputs"] ?? .object([:])
            guard case .object = inputs else {
                triggerError("\(path).inputs", "\(path).inputs must be an object")
                return nil
            }
            return .interval(everyMillis: every, inputs: inputs)
        default:
            triggerError("\(path).kind", "unknown trigger kind \"\(kind)\" (known: interval; a member's start needs no trigger)")
            return nil
        }
    }

    mutating func triggerError(_ path: String, _ message: String) {
        errors.append(DefinitionError(code: .badTrigger, node: nil, path: path, message: message))
    }
}
