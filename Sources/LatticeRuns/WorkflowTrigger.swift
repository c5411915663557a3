public import LatticeCRDT

/// What starts runs of a definition besides a member's start (docs/runs.md, "Triggers"). A
/// triggered run goes through the executor like any other: a queued row, cancellable, with the
/// trigger as its actor.
public enum WorkflowTrigger: Sendable, Equatable {
    /// A run every `everyMillis`, with `inputs`. Each period starts at most one run, whatever
    /// the number of restarts (its idempotency key names the period).
    case interval(everyMillis: Int64, inputs: Value)
    /// A run for each event published on `stream` (a `channel/{ws}/{name}` of the definition's
    /// workspace) whose data is an object with `"type": type` (any event when `type` is nil).
    /// The run's inputs are `inputs` plus `event` (the event's data) and `eventOffset`.
    case event(stream: String, type: String?, inputs: Value)

    public static let minIntervalMillis: Int64 = 1_000
    public static let maxIntervalMillis: Int64 = 30 * 86_400_000
    /// The most triggers a definition may have.
    public static let maxCount = 16

    public var kindName: String {
        switch self {
        case .interval: "interval"
        case .event: "event"
        }
    }

    public var value: Value {
        switch self {
        case .interval(let every, let inputs):
            var object: [String: Value] = ["kind": .string(kindName), "everyMs": .int(every)]
            if inputs != .object([:]) { object["inputs"] = inputs }
            return .object(object)
        case .event(let stream, let type, let inputs):
            var object: [String: Value] = ["kind": .string(kindName), "stream": .string(stream)]
            if let type { object["type"] = .string(type) }
            if inputs != .object([:]) { object["inputs"] = inputs }
            return .object(object)
        }
    }

    /// Whether an event with `data` starts a run of an event trigger filtering on `type`.
    public static func matches(type: String?, data: Value) -> Bool {
        guard let type else { return true }
        guard case .object(let object) = data, case .string(let found)? = object["type"] else { return false }
        return found == type
    }

    /// The run inputs of an event trigger for one event.
    public static func eventInputs(_ inputs: Value, data: Value, offset: UInt64) -> Value {
        var object: [String: Value] = [:]
        if case .object(let given) = inputs { object = given }
        object["event"] = data
        object["eventOffset"] = .int(Int64(clamping: offset))
        return .object(object)
    }

    /// Whether `stream` names a channel (`channel/{ws}/{name}`); the workspace is checked by
    /// the server, which knows the definition's.
    public static func isChannelStream(_ stream: String) -> Bool {
        let parts = stream.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "channel" && !parts[1].isEmpty && !parts[2].isEmpty && stream.utf8.count <= 256
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
            triggerError(path, "\(path) must be an object with a kind (interval or event)")
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
        case "event":
            for key in object.keys.sorted() where !["kind", "stream", "type", "inputs"].contains(key) {
                triggerError("\(path).\(key)", "unknown field \"\(key)\" for an event trigger")
            }
            guard case .string(let stream)? = object["stream"], WorkflowTrigger.isChannelStream(stream) else {
                triggerError("\(path).stream", "\(path).stream must be a channel stream name, channel/{workspace}/{name}")
                return nil
            }
            var type: String?
            if let value = object["type"] {
                guard case .string(let t) = value, !t.isEmpty, t.utf8.count <= 200 else {
                    triggerError("\(path).type", "\(path).type must be a string of 1 to 200 bytes")
                    return nil
                }
                type = t
            }
            let inputs = object["inputs"] ?? .object([:])
            guard case .object = inputs else {
                triggerError("\(path).inputs", "\(path).inputs must be an object")
                return nil
            }
            return .event(stream: stream, type: type, inputs: inputs)
        default:
            triggerError("\(path).kind", "unknown trigger kind \"\(kind)\" (known: interval, event; a member's start needs no trigger)")
            return nil
        }
    }

    mutating func triggerError(_ path: String, _ message: String) {
        errors.append(DefinitionError(code: .badTrigger, node: nil, path: path, message: message))
    }
}
