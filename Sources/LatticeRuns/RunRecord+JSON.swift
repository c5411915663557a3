public import LatticeCRDT

/// The JSON of a run's row: what the REST API returns and what the store keeps
/// (docs/runs.md, "The run object"). Keys sorted; absent values are null.
extension RunRecord {
    public var value: Value {
        .object([
            "id": .string(header.id), "workspace": .string(header.workspace),
            "definition": .string(header.definitionID), "version": .int(Int64(header.version)),
            "inputs": header.inputs, "actor": .string(header.actor), "key": header.key.map(Value.string) ?? .null,
            "status": .string(status.rawValue),
            "nodes": .object(nodes.mapValues(\.value)),
            "outputs": .object(outputs),
            "visits": .int(Int64(visits)), "retried": .bool(retried),
            "reason": reason.map(Value.string) ?? .null,
            "createdAt": .int(createdAt), "startedAt": startedAt.map(Value.int) ?? .null,
            "finishedAt": finishedAt.map(Value.int) ?? .null, "updatedAt": .int(updatedAt),
        ])
    }

    public var json: String { value.json }

    public init(value: Value) throws(RunDecodeError) {
        let fields = try RunFields(value, what: "run")
        self.init(header: try RunHeader(value: value), createdAt: try fields.int("createdAt"))
        status = try fields.status("status")
        if case .object(let nodes)? = fields.optional("nodes") {
            for (id, node) in nodes { self.nodes[id] = try NodeRecord(value: node) }
        }
        if case .object(let outputs)? = fields.optional("outputs") { self.outputs = outputs }
        visits = try fields.count("visits")
        retried = try fields.bool("retried")
        reason = try fields.optionalString("reason")
        startedAt = try fields.optionalInt("startedAt")
        finishedAt = try fields.optionalInt("finishedAt")
        updatedAt = try fields.int("updatedAt")
    }

    public init(json: String) throws(RunDecodeError) {
        let value: Value
        do { value = try Value.parseJSON(json) } catch { throw RunDecodeError("run: not JSON") }
        try self.init(value: value)
    }
}

extension NodeRecord {
    public var value: Value {
        var object: [String: Value] = ["status": .string(status.rawValue), "attempt": .int(Int64(attempt))]
        object["output"] = output
        object["error"] = error.map(Value.string)
        object["progress"] = progress
        object["startedAt"] = startedAt.map(Value.int)
        object["finishedAt"] = finishedAt.map(Value.int)
        object["retryAt"] = retryAt.map(Value.int)
        if retriesUsed > 0 { object["retriesUsed"] = .int(Int64(retriesUsed)) }
        if let decision {
            object["decision"] = .object([
                "approved": .bool(decision.approved), "by": .string(decision.by),
                "comment": decision.comment.map(Value.string) ?? .null, "at": .int(decision.at),
            ])
        }
        return .object(object)
    }

    init(value: Value) throws(RunDecodeError) {
        let fields = try RunFields(value, what: "run node")
        self.init()
        guard let status = NodeStatus(rawValue: try fields.string("status")) else { throw RunDecodeError("run node: unknown status") }
        self.status = status
        attempt = try fields.count("attempt")
        output = fields.object["output"]  // null is an output; absent is none
        error = try fields.optionalString("error")
        progress = fields.object["progress"]
        startedAt = try fields.optionalInt("startedAt")
        finishedAt = try fields.optionalInt("finishedAt")
        retryAt = try fields.optionalInt("retryAt")
        retriesUsed = fields.optional("retriesUsed") == nil ? 0 : try fields.count("retriesUsed")
        if let decisionValue = fields.optional("decision") {
            let decisionFields = try RunFields(decisionValue, what: "run decision")
            decision = ApprovalDecision(approved: try decisionFields.bool("approved"), by: try decisionFields.string("by"),
                                        comment: try decisionFields.optionalString("comment"), at: try decisionFields.int("at"))
        }
    }
}
