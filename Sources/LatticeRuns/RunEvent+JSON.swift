public import LatticeCRDT

/// The JSON of run events (docs/runs.md, "Events"): one object per event,
/// `{"type":"node.started","at":MILLIS,"node":"a","attempt":1}`, keys sorted.
extension RunEvent {
    public var value: Value {
        var object: [String: Value] = ["type": .string(type), "at": .int(at)]
        switch change {
        case .created(let header):
            object["run"] = header.value
        case .status(let status, let reason):
            object["status"] = .string(status.rawValue)
            object["reason"] = reason.map(Value.string)
        case .nodeStarted(let node, let attempt):
            object["node"] = .string(node)
            object["attempt"] = .int(Int64(attempt))
        case .nodeProgress(let node, let attempt, let data):
            object["node"] = .string(node)
            object["attempt"] = .int(Int64(attempt))
            object["data"] = data
        case .nodeRetrying(let node, let attempt, let error, let retryAt):
            object["node"] = .string(node)
            object["attempt"] = .int(Int64(attempt))
            object["error"] = .string(error)
            object["retryAt"] = .int(retryAt)
        case .nodeWaiting(let node, let prompt):
            object["node"] = .string(node)
            object["prompt"] = .string(prompt)
        case .nodeDecided(let node, let approved, let by, let comment):
            object["node"] = .string(node)
            object["approved"] = .bool(approved)
            object["by"] = .string(by)
            object["comment"] = comment.map(Value.string)
        case .nodeOutput(let node, let output, let collected):
            object["node"] = .string(node)
            object["output"] = output
            if collected { object["collected"] = .bool(true) }
        case .nodeFinished(let node, let status, let error):
            object["node"] = .string(node)
            object["status"] = .string(status.rawValue)
            object["error"] = error.map(Value.string)
        case .finished(let status, let reason):
            object["status"] = .string(status.rawValue)
            object["reason"] = reason.map(Value.string)
        }
        return .object(object)
    }

    public var json: String { value.json }

    /// Reads an event back; throws `RunDecodeError` naming what is wrong.
    public init(value: Value) throws(RunDecodeError) {
        let fields = try RunFields(value, what: "run event")
        let at = try fields.int("at")
        let change: Change
        switch try fields.string("type") {
        case "run.created": change = .created(try RunHeader(value: try fields.required("run")))
        case "run.status": change = .status(try fields.status("status"), reason: try fields.optionalString("reason"))
        case "node.started": change = .nodeStarted(node: try fields.string("node"), attempt: try fields.count("attempt"))
        case "node.progress":
            change = .nodeProgress(node: try fields.string("node"), attempt: try fields.count("attempt"), data: fields.optional("data") ?? .null)
        case "node.retrying":
            change = .nodeRetrying(node: try fields.string("node"), attempt: try fields.count("attempt"),
                                   error: try fields.string("error"), retryAt: try fields.int("retryAt"))
        case "node.waiting": change = .nodeWaiting(node: try fields.string("node"), prompt: try fields.string("prompt"))
        case "node.decided":
            change = .nodeDecided(node: try fields.string("node"), approved: try fields.bool("approved"),
                                  by: try fields.string("by"), comment: try fields.optionalString("comment"))
        case "node.output":
            change = .nodeOutput(node: try fields.string("node"), output: fields.optional("output") ?? .null,
                                 collected: fields.optional("collected") == .bool(true))
        case "node.finished":
            guard let status = NodeStatus(rawValue: try fields.string("status")) else {
                throw RunDecodeError("run event: unknown node status")
            }
            change = .nodeFinished(node: try fields.string("node"), status: status, error: try fields.optionalString("error"))
        case "run.finished": change = .finished(try fields.status("status"), reason: try fields.optionalString("reason"))
        case let other: throw RunDecodeError("run event: unknown type \"\(other)\"")
        }
        self.init(at: at, change)
    }

    public init(json: String) throws(RunDecodeError) {
        let value: Value
        do { value = try Value.parseJSON(json) } catch { throw RunDecodeError("run event: not JSON") }
        try self.init(value: value)
    }
}

extension RunHeader {
    public var value: Value {
        var object: [String: Value] = [
            "id": .string(id), "workspace": .string(workspace), "definition": .string(definitionID),
            "version": .int(Int64(version)), "inputs": inputs, "actor": .string(actor),
            "key": key.map(Value.string) ?? .null,
        ]
        if let actorName { object["actorName"] = .string(actorName) }
        if let actorKind { object["actorKind"] = .string(actorKind) }
        return .object(object)
    }

    public init(value: Value) throws(RunDecodeError) {
        let fields = try RunFields(value, what: "run")
        self.init(id: try fields.string("id"), workspace: try fields.string("workspace"),
                  definitionID: try fields.string("definition"), version: try fields.count("version"),
                  inputs: fields.optional("inputs") ?? .object([:]), actor: try fields.string("actor"),
                  key: try fields.optionalString("key"), actorName: try fields.optionalString("actorName"),
                  actorKind: try fields.optionalString("actorKind"))
    }
}

/// Why stored run JSON could not be read.
public struct RunDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Typed access to the fields of a JSON object, with errors that name the field.
struct RunFields {
    let object: [String: Value]
    let what: String

    init(_ value: Value, what: String) throws(RunDecodeError) {
        guard case .object(let object) = value else { throw RunDecodeError("\(what): not an object") }
        self.object = object
        self.what = what
    }

    func optional(_ key: String) -> Value? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    func required(_ key: String) throws(RunDecodeError) -> Value {
        guard let value = optional(key) else { throw RunDecodeError("\(what): missing \"\(key)\"") }
        return value
    }

    func string(_ key: String) throws(RunDecodeError) -> String {
        guard case .string(let s) = try required(key) else { throw RunDecodeError("\(what): \"\(key)\" must be a string") }
        return s
    }

    func optionalString(_ key: String) throws(RunDecodeError) -> String? {
        guard let value = optional(key) else { return nil }
        guard case .string(let s) = value else { throw RunDecodeError("\(what): \"\(key)\" must be a string") }
        return s
    }

    func int(_ key: String) throws(RunDecodeError) -> Int64 {
        switch try required(key) {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int64(d)
        default: throw RunDecodeError("\(what): \"\(key)\" must be an integer")
        }
    }

    func optionalInt(_ key: String) throws(RunDecodeError) -> Int64? {
        guard optional(key) != nil else { return nil }
        return try int(key)
    }

    func count(_ key: String) throws(RunDecodeError) -> Int {
        let value = try int(key)
        guard value >= 0, value <= Int64(Int32.max) else { throw RunDecodeError("\(what): \"\(key)\" out of range") }
        return Int(value)
    }

    func bool(_ key: String) throws(RunDecodeError) -> Bool {
        guard case .bool(let b) = try required(key) else { throw RunDecodeError("\(what): \"\(key)\" must be true or false") }
        return b
    }

    func status(_ key: String) throws(RunDecodeError) -> RunStatus {
        guard let status = RunStatus(rawValue: try string(key)) else { throw RunDecodeError("\(what): unknown status") }
        return status
    }
}
