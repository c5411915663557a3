public import LatticeCRDT

/// The JSON of definitions (docs/runs.md, "Definitions"):
/// `{"name","resumable","maxVisits","metadata","nodes":[{"id","kind",…kind fields,"next",
/// "retries","backoffMs","timeoutMs","continueOnFailure"}],"triggers":[{"kind","everyMs","inputs"}]}`. Export adds
/// `"format":"lattice.workflow/1"`; import accepts the same text, with or without it.
extension WorkflowDefinition {
    public static let exportFormat = "lattice.workflow/1"

    public var value: Value {
        var object: [String: Value] = [
            "name": .string(name), "resumable": .bool(resumable), "maxVisits": .int(Int64(maxVisits)),
            "metadata": metadata, "nodes": .array(nodes.map(\.value)),
        ]
        if !triggers.isEmpty { object["triggers"] = .array(triggers.map(\.value)) }
        return .object(object)
    }

    public var json: String { value.json }

    /// The export document: the definition plus its format tag.
    public var exportJSON: String {
        guard case .object(var object) = value else { return json }
        object["format"] = .string(Self.exportFormat)
        return Value.object(object).json
    }

    /// Reads a definition. Shape errors (a missing or mistyped field, an unknown kind, a text
    /// over `limits.maxBytes`) are all reported, each with its path; the graph rules are
    /// `DefinitionValidator`'s.
    public init(json: String, limits: DefinitionLimits = .default) throws(DefinitionErrors) {
        guard json.utf8.count <= limits.maxBytes else {
            throw DefinitionErrors([DefinitionError(code: .tooLarge, node: nil, path: "",
                                                    message: "the definition is \(json.utf8.count) bytes; the limit is \(limits.maxBytes)")])
        }
        let value: Value
        do { value = try Value.parseJSON(json) } catch {
            throw DefinitionErrors([DefinitionError(code: .badJSON, node: nil, path: "", message: "the definition is not JSON: \(error)")])
        }
        try self.init(value: value)
    }

    public init(value: Value) throws(DefinitionErrors) {
        var reader = DefinitionReader()
        guard let definition = reader.definition(value), reader.errors.isEmpty else {
            throw DefinitionErrors(reader.errors)
        }
        self = definition
    }
}

/// Every shape error of a definition text.
public struct DefinitionErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [DefinitionError]
    public init(_ errors: [DefinitionError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "; ") }
}

extension WorkflowNode {
    public var value: Value {
        var object: [String: Value] = ["id": .string(id), "kind": .string(kind.name)]
        switch kind {
        case .emit(let data): object["data"] = data
        case .delay(let millis): object["millis"] = .int(millis)
        case .condition(let condition, let whenTrue, let whenFalse):
            object["left"] = condition.left
            object["op"] = .string(condition.op.rawValue)
            if condition.right != .null { object["right"] = condition.right }
            object["then"] = .array(whenTrue.map(Value.string))
            object["else"] = .array(whenFalse.map(Value.string))
        case .approval(let prompt): object["prompt"] = .string(prompt)
        case .task(let capability, let input):
            object["capability"] = .string(capability)
            object["input"] = input
        case .output(let value): if let value { object["value"] = value }
        }
        if case .condition = kind {} else { object["next"] = .array(next.map(Value.string)) }
        if retries != 0 { object["retries"] = .int(Int64(retries)) }
        if backoffMillis != 1_000 { object["backoffMs"] = .int(backoffMillis) }
        if let timeoutMillis { object["timeoutMs"] = .int(timeoutMillis) }
        if continueOnFailure { object["continueOnFailure"] = .bool(true) }
        return .object(object)
    }
}

/// Reads a definition value, collecting every error with its path instead of stopping at the first.
struct DefinitionReader {
    var errors: [DefinitionError] = []

    mutating func definition(_ value: Value) -> WorkflowDefinition? {
        guard case .object(let object) = value else {
            fail("", nil, "the definition must be a JSON object")
            return nil
        }
        let known: Set<String> = ["name", "resumable", "maxVisits", "metadata", "nodes", "triggers", "format"]
        for key in object.keys.sorted() where !known.contains(key) { fail(key, nil, "unknown field \"\(key)\"") }
        if let format = object["format"], format != .string(WorkflowDefinition.exportFormat) {
            fail("format", nil, "format must be \"\(WorkflowDefinition.exportFormat)\"")
        }
        let name = string(object["name"], "name", nil) ?? ""
        let resumable = object["resumable"] == nil ? false : (bool(object["resumable"], "resumable", nil) ?? false)
        let maxVisits = object["maxVisits"] == nil ? WorkflowDefinition.defaultMaxVisits : (integer(object["maxVisits"], "maxVisits", nil).map { Int(clamping: $0) } ?? 0)
        let metadata = object["metadata"] ?? .object([:])
        if case .object = metadata {} else { fail("metadata", nil, "metadata must be an object") }
        guard case .array(let items)? = object["nodes"] else {
            fail("nodes", nil, "nodes must be an array of node objects")
            return nil
        }
        let nodes = items.enumerated().compactMap { node($0.element, path: "nodes[\($0.offset)]") }
        let triggers = triggers(object["triggers"])
        return WorkflowDefinition(name: name, nodes: nodes, resumable: resumable, maxVisits: maxVisits, metadata: metadata,
                                  triggers: triggers)
    }

    mutating func node(_ value: Value, path: String) -> WorkflowNode? {
        guard case .object(let object) = value else {
            fail(path, nil, "\(path) must be a node object")
            return nil
        }
        guard let id = string(object["id"], "\(path).id", nil) else { return nil }
        guard let kindName = string(object["kind"], "\(path).kind", id) else { return nil }
        let common: Set<String> = ["id", "kind", "next", "retries", "backoffMs", "timeoutMs", "continueOnFailure"]
        let kindFields: [String: Set<String>] = [
            "emit": ["data"], "delay": ["millis"], "condition": ["left", "op", "right", "then", "else"],
            "approval": ["prompt"], "task": ["capability", "input"], "output": ["value"],
        ]
        guard let fields = kindFields[kindName] else {
            errors.append(DefinitionError(code: .unknownKind, node: id, path: "\(path).kind",
                                          message: "node \"\(id)\": unknown kind \"\(kindName)\" (known: \(NodeKind.names.joined(separator: ", ")))"))
            return nil
        }
        for key in object.keys.sorted() where !common.contains(key) && !fields.contains(key) {
            fail("\(path).\(key)", id, "node \"\(id)\": unknown field \"\(key)\" for kind \(kindName)")
        }
        let kind: NodeKind
        switch kindName {
        case "emit": kind = .emit(data: object["data"] ?? .null)
        case "delay": kind = .delay(millis: integer(object["millis"], "\(path).millis", id) ?? 0)
        case "condition":
            let opName = string(object["op"], "\(path).op", id) ?? "=="
            let op = Condition.Operator(rawValue: opName) ?? {
                fail("\(path).op", id, "node \"\(id)\": unknown operator \"\(opName)\" (known: \(Condition.Operator.allCases.map(\.rawValue).joined(separator: ", ")))")
                return .equal
            }()
            kind = .condition(Condition(left: object["left"] ?? .null, op: op, right: object["right"] ?? .null),
                              whenTrue: ids(object["then"], "\(path).then", id), whenFalse: ids(object["else"], "\(path).else", id))
            if object["next"] != nil { fail("\(path).next", id, "node \"\(id)\": a condition leads on through then and else, not next") }
        case "approval": kind = .approval(prompt: object["prompt"] == nil ? "" : (string(object["prompt"], "\(path).prompt", id) ?? ""))
        case "task":
            kind = .task(capability: string(object["capability"], "\(path).capability", id) ?? "", input: object["input"] ?? .object([:]))
        default: kind = .output(value: object["value"])
        }
        var node = WorkflowNode(id: id, kind: kind)
        if case .condition = kind {} else { node.next = ids(object["next"], "\(path).next", id) }
        if object["retries"] != nil { node.retries = integer(object["retries"], "\(path).retries", id).map { Int(clamping: $0) } ?? 0 }
        if object["backoffMs"] != nil { node.backoffMillis = integer(object["backoffMs"], "\(path).backoffMs", id) ?? 0 }
        if object["timeoutMs"] != nil { node.timeoutMillis = integer(object["timeoutMs"], "\(path).timeoutMs", id) }
        if object["continueOnFailure"] != nil { node.continueOnFailure = bool(object["continueOnFailure"], "\(path).continueOnFailure", id) ?? false }
        return node
    }

    mutating func ids(_ value: Value?, _ path: String, _ node: String) -> [String] {
        guard let value else { return [] }
        guard case .array(let items) = value else {
            fail(path, node, "node \"\(node)\": \(path) must be an array of node ids")
            return []
        }
        return items.enumerated().compactMap { string($0.element, "\(path)[\($0.offset)]", node) }
    }

    mutating func string(_ value: Value?, _ path: String, _ node: String?) -> String? {
        guard case .string(let s)? = value else {
            fail(path, node, "\(Self.subject(node))\(path) must be a string")
            return nil
        }
        return s
    }

    mutating func bool(_ value: Value?, _ path: String, _ node: String?) -> Bool? {
        guard case .bool(let b)? = value else {
            fail(path, node, "\(Self.subject(node))\(path) must be true or false")
            return nil
        }
        return b
    }

    mutating func integer(_ value: Value?, _ path: String, _ node: String?) -> Int64? {
        switch value {
        case .int(let i)?: return i
        case .double(let d)? where d == d.rounded() && abs(d) < 9e15: return Int64(d)
        default:
            fail(path, node, "\(Self.subject(node))\(path) must be an integer")
            return nil
        }
    }

    mutating func fail(_ path: String, _ node: String?, _ message: String) {
        errors.append(DefinitionError(code: .badField, node: node, path: path, message: message))
    }

    static func subject(_ node: String?) -> String { node.map { "node \"\($0)\": " } ?? "" }
}
