import NIOCore

// Readers of typed top-level fields, for the families without a stream (runs, workers).
// Each throws the error the client gets, in the wording of the other families: the field's
// name, what it must be and what it was.

/// The size limits of the fields of run and worker requests.
public enum RequestFieldLimits {
    /// Ids and names: `workspace`, `definition`, `run`, `node`, `lease`.
    public static let maxNameBytes = 256
    /// Free text: `reason`, `comment`, `error`.
    public static let maxTextBytes = 4_096
}

extension RequestDecoder {
    func refusal(_ code: ErrorCode, _ text: String) -> ProtocolError {
        ProtocolError(code, text, id: id)
    }

    /// Refuses the first of `fields` that appears more than once.
    func unique(_ fields: RequestField...) throws(ProtocolError) {
        for field in fields where slots[field].duplicate {
            throw refusal(.duplicateField, "field '\(field.name)' appears more than once")
        }
    }

    func present(_ field: RequestField, _ what: String) throws(ProtocolError) -> RequestSlot {
        let slot = slots[field]
        guard slot.present else { throw refusal(.missingField, "field '\(field.name)' (\(what)) is required") }
        return slot
    }

    /// A string of at most `maxBytes` bytes (non-empty unless `allowEmpty`).
    func string(_ field: RequestField, _ slot: RequestSlot, maxBytes: Int, allowEmpty: Bool) throws(ProtocolError) -> String {
        guard slot.kind == .string else {
            throw refusal(.wrongType, "field '\(field.name)' must be a string, not \(slot.kind.name)")
        }
        // Over the limit before it is decoded (an escape is at least 1 byte of the text).
        if slot.range.count - 2 > maxBytes * 6 {
            throw refusal(.tooLarge, "field '\(field.name)' is over \(maxBytes) bytes (the limit)")
        }
        let text = string(slot)
        if text.utf8.count > maxBytes {
            throw refusal(.tooLarge, "field '\(field.name)' is \(text.utf8.count) bytes; the limit is \(maxBytes)")
        }
        if text.isEmpty && !allowEmpty {
            throw refusal(.wrongType, "field '\(field.name)' must be a non-empty string")
        }
        return text
    }

    /// A required id or name (`run`, `lease`…): 1 to `maxNameBytes` bytes.
    func name(_ field: RequestField) throws(ProtocolError) -> String {
        try string(field, present(field, "string"), maxBytes: RequestFieldLimits.maxNameBytes, allowEmpty: false)
    }

    func optionalName(_ field: RequestField) throws(ProtocolError) -> String? {
        guard slots[field].present else { return nil }
        return try string(field, slots[field], maxBytes: RequestFieldLimits.maxNameBytes, allowEmpty: false)
    }

    /// Free text (`reason`, `comment`, `error`): up to `maxTextBytes` bytes, may be empty.
    func text(_ field: RequestField) throws(ProtocolError) -> String {
        try string(field, present(field, "string"), maxBytes: RequestFieldLimits.maxTextBytes, allowEmpty: true)
    }

    func optionalText(_ field: RequestField) throws(ProtocolError) -> String? {
        guard slots[field].present else { return nil }
        return try string(field, slots[field], maxBytes: RequestFieldLimits.maxTextBytes, allowEmpty: true)
    }

    func bool(_ field: RequestField, _ slot: RequestSlot) throws(ProtocolError) -> Bool {
        guard slot.kind == .bool else {
            throw refusal(.wrongType, "field '\(field.name)' must be a boolean, not \(slot.kind.name)")
        }
        return raw[slot.range.lowerBound] == UInt8(ascii: "t")
    }

    func bool(_ field: RequestField) throws(ProtocolError) -> Bool {
        try bool(field, present(field, "boolean"))
    }

    func optionalBool(_ field: RequestField) throws(ProtocolError) -> Bool? {
        guard slots[field].present else { return nil }
        return try bool(field, slots[field])
    }

    /// An optional integer in `range` (digits only: no sign, fraction or exponent).
    func optionalInteger(_ field: RequestField, in range: ClosedRange<Int>) throws(ProtocolError) -> Int? {
        let slot = slots[field]
        guard slot.present else { return nil }
        guard slot.kind == .number, let value = nonNegativeInteger(slot.range), range.contains(value) else {
            let shown = slot.kind == .number ? String(buffer: slice(slot.range)) : slot.kind.name
            throw refusal(.wrongType, "field '\(field.name)' must be an integer from \(range.lowerBound) to \(range.upperBound), not \(shown)")
        }
        return value
    }

    /// An optional JSON object, as received.
    func optionalObject(_ field: RequestField) throws(ProtocolError) -> RawJSON? {
        let slot = slots[field]
        guard slot.present else { return nil }
        guard slot.kind == .object else {
            throw refusal(.wrongType, "field '\(field.name)' must be an object, not \(slot.kind.name)")
        }
        return RawJSON(trusted: slice(slot.range))
    }

    /// An optional JSON value of any type, as received.
    func optionalValue(_ field: RequestField) -> RawJSON? {
        let slot = slots[field]
        return slot.present ? RawJSON(trusted: slice(slot.range)) : nil
    }

    /// The string elements of an array field (`capabilities`); the array is already validated.
    func strings(_ field: RequestField, _ slot: RequestSlot) throws(ProtocolError) -> [String] {
        guard slot.kind == .array else {
            throw refusal(.wrongType, "field '\(field.name)' must be an array of strings, not \(slot.kind.name)")
        }
        var elements: [(Range<Int>, JSONValueKind)] = []
        var scanner = JSONScanner(raw, maxDepth: Int.max, start: slot.range.lowerBound)
        try? scanner.elements(depth: 1) { range, kind in elements.append((range, kind)) }
        var out: [String] = []
        out.reserveCapacity(elements.count)
        for (k, (range, kind)) in elements.enumerated() {
            guard kind == .string else {
                throw refusal(.wrongType, "field '\(field.name)[\(k)]' must be a string, not \(kind.name)")
            }
            var element = RequestSlot()
            element.record(range, kind)
            out.append(string(element))
        }
        return out
    }
}
