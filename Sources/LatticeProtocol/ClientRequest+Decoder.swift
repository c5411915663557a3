import NIOCore

/// The top-level fields a request may use.
enum RequestField: CaseIterable {
    case id, type, stream, since, snapshot, data, key, state
    // runs (ClientRequest+Runs.swift)
    case workspace, definition, version, inputs, run, reason, node, approved, comment
    // workers (ClientRequest+Workers.swift)
    case capabilities, concurrency, lease, output, error, retryable

    var name: String {
        switch self {
        case .id: "id"
        case .type: "type"
        case .stream: "stream"
        case .since: "since"
        case .snapshot: "snapshot"
        case .data: "data"
        case .key: "key"
        case .state: "state"
        case .workspace: "workspace"
        case .definition: "definition"
        case .version: "version"
        case .inputs: "inputs"
        case .run: "run"
        case .reason: "reason"
        case .node: "node"
        case .approved: "approved"
        case .comment: "comment"
        case .capabilities: "capabilities"
        case .concurrency: "concurrency"
        case .lease: "lease"
        case .output: "output"
        case .error: "error"
        case .retryable: "retryable"
        }
    }
}

/// Where a field's value is in the message.
struct RequestSlot {
    var range: Range<Int> = 0..<0
    var kind: JSONValueKind = .null
    var present = false
    var duplicate = false

    mutating func record(_ range: Range<Int>, _ kind: JSONValueKind) {
        if present { duplicate = true }
        self.range = range
        self.kind = kind
        present = true
    }
}

struct RequestSlots {
    // One stored slot per field (no array: decoding a request allocates nothing for its fields).
    var id = RequestSlot()
    var type = RequestSlot()
    var stream = RequestSlot()
    var since = RequestSlot()
    var snapshot = RequestSlot()
    var data = RequestSlot()
    var key = RequestSlot()
    var state = RequestSlot()
    var workspace = RequestSlot()
    var definition = RequestSlot()
    var version = RequestSlot()
    var inputs = RequestSlot()
    var run = RequestSlot()
    var reason = RequestSlot()
    var node = RequestSlot()
    var approved = RequestSlot()
    var comment = RequestSlot()
    var capabilities = RequestSlot()
    var concurrency = RequestSlot()
    var lease = RequestSlot()
    var output = RequestSlot()
    var error = RequestSlot()
    var retryable = RequestSlot()

    subscript(field: RequestField) -> RequestSlot {
        get {
            switch field {
            case .id: id
            case .type: type
            case .stream: stream
            case .since: since
            case .snapshot: snapshot
            case .data: data
            case .key: key
            case .state: state
            case .workspace: workspace
            case .definition: definition
            case .version: version
            case .inputs: inputs
            case .run: run
            case .reason: reason
            case .node: node
            case .approved: approved
            case .comment: comment
            case .capabilities: capabilities
            case .concurrency: concurrency
            case .lease: lease
            case .output: output
            case .error: error
            case .retryable: retryable
            }
        }
        set {
            switch field {
            case .id: id = newValue
            case .type: type = newValue
            case .stream: stream = newValue
            case .since: since = newValue
            case .snapshot: snapshot = newValue
            case .data: data = newValue
            case .key: key = newValue
            case .state: state = newValue
            case .workspace: workspace = newValue
            case .definition: definition = newValue
            case .version: version = newValue
            case .inputs: inputs = newValue
            case .run: run = newValue
            case .reason: reason = newValue
            case .node: node = newValue
            case .approved: approved = newValue
            case .comment: comment = newValue
            case .capabilities: capabilities = newValue
            case .concurrency: concurrency = newValue
            case .lease: lease = newValue
            case .output: output = newValue
            case .error: error = newValue
            case .retryable: retryable = newValue
            }
        }
    }
}

@inline(__always)
func matches(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
    guard range.count == literal.utf8CodeUnitCount else { return false }
    let p = literal.utf8Start
    var k = 0
    for i in range {
        if raw[i] != p[k] { return false }
        k += 1
    }
    return true
}

/// Decodes one request: reads the top-level fields, then the family decoders (in the
/// ClientRequest+… files) check and build the request.
struct RequestDecoder {
    let raw: UnsafeRawBufferPointer
    let message: ByteBuffer
    let limits: ProtocolLimits
    var slots = RequestSlots()
    var id: RequestID?
    var stream: StreamName?

    init(raw: UnsafeRawBufferPointer, message: ByteBuffer, limits: ProtocolLimits) {
        self.raw = raw
        self.message = message
        self.limits = limits
    }

    static func field(_ raw: UnsafeRawBufferPointer, _ key: Range<Int>, escaped: Bool) -> RequestField? {
        if escaped {
            let name = JSONScanner.decodeString(raw, key, escaped: true)
            return RequestField.allCases.first { $0.name == name }
        }
        switch key.count {
        case 2: return matches(raw, key, "id") ? .id : nil
        case 3: return matches(raw, key, "key") ? .key : matches(raw, key, "run") ? .run : nil
        case 4:
            return matches(raw, key, "type") ? .type : matches(raw, key, "data") ? .data : matches(raw, key, "node") ? .node : nil
        case 5:
            if matches(raw, key, "since") { return .since }
            if matches(raw, key, "state") { return .state }
            if matches(raw, key, "lease") { return .lease }
            return matches(raw, key, "error") ? .error : nil
        case 6:
            if matches(raw, key, "stream") { return .stream }
            if matches(raw, key, "inputs") { return .inputs }
            if matches(raw, key, "reason") { return .reason }
            return matches(raw, key, "output") ? .output : nil
        case 7: return matches(raw, key, "version") ? .version : matches(raw, key, "comment") ? .comment : nil
        case 8: return matches(raw, key, "snapshot") ? .snapshot : matches(raw, key, "approved") ? .approved : nil
        case 9: return matches(raw, key, "workspace") ? .workspace : matches(raw, key, "retryable") ? .retryable : nil
        case 10: return matches(raw, key, "definition") ? .definition : nil
        case 11: return matches(raw, key, "concurrency") ? .concurrency : nil
        case 12: return matches(raw, key, "capabilities") ? .capabilities : nil
        default: return nil
        }
    }

    func fail(_ code: ErrorCode, _ text: String) -> Result<ClientRequest, ProtocolError> {
        .failure(ProtocolError(code, text, id: id, stream: stream))
    }

    func slice(_ range: Range<Int>) -> ByteBuffer {
        message.getSlice(at: message.readerIndex + range.lowerBound, length: range.count)!
    }

    /// The content range of a string value and whether it has escapes.
    func stringContent(_ slot: RequestSlot) -> (Range<Int>, Bool) {
        let content = slot.range.lowerBound + 1..<slot.range.upperBound - 1
        var escaped = false
        for i in content where raw[i] == UInt8(ascii: "\\") {
            escaped = true
            break
        }
        return (content, escaped)
    }

    func string(_ slot: RequestSlot) -> String {
        let (content, escaped) = stringContent(slot)
        return JSONScanner.decodeString(raw, content, escaped: escaped)
    }

    mutating func decode() -> Result<ClientRequest, ProtocolError> {
        var scanner = JSONScanner(raw, maxDepth: limits.maxDepth)
        do throws(JSONSyntaxError) {
            scanner.skipWhitespace()
            if scanner.index < raw.count, raw[scanner.index] == UInt8(ascii: "{") {
                let raw = self.raw
                try scanner.members(depth: 1) { key, escaped, range, kind in
                    if let field = Self.field(raw, key, escaped: escaped) {
                        slots[field].record(range, kind)
                    }
                }
                try scanner.end()
            } else {
                let kind = try scanner.value(depth: 0)
                try scanner.end()
                return fail(.notObject, "the message is \(kind.name), not a JSON object")
            }
        } catch {
            switch error.reason {
            case .tooDeep:
                return fail(.tooLarge, "the message nests arrays and objects deeper than \(limits.maxDepth) levels")
            case .numberOutOfRange:
                return fail(.tooLarge, "the number at byte \(error.offset) is beyond the range of a 64-bit float")
            default:
                break
            }
            return fail(.badJSON, error.message)
        }

        // id
        if slots.id.present {
            guard slots.id.kind == .number || slots.id.kind == .string else {
                return fail(.wrongType, "field 'id' must be a number or a string, not \(slots.id.kind.name)")
            }
            if slots.id.duplicate { return fail(.duplicateField, "field 'id' appears more than once") }
            id = RequestID(raw: RawJSON(trusted: slice(slots.id.range)))
        }

        // type
        guard slots.type.present else { return fail(.missingField, "field 'type' (string) is required") }
        guard slots.type.kind == .string else {
            return fail(.wrongType, "field 'type' must be a string, not \(slots.type.kind.name)")
        }
        if slots.type.duplicate { return fail(.duplicateField, "field 'type' appears more than once") }
        let (typeRange, typeEscaped) = stringContent(slots.type)
        let type: String
        if typeEscaped {
            type = JSONScanner.decodeString(raw, typeRange, escaped: true)
        } else if matches(raw, typeRange, "publish") {
            return decodePublish()
        } else if matches(raw, typeRange, "subscribe") {
            return decodeSubscribe()
        } else if matches(raw, typeRange, "ping") {
            return .success(.ping(.init(id: id)))
        } else if matches(raw, typeRange, "presence.set") {
            return decodePresenceSet()
        } else if matches(raw, typeRange, "unsubscribe") {
            return decodeUnsubscribe()
        } else {
            type = JSONScanner.decodeString(raw, typeRange, escaped: false)
        }
        switch type {
        case "publish": return decodePublish()
        case "subscribe": return decodeSubscribe()
        case "ping": return .success(.ping(.init(id: id)))
        case "presence.set": return decodePresenceSet()
        case "unsubscribe": return decodeUnsubscribe()
        default:
            // Run and worker requests are rare next to the stream requests: no fast path.
            if let type = RunWorkerRequestType(rawValue: type) { return decode(type) }
            return .failure(.unknownType(type, id: id))
        }
    }

    /// Checks that none of `fields` is repeated, then reads `stream`.
    mutating func readStream(using a: RequestField, _ b: RequestField? = nil, _ c: RequestField? = nil) -> ProtocolError? {
        func duplicate(_ field: RequestField?) -> ProtocolError? {
            guard let field, slots[field].duplicate else { return nil }
            return ProtocolError(.duplicateField, "field '\(field.name)' appears more than once", id: id)
        }
        if let error = duplicate(a) ?? duplicate(b) ?? duplicate(c) { return error }
        guard slots.stream.present else { return ProtocolError(.missingField, "field 'stream' (string) is required", id: id) }
        guard slots.stream.kind == .string else {
            return ProtocolError(.wrongType, "field 'stream' must be a string, not \(slots.stream.kind.name)", id: id)
        }
        let (content, escaped) = stringContent(slots.stream)
        // A name over the limit is refused before it is decoded (an escape is at least 1 byte).
        if content.count > limits.maxStreamNameBytes * 6 {
            return ProtocolError(.invalidStream, "stream name is over \(limits.maxStreamNameBytes) bytes (the limit)", id: id)
        }
        switch StreamName.parse(JSONScanner.decodeString(raw, content, escaped: escaped), maxBytes: limits.maxStreamNameBytes) {
        case .success(let name):
            stream = name
            return nil
        case .failure(var error):
            error.id = id
            return error
        }
    }
}

/// The `type`s of the run and worker families (ClientRequest+Runs.swift, +Workers.swift).
enum RunWorkerRequestType: String, CaseIterable {
    case runStart = "run.start", runCancel = "run.cancel", runApprove = "run.approve"
    case workerRegister = "worker.register", taskProgress = "task.progress", taskComplete = "task.complete", taskFail = "task.fail"
}

extension RequestDecoder {
    mutating func decode(_ type: RunWorkerRequestType) -> Result<ClientRequest, ProtocolError> {
        do throws(ProtocolError) {
            switch type {
            case .runStart: return .success(.runStart(try decodeRunStart()))
            case .runCancel: return .success(.runCancel(try decodeRunCancel()))
            case .runApprove: return .success(.runApprove(try decodeRunApprove()))
            case .workerRegister: return .success(.workerRegister(try decodeWorkerRegister()))
            case .taskProgress: return .success(.taskProgress(try decodeTaskProgress()))
            case .taskComplete: return .success(.taskComplete(try decodeTaskComplete()))
            case .taskFail: return .success(.taskFail(try decodeTaskFail()))
            }
        } catch {
            return .failure(error)
        }
    }
}
